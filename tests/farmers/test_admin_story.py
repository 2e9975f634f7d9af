"""The household's whole story in the admin (issue 18, points 1 and 2): every kind of evidence on
one page, maps drawn on the server, photos and title documents opened within scope, approve and
reject from the page, labels instead of codes on every page touched, decimal comma in forms,
and a query budget that does not grow with the household's records."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst

from farmers import services
from farmers.choices import HouseholdStatus
from farmers.devtools.demo import square
from farmers.models import Household, Plot, Support, Verification
from markets.models import Contract
from registry.actors import Actor
from registry.admin_toolkit import DecimalCommaField
from registry.choices import Role
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.admin_text import codes_in, context_of, known_slugs
from titles.models import TitleApplication, TitleDocument

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(demo_for_module: None, db: None) -> None:
    """The demo, seeded once for this module (``tests.conftest.demo_for_module``)."""


def staff(username: str = "personal.devida") -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def outsider() -> Client:
    """Programme staff of another programme: none of the demo families is in their area."""
    agency = OrganizationFactory.create(code="otra-agencia", kind="program_agency", ruc="")
    ProgramFactory.create(code="otro", agency=agency)
    role_groups_sync()
    user = UserFactory.create(username="personal.otro", is_staff=True)
    membership_assign(user=user, organization=agency, role=Role.PROGRAM_STAFF)
    client = Client()
    client.force_login(user)
    return client


def change_url(obj: Any) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def the_fullest_household() -> Household:
    """The demo family with a title file with documents, a contract with deliveries, a visit
    with a photo and an alert: every kind of evidence."""
    with_title = set(
        TitleApplication.objects.filter(documents__isnull=False).values_list(
            "household_id", flat=True
        )
    )
    with_contract = set(
        Contract.objects.filter(deliveries__isnull=False).values_list("household_id", flat=True)
    )
    with_photo = set(Verification.objects.exclude(photo="").values_list("household_id", flat=True))
    from registry.models import Alert

    with_alert = set(Alert.objects.values_list("household_id", flat=True))
    ids = with_title & with_contract & with_photo & with_alert
    assert ids, "the demo data has a family with every kind of evidence"
    return Household.objects.get(pk=sorted(ids)[0])


# --- labels, never codes -------------------------------------------------------------------


def test_admin_pages_touched_show_labels_never_codes(demo: None) -> None:
    slugs = known_slugs()
    assert {"partner_sharing", "draft", "coffee_parchment", "pending_review"} <= slugs
    client = staff()
    pages = [
        reverse("admin:farmers_household_changelist"),
        reverse("admin:farmers_plot_changelist"),
        reverse("admin:titles_titleapplication_changelist"),
        reverse("admin:markets_contract_changelist"),
    ]
    for model in (Household, Plot, TitleApplication, Contract):
        pages += [change_url(obj) for obj in model.objects.all()]
    assert len(pages) > 40
    problems: dict[str, list[str]] = {}
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        found = codes_in(html, slugs)
        if found:
            problems[url] = [f"{code} in “{context_of(html, code)}”" for code in found]
    assert problems == {}


# Every admin page programme staff work in: each list, and up to three records of each.
STAFF_MODELS = [
    "farmers.household",
    "farmers.plot",
    "farmers.verification",
    "farmers.support",
    "farmers.cropinstallation",
    "farmers.eradication",
    "farmers.stagechange",
    "farmers.possibleduplicate",
    "farmers.exclusionproposal",
    "farmers.appeal",
    "farmers.visitcorrection",
    "farmers.trainingevent",
    "farmers.importjob",
    "farmers.datasubjectrequest",
    "titles.titleapplication",
    "markets.contract",
    "markets.delivery",
    "registry.alert",
    "registry.exportjob",
    "registry.webhooksubscription",
    "registry.webhookdelivery",
]


def walk(client: Client, labels: list[str], per_model: int = 3) -> dict[str, list[str]]:
    """The codes each page shows (pages with none left out)."""
    from django.apps import apps

    slugs = known_slugs()
    problems: dict[str, list[str]] = {}
    for label in labels:
        model = apps.get_model(label)
        meta = model._meta
        pages = [reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")]
        pages += [change_url(obj) for obj in model.objects.order_by("pk")[:per_model]]
        for url in pages:
            response = client.get(url, follow=True)  # an import job's page is the import's
            assert response.status_code == 200, url
            html = response.content.decode()
            found = codes_in(html, slugs)
            if found:
                problems[url] = [f"{code} in “{context_of(html, code)}”" for code in found]
    return problems


def test_every_staff_admin_page_shows_labels_never_codes(demo: None) -> None:
    """Walked as programme staff (and the webhook and export pages as the platform
    administrator, who keeps them): lists and records of households, plots, visits, support,
    crops, eradications, stage changes, reviews, training, imports, data-subject requests,
    title files, contracts, deliveries, alerts, exports and webhooks."""
    from registry.models import Alert

    records_of_every_kind()
    assert Alert.objects.exclude(subject_id="").exists()
    admin_only = {"registry.webhooksubscription", "registry.webhookdelivery", "registry.exportjob"}
    problems = walk(staff(), [m for m in STAFF_MODELS if m not in admin_only])
    problems.update(walk(staff("admin.plataforma"), sorted(admin_only)))
    # An alert about a record names it in words and links to its page (within scope).
    other = outsider()
    for alert in Alert.objects.exclude(subject_id="").select_related("subject_type")[:5]:
        subject = alert.subject_type.get_object_for_this_type(pk=alert.subject_id)
        html = staff().get(change_url(alert)).content.decode()
        assert f'<a href="{change_url(subject)}">' in html
        assert capfirst(str(subject._meta.verbose_name)) + f" {subject}" in unescape(html)
        assert other.get(change_url(alert)).status_code in (302, 403, 404)
    assert problems == {}, "\n".join(f"{url}: {found}" for url, found in problems.items())


def records_of_every_kind() -> None:
    """What the demo lacks for the walk: a data-subject request (with its deadline alert, an
    alert about a record that is not a household), an export job and a webhook subscription."""
    from farmers.services.rights import request_alerts_sync, request_register
    from registry.exporting import export_start, resource
    from registry.webhooks.services import subscription_create

    staff_actor = Actor.for_user(get_user_model().objects.get(username="personal.devida"))
    household = Household.objects.filter(status=HouseholdStatus.ACTIVE).order_by("code").first()
    assert household is not None
    request_register(
        actor=staff_actor,
        household=household,
        member=household.members.get(is_head=True, is_active=True),
        kind="access",
        received_on=timezone.localdate() - timedelta(days=40),
        channel="in_person",
        identity_check="DNI presentado en la oficina",
    )
    request_alerts_sync()
    admin_actor = Actor.for_user(get_user_model().objects.get(username="admin.plataforma"))
    export_start(actor=admin_actor, export=resource("households"), file_format="xlsx")
    from farmers.services.imports import import_job_create, import_job_run
    from tests.farmers.test_import_jobs import csv_bytes, person

    rows = [
        person("H-1", 1, district=household.district_id, program=household.program.code),
        person("H-2", 2, sex="x", relationship="tio", document_type="pas"),
    ]
    job = import_job_create(
        actor=staff_actor,
        upload=SimpleUploadedFile("hogares.csv", csv_bytes(rows)),
        filename="hogares.csv",
    )
    import_job_run(job.pk)
    subscription_create(
        actor=admin_actor,
        organization=household.program.agency,
        url="http://127.0.0.1:9/hooks",
        event_types=["household.status_changed", "alert.raised"],
    )


def test_the_walk_would_catch_a_code(demo: None) -> None:
    """The check itself fails on what it must reject (it cannot pass vacuously)."""
    slugs = known_slugs()
    assert codes_in("<td>draft → submitted</td>", slugs) != []
    assert codes_in('<td>["partner_sharing", "registry"]</td>', slugs) != []
    assert codes_in("<p>4cb39e9a-3d47-4508-921c-ca139023914c · 2025-10-27</p>", slugs) != []
    assert codes_in('<a href="/x/4cb39e9a-3d47-4508-921c-ca139023914c/">Borrador</a>', slugs) == []
    # A file name's extension is no code; the same word alone is.
    assert "xlsx" in slugs
    assert codes_in("<a>Descargar los errores (.xlsx)</a>", slugs) == []
    assert codes_in("<td>Por fase | validate</td>", slugs) != []


# --- the whole story on one page ---------------------------------------------------------------


def test_household_page_tells_the_whole_story(demo: None) -> None:
    household = the_fullest_household()
    response = staff().get(change_url(household))
    assert response.status_code == 200
    html = response.content.decode()
    for section in (
        "story-map",
        "story-titles",
        "story-contracts",
        "story-alerts",
        "story-history",
    ):
        assert f'id="{section}"' in html, section
    # The plots as an SVG drawn on the server, never as GeoJSON text.
    assert '<svg class="plot-map"' in html and "<path d=" in html
    assert '"coordinates"' not in html
    # The visit's photo and the title documents open through the admin, within scope.
    visit = Verification.objects.filter(household=household).exclude(photo="").first()
    assert visit is not None
    assert reverse("admin:farmers_verification_photo", args=[visit.pk]) in html
    document = TitleDocument.objects.filter(application__household=household).first()
    assert document is not None
    assert (
        reverse(
            "admin:titles_titleapplication_document", args=[document.application_id, document.pk]
        )
        in html
    )
    # Contracts with their deliveries, the link to the field page, the history in words.
    contract = Contract.objects.filter(household=household).first()
    assert contract is not None and change_url(contract) in html
    assert reverse("field:household", kwargs={"household_id": household.pk}) in html
    assert "Estado: " in html or "Estado:" in html


def test_field_page_links_to_the_admin_page_for_staff(demo: None) -> None:
    household = the_fullest_household()
    url = reverse("field:household", kwargs={"household_id": household.pk})
    page = staff().get(url)
    assert page.status_code == 200
    assert change_url(household) in page.content.decode()
    assert "data-admin-link" in page.content.decode()
    get_user_model().objects.filter(username="personal.devida").update(is_staff=False)
    not_staff = staff().get(url)
    assert not_staff.status_code == 200
    assert "data-admin-link" not in not_staff.content.decode()


def test_household_page_query_budget_does_not_grow(demo: None) -> None:
    household = the_fullest_household()
    client = staff()
    client.get(change_url(household))  # warm caches (content types, permissions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(change_url(household)).status_code == 200
    # Five more plots, each with a confirmed-looking visit, and more support.
    officer = get_user_model().objects.get(username="tecnico.pichari")
    system = Actor(user=officer, unrestricted=True)
    plot = Plot.objects.filter(household=household).first()
    assert plot is not None
    today = timezone.localdate()
    for n in range(5):
        new_plot, _created = services.plot_create(
            actor=system,
            household=household.pk,
            name=f"Parcela extra {n}",
            tenure="possession",
            geometry=square(plot.min_lon + 0.01 * (n + 1), plot.min_lat + 0.01, 60),
            crops=["cacao"],
            channel="admin",
        )
        services.verification_create(
            actor=system,
            household=household.pk,
            visited_on=today - timedelta(days=n + 1),
            method="field_visit",
            coca_ha=Decimal("0"),
            licit_crops=[{"crop": "cacao", "ha": "0.1"}],
            plots=[new_plot.pk],
            channel="admin",
        )
        services.support_record(
            actor=system,
            household=household.pk,
            kind="training",
            cost_pen=Decimal("10"),
            given_on=today - timedelta(days=n + 1),
            channel="admin",
        )
    assert Plot.objects.filter(household=household).count() >= 6
    with CaptureQueriesContext(connection) as many:
        assert client.get(change_url(household)).status_code == 200
    assert len(many.captured_queries) == len(few.captured_queries) <= 80


# --- evidence opened within scope ----------------------------------------------------------


def test_visit_photo_opens_within_scope_only(demo: None) -> None:
    visit = Verification.objects.exclude(photo="").first()
    assert visit is not None
    url = reverse("admin:farmers_verification_photo", args=[visit.pk])
    response = staff().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    assert outsider().get(url).status_code == 404


def test_title_document_opens_within_scope_only(demo: None) -> None:
    document = TitleDocument.objects.first()
    assert document is not None
    url = reverse(
        "admin:titles_titleapplication_document", args=[document.application_id, document.pk]
    )
    response = staff().get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert outsider().get(url).status_code == 404
    other = TitleDocument.objects.exclude(application_id=document.application_id).first()
    assert other is not None  # a document id under another file's URL is not found
    wrong = reverse(
        "admin:titles_titleapplication_document", args=[document.application_id, other.pk]
    )
    assert staff().get(wrong).status_code == 404


def test_plot_title_and_contract_pages_draw_maps_and_history(demo: None) -> None:
    client = staff()
    for obj in (Plot.objects.first(), TitleApplication.objects.first(), Contract.objects.first()):
        html = client.get(change_url(obj)).content.decode()
        assert '<svg class="plot-map"' in html, obj
        assert '"coordinates"' not in html
        assert 'class="story-history"' in html, obj


# --- approve and reject from the page ------------------------------------------------------------


def pending() -> Household:
    household = Household.objects.filter(status=HouseholdStatus.PENDING_REVIEW).first()
    assert household is not None
    return household


def test_review_buttons_only_where_the_person_may_review(demo: None) -> None:
    review = reverse("admin:farmers_household_review", args=[pending().pk])
    assert review in staff().get(change_url(pending())).content.decode()
    active = Household.objects.filter(status=HouseholdStatus.ACTIVE).first()
    assert active is not None
    assert "/review/" not in staff().get(change_url(active)).content.decode()


def test_reject_from_the_page_needs_a_reason_and_goes_through_the_workflow(demo: None) -> None:
    household = pending()
    url = reverse("admin:farmers_household_review", args=[household.pk])
    client = staff()
    refused = client.post(url, {"decision": "reject", "reason": ""})
    assert refused.status_code == 200
    assert refused.context["form"].errors["reason"]
    household.refresh_from_db()
    assert household.status == HouseholdStatus.PENDING_REVIEW
    done = client.post(url, {"decision": "reject", "reason": "Familia fuera del ámbito"})
    assert done.status_code == 302
    household.refresh_from_db()
    assert household.status == HouseholdStatus.REJECTED
    assert household.rejection_reason == "Familia fuera del ámbito"


def test_approve_from_the_page(demo: None) -> None:
    household = pending()
    url = reverse("admin:farmers_household_review", args=[household.pk])
    assert staff().post(url, {"decision": "approve"}).status_code == 302
    household.refresh_from_db()
    assert household.status == HouseholdStatus.ACTIVE


def test_the_maker_may_not_review_their_own_registration(demo: None) -> None:
    """Programme staff who registered a family themselves see no buttons, and the workflow
    refuses their decision (maker–checker) with the reason on the form."""
    client = staff()
    staff_actor = Actor.for_user(get_user_model().objects.get(username="personal.devida"))
    household, _created = services.household_register(
        actor=staff_actor,
        program="pirdais",
        district="080910",
        community="Natividad",
        members=[
            {
                "given_names": "Teodora",
                "surnames": "Ccori Yupanqui",
                "document_type": "dni",
                "document_number": "41234567",
                "sex": "f",
                "birth_date": date(1980, 1, 2),
                "relationship": "head",
            }
        ],
        consent={"signed_on": timezone.localdate(), "purposes": ["registry"]},
        channel="admin",
    )
    assert household.status == HouseholdStatus.PENDING_REVIEW
    url = reverse("admin:farmers_household_review", args=[household.pk])
    assert url not in client.get(change_url(household)).content.decode()
    response = client.post(url, {"decision": "approve"})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    household.refresh_from_db()
    assert household.status == HouseholdStatus.PENDING_REVIEW


def test_reject_action_asks_for_the_reason_then_rejects(demo: None) -> None:
    households = list(Household.objects.filter(status=HouseholdStatus.PENDING_REVIEW)[:2])
    assert len(households) == 2
    changelist = reverse("admin:farmers_household_changelist")
    client = staff()
    selected = [str(h.pk) for h in households]
    ask = client.post(changelist, {"action": "reject", "_selected_action": selected})
    assert ask.status_code == 200
    assert "admin/farmers/household/reject.html" in [t.name for t in ask.templates]
    assert Household.objects.filter(status=HouseholdStatus.REJECTED).count() == 0
    done = client.post(
        changelist,
        {"action": "reject", "_selected_action": selected, "apply": "1", "reason": "Duplicado"},
    )
    assert done.status_code == 302
    statuses = set(Household.objects.filter(pk__in=selected).values_list("status", flat=True))
    assert statuses == {HouseholdStatus.REJECTED}


# --- decimal comma ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value"),
    [("1,5", Decimal("1.5")), ("1.5", Decimal("1.5")), ("13 000,50", Decimal("13000.50"))],
)
def test_decimal_comma_field_accepts_what_people_type(typed: str, value: Decimal) -> None:
    assert DecimalCommaField(max_digits=12, decimal_places=2).clean(typed) == value


def test_decimal_comma_field_refuses_what_is_not_a_number() -> None:
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        DecimalCommaField(max_digits=12, decimal_places=2).clean("1,5,0")


def test_support_form_accepts_a_decimal_comma(demo: None) -> None:
    household = Household.objects.filter(status=HouseholdStatus.ACTIVE).first()
    assert household is not None
    response = staff().post(
        reverse("admin:farmers_support_add"),
        {
            "household": str(household.pk),
            "kind": "training",
            "description": "Taller de poda",
            "cost_pen": "850,50",
            "given_on": timezone.localdate().strftime("%d/%m/%Y"),
            "suspension_override": "",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Support.objects.filter(household=household, cost_pen=Decimal("850.50")).exists()


def test_alert_list_names_the_household_and_dates_in_words(demo: None) -> None:
    from registry.models import Alert

    alert = Alert.objects.exclude(household_id=None).first()
    assert alert is not None
    household = Household.objects.get(pk=alert.household_id)
    client = staff()
    url = reverse("admin:registry_alert_changelist")
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert household.code in html
    assert codes_in(html, known_slugs()) == []
    # One query names the households of the whole page (code, head's name and the consent
    # that says whether this reader may see the name).
    named = [
        q
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT "farmers_household"."id"')
        and '"farmers_household"."head_name"' in q["sql"]
        and "farmers_consent" in q["sql"]
    ]
    assert len(named) == 1


def test_title_file_page_query_budget_does_not_grow_with_its_history(demo: None) -> None:
    from django.db.models import Count

    files = list(
        TitleApplication.objects.annotate(moves=Count("status_changes", distinct=True)).order_by(
            "moves"
        )
    )
    short, long = files[0], files[-1]
    assert long.moves >= short.moves + 3
    client = staff()
    client.get(change_url(short))  # warm caches
    counts = []
    for application in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(change_url(application)).status_code == 200
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
