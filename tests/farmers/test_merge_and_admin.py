"""Merging duplicate households (``farmers.services.household_merge``) and the farmers admin:
duplicate queue, household changelist, search, approval, CSV export, coca masking, no deletes."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from farmers import services
from farmers.models import (
    Agreement,
    Consent,
    Household,
    Member,
    Plot,
    PlotOverlap,
    PossibleDuplicate,
    Support,
    Verification,
)
from registry.actors import Actor
from registry.choices import Role
from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.exceptions import Conflict, InvalidTransition
from registry.models import ChangeRecord, Organization
from registry.services import membership_assign, role_groups_sync
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PICHARI = "080910"
CONSENT = {"signed_on": date(2025, 11, 2), "purposes": ["registry", "partner_sharing"]}

# Two captures of the same chacra east of Pichari (lon, lat), and the neighbour's plot that
# overlaps it along its eastern side.
CHACRA = [
    [-73.98, -12.52],
    [-73.9790785, -12.52],
    [-73.9790785, -12.5190959],
    [-73.98, -12.5190959],
    [-73.98, -12.52],
]
CHACRA_AGAIN = [
    [-73.97998, -12.51999],
    [-73.97909, -12.51999],
    [-73.97909, -12.51911],
    [-73.97998, -12.51911],
    [-73.97998, -12.51999],
]
VECINO = [
    [-73.97935, -12.52],
    [-73.97843, -12.52],
    [-73.97843, -12.51910],
    [-73.97935, -12.51910],
    [-73.97935, -12.52],
]


def member(
    given: str, surnames: str, dni: str, sex: str, born: date, relationship: str
) -> dict[str, Any]:
    return {
        "given_names": given,
        "surnames": surnames,
        "document_type": "dni",
        "document_number": dni,
        "sex": sex,
        "birth_date": born,
        "relationship": relationship,
    }


def person(username: str, organization: Organization | None, role: str | None) -> Any:
    user = UserFactory.create(
        username=username, first_name="Marleni", last_name="Ñaupari Cárdenas", is_staff=True
    )
    if organization is not None and role is not None:
        membership_assign(user=user, organization=organization, role=role)
    return user


def polygon(ring: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [ring]}


@dataclass
class Family:
    """The same family registered twice in Natividad, and a neighbour."""

    officer: Any
    supervisor: Any
    target: Household  # the older registration: Juana Quispe with her husband Pedro
    source: Household  # the newer one: Juana again (another DNI was written), and her son
    neighbour: Household  # Wilber Condori, whose plot overlaps the family's chacra
    duplicate_member: Member  # Pedro, written into the newer registration too


@pytest.fixture
def family(partner: Organization) -> Family:
    role_groups_sync()
    officer = person("tecnico.natividad", partner, Role.FIELD_OFFICER)
    supervisor = person("supervisora.pichari", partner, Role.SUPERVISOR)
    actor = Actor.for_user(officer)
    target, _ = services.household_register(
        actor=actor,
        program="pirdais",
        district=PICHARI,
        community="Natividad",
        members=[
            member("Juana", "Quispe Huamán", "10117410", "f", date(1980, 5, 1), "head"),
            member("Pedro", "Mamani Ccori", "42345678", "m", date(1978, 11, 20), "spouse"),
        ],
        consent=CONSENT,
    )
    source, _ = services.household_register(
        actor=actor,
        program="pirdais",
        district=PICHARI,
        community="Natividad",
        members=[
            member("Juana Rosa", "Quispe Huaman", "45678912", "f", date(1980, 5, 1), "head"),
            member("Luis", "Mamani Quispe", "40123456", "m", date(2005, 6, 12), "child"),
        ],
        consent={"signed_on": date(2026, 1, 20), "purposes": ["registry"]},
    )
    neighbour, _ = services.household_register(
        actor=actor,
        program="pirdais",
        district=PICHARI,
        community="Natividad",
        members=[member("Wilber", "Condori Apaza", "43345678", "m", date(1979, 8, 3), "head")],
        consent=CONSENT,
    )
    # Pedro also appears in the newer registration, from a paper form loaded before IDs were
    # enforced: the registry never lets two live members hold one ID, so it sits there unlive.
    duplicate = Member.objects.create(
        household=source,
        given_names="Pedro",
        surnames="Mamani Ccori",
        document_type="dni",
        document_number="42345678",
        sex="m",
        birth_date=date(1978, 11, 20),
        relationship="spouse",
        is_live=False,
    )
    return Family(officer, supervisor, target, source, neighbour, duplicate)


def add_evidence(family: Family) -> dict[str, Any]:
    """Give the newer registration a plot, an agreement, a visit and support."""
    actor = Actor.for_user(family.officer)
    target_plot, _ = services.plot_create(
        actor=actor,
        household=family.target.pk,
        name="Chacra Alta",
        tenure="possession",
        geometry=polygon(CHACRA),
    )
    source_plot, _ = services.plot_create(
        actor=actor,
        household=family.source.pk,
        name="Chacra Alta (segunda captura)",
        tenure="possession",
        geometry=polygon(CHACRA_AGAIN),
    )
    neighbour_plot, _ = services.plot_create(
        actor=actor,
        household=family.neighbour.pk,
        name="Chacra del vecino",
        tenure="owned_titled",
        geometry=polygon(VECINO),
    )
    agreement, _ = services.agreement_create(
        actor=actor,
        household=family.source.pk,
        signed_on=date(2026, 3, 1),
        coca_ha_committed="0.75",
    )
    visit, _ = services.verification_create(
        actor=actor,
        household=family.source.pk,
        visited_on=date(2026, 9, 14),
        method="field_visit",
        coca_ha="2.35",
        licit_crops=[{"crop": "cacao", "ha": "0.80"}],  # fits on its ~0.9 ha plot
        location={"lat": -12.5195, "lon": -73.9795},
    )
    support = services.support_record(
        actor=actor,
        household=family.source.pk,
        kind="inputs",
        cost_pen="850.00",
        given_on=date(2026, 4, 10),
        description="Plantones de cacao CCN-51",
    )
    return {
        "target_plot": target_plot,
        "source_plot": source_plot,
        "neighbour_plot": neighbour_plot,
        "agreement": agreement,
        "visit": visit,
        "support": support,
    }


def merge(family: Family) -> Household:
    return services.household_merge(
        actor=Actor.for_user(family.supervisor), source=family.source, target=family.target
    )


# --- the merge service ------------------------------------------------------------------------


def test_near_match_is_queued(family: Family) -> None:
    pair = PossibleDuplicate.objects.get()
    assert {pair.household_id, pair.candidate_id} == {family.source.pk, family.target.pk}
    assert pair.status == "open"


def test_merge_moves_plots_agreements_visits_support_and_consents(family: Family) -> None:
    evidence = add_evidence(family)
    merge(family)
    target, source = family.target, family.source
    assert Plot.objects.get(pk=evidence["source_plot"].pk).household_id == target.pk
    assert Agreement.objects.get(pk=evidence["agreement"].pk).household_id == target.pk
    assert Verification.objects.get(pk=evidence["visit"].pk).household_id == target.pk
    assert Support.objects.get(pk=evidence["support"].pk).household_id == target.pk
    assert Consent.objects.filter(household=target).count() == 2
    for model in (Plot, Agreement, Verification, Support, Consent):
        assert not model.objects.filter(household=source).exists(), model
    assert Plot.objects.get(pk=evidence["neighbour_plot"].pk).household_id == (family.neighbour.pk)


def test_merge_moves_new_members_and_deactivates_duplicates(family: Family) -> None:
    merge(family)
    target = Household.objects.get(pk=family.target.pk)
    live = {m.document_number: m for m in target.members.filter(is_active=True)}
    assert set(live) == {"10117410", "42345678", "45678912", "40123456"}
    assert [m.document_number for m in target.members.filter(is_head=True)] == ["10117410"]
    assert live["45678912"].relationship == "other"  # no longer a second head
    assert live["40123456"].relationship == "child"
    assert all(m.is_live for m in live.values())
    duplicate = Member.objects.get(pk=family.duplicate_member.pk)
    assert duplicate.household_id == family.source.pk
    assert (duplicate.is_active, duplicate.is_live) == (False, False)
    assert target.head_name == "Juana Quispe Huamán"


def test_merge_marks_the_source_merged_and_records_history_on_both(family: Family) -> None:
    add_evidence(family)
    merge(family)
    source = Household.objects.get(pk=family.source.pk)
    target = Household.objects.get(pk=family.target.pk)
    assert (source.status, source.merged_into_id) == ("merged", target.pk)
    assert target.status == "pending_review"
    assert not source.dedup_keys.exists()
    assert PossibleDuplicate.objects.get().status == "merged"

    on_source = ChangeRecord.objects.get(object_id=str(source.pk), action="transition")
    on_target = ChangeRecord.objects.get(
        object_id=str(target.pk), action="update", changes__has_key="merged_from"
    )
    for record in (on_source, on_target):
        assert record.created_by == family.supervisor
    assert on_source.changes["merged_into"] == target.code
    # The status change names the state the household left, like every other transition.
    assert on_source.changes["status"] == ["pending_review", "merged"]
    assert on_target.changes["merged_from"] == source.code
    assert {k: on_target.changes[k] for k in ("plots", "agreements", "verifications")} == {
        "plots": 1,
        "agreements": 1,
        "verifications": 1,
    }
    assert (on_target.changes["support"], on_target.changes["consents"]) == (1, 1)
    assert sorted(on_target.changes["members_moved"]) == [
        "Juana Rosa Quispe Huaman",
        "Luis Mamani Quispe",
    ]
    assert on_target.changes["members_already_here"] == ["Pedro Mamani Ccori"]


def test_merge_frees_no_id_and_cannot_run_twice(family: Family) -> None:
    add_evidence(family)
    merge(family)
    for dni in ("10117410", "42345678", "45678912", "40123456"):
        assert (
            Member.objects.filter(
                document_index=blind_index(PURPOSE_DOCUMENT, dni), is_live=True
            ).count()
            == 1
        ), dni
        with pytest.raises(Conflict) as caught:
            services.household_register(
                actor=Actor.for_user(family.officer),
                program="pirdais",
                district=PICHARI,
                members=[member("Nilda", "Huaranga Sosa", dni, "f", date(1990, 1, 9), "head")],
                consent={"signed_on": date(2025, 1, 2), "purposes": ["registry"]},
            )
        assert caught.value.code == "duplicate"
    history = ChangeRecord.objects.count()
    plots = Plot.objects.filter(household=family.target).count()
    with pytest.raises(InvalidTransition):
        merge(family)
    assert ChangeRecord.objects.count() == history
    assert Plot.objects.filter(household=family.target).count() == plots
    assert Member.objects.filter(household=family.target, is_active=True).count() == 4


def test_merge_refuses_itself_and_dead_households(family: Family) -> None:
    actor = Actor.for_user(family.supervisor)
    with pytest.raises(ValidationError) as itself:
        services.household_merge(actor=actor, source=family.target, target=family.target)
    assert "candidate" in itself.value.error_dict
    services.household_transition(
        actor=actor, household=family.neighbour, to="rejected", reason="Registro de prueba"
    )
    with pytest.raises(InvalidTransition):
        services.household_merge(actor=actor, source=family.neighbour, target=family.target)
    assert Household.objects.get(pk=family.neighbour.pk).merged_into_id is None


def test_merge_leaves_no_overlap_inside_one_household(family: Family) -> None:
    """Overlaps are between different households: the two captures of the same chacra stop
    overlapping once both belong to the merged family; the neighbour's overlap stays."""
    evidence = add_evidence(family)
    target_plot, source_plot = evidence["target_plot"], evidence["source_plot"]
    neighbour_plot = evidence["neighbour_plot"]
    assert PlotOverlap.objects.filter(plot=source_plot, other=target_plot).exists()
    assert PlotOverlap.objects.filter(plot=neighbour_plot).exists()
    merge(family)
    same_household = PlotOverlap.objects.filter(
        plot__household_id=family.target.pk, other__household_id=family.target.pk
    )
    assert not same_household.exists()
    assert PlotOverlap.objects.filter(plot=neighbour_plot, other=source_plot).exists()


# --- admin ------------------------------------------------------------------------------------


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def root() -> Any:
    return UserFactory.create(username="root", is_staff=True, is_superuser=True)


def test_duplicate_queue_lists_open_pairs_and_dismisses(family: Family, root: Any) -> None:
    client = login(root)
    url = reverse("admin:farmers_possibleduplicate_changelist")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert family.source.code in html and family.target.code in html
    pair = PossibleDuplicate.objects.get()
    response = client.post(url, {"action": "dismiss", "_selected_action": [pair.pk], "index": 0})
    assert response.status_code == 302
    pair.refresh_from_db()
    assert (pair.status, pair.resolved_by) == ("dismissed", root)
    assert ChangeRecord.objects.filter(
        object_id=str(pair.household_id), changes__has_key="possible_duplicate", created_by=root
    ).exists()
    assert Household.objects.get(pk=family.source.pk).status == "pending_review"


def test_duplicate_queue_merges_the_newer_into_the_older(family: Family, root: Any) -> None:
    add_evidence(family)
    client = login(root)
    pair = PossibleDuplicate.objects.get()
    response = client.post(
        reverse("admin:farmers_possibleduplicate_changelist"),
        {"action": "merge", "_selected_action": [pair.pk], "index": 0},
    )
    assert response.status_code == 302
    source = Household.objects.get(pk=family.source.pk)
    assert (source.status, source.merged_into_id) == ("merged", family.target.pk)
    assert PossibleDuplicate.objects.get().status == "merged"
    assert Plot.objects.filter(household=family.target).count() == 2
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(source.code in m and family.target.code in m for m in messages)


def test_a_field_officer_cannot_merge_or_dismiss(family: Family) -> None:
    """Deciding that two registrations are one family is a review decision: a field officer
    (whose admin is read-only) may look at the queue but not resolve it."""
    client = login(family.officer)
    url = reverse("admin:farmers_possibleduplicate_changelist")
    assert client.get(url).status_code == 200
    pair = PossibleDuplicate.objects.get()
    client.post(url, {"action": "merge", "_selected_action": [pair.pk], "index": 0})
    client.post(url, {"action": "dismiss", "_selected_action": [pair.pk], "index": 0})
    assert Household.objects.get(pk=family.source.pk).status == "pending_review"
    assert PossibleDuplicate.objects.get().status == "open"


def test_household_changelist_and_search(family: Family, root: Any) -> None:
    client = login(root)
    url = reverse("admin:farmers_household_changelist")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for household in (family.target, family.source, family.neighbour):
        assert household.code in html

    def found(term: str) -> set[Any]:
        response = client.get(url, {"q": term})
        assert response.status_code == 200
        return {h.pk for h in response.context["cl"].result_list}

    assert found(family.neighbour.code) == {family.neighbour.pk}
    assert found(family.neighbour.code.lower()) == {family.neighbour.pk}
    assert found("40123456") == {family.source.pk}  # Luis, a member who is not the head
    assert found("Quispe") == {family.target.pk, family.source.pk}
    assert found("condori apa") == {family.neighbour.pk}
    # Any word of the name, accents ignored (issue 18): both Quispe Huamán households.
    assert found("Huamán") == {family.target.pk, family.source.pk}
    # Any member's names (issue 18): Luis, a member of the source household, is found by his
    # name; every word must still match, so a name nobody has finds nothing.
    assert found("huaman luis") == {family.source.pk}
    assert found("huaman wilber") == set()
    assert found("99999999") == set()


def test_approve_action_respects_maker_checker(family: Family, partner: Organization) -> None:
    supervisor = family.supervisor
    own, _ = services.household_register(
        actor=Actor.for_user(supervisor),
        program="pirdais",
        district=PICHARI,
        community="Catarata",
        members=[member("Rosa", "Ccori Yupanqui", "44556677", "f", date(1986, 2, 14), "head")],
        consent=CONSENT,
    )
    client = login(supervisor)
    response = client.post(
        reverse("admin:farmers_household_changelist"),
        {"action": "approve", "_selected_action": [own.pk, family.neighbour.pk], "index": 0},
    )
    assert response.status_code == 302
    assert Household.objects.get(pk=own.pk).status == "pending_review"
    assert Household.objects.get(pk=family.neighbour.pk).status == "active"
    record = ChangeRecord.objects.get(object_id=str(family.neighbour.pk), action="transition")
    assert (record.created_by, record.channel) == (supervisor, "admin")
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(own.code in m for m in messages)
    assert not any(family.neighbour.code in m for m in messages)


def test_approve_action_needs_a_reviewer(family: Family) -> None:
    client = login(family.officer)
    client.post(
        reverse("admin:farmers_household_changelist"),
        {"action": "approve", "_selected_action": [family.neighbour.pk], "index": 0},
    )
    assert Household.objects.get(pk=family.neighbour.pk).status == "pending_review"


def test_export_csv_streams_one_line_per_household(family: Family, root: Any) -> None:
    client = login(root)
    chosen = [family.target, family.neighbour]
    response = client.post(
        reverse("admin:farmers_household_changelist"),
        {"action": "export_csv", "_selected_action": [h.pk for h in chosen], "index": 0},
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert content.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Código", "Programa", "Distrito"]
    assert "Jefe o jefa de hogar" in rows[0]
    assert len(rows) == 1 + len(chosen)
    by_code = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_code) == {h.code for h in chosen}
    assert by_code[family.target.code]["Jefe o jefa de hogar"] == "Juana Quispe Huamán"
    assert by_code[family.target.code]["Distrito"] == "Pichari"  # a name, not the ubigeo
    assert by_code[family.neighbour.code]["Estado"] == "Pendiente de revisión"


def test_coca_is_masked_in_the_admin_without_coca_read(family: Family, root: Any) -> None:
    evidence = add_evidence(family)
    visit = evidence["visit"]
    assert visit.coca_ha == Decimal("2.35")
    url = reverse("admin:farmers_verification_change", args=[visit.pk])

    officer_page = login(family.officer).get(url)
    assert officer_page.status_code == 200
    assert "•••" in officer_page.content.decode()
    assert "2,35" not in officer_page.content.decode()

    root_page = login(root).get(url)
    assert root_page.status_code == 200
    assert "2,35" in root_page.content.decode()
    assert "•••" not in root_page.content.decode()

    # Again for the officer after the superuser: nothing carries over between requests.
    assert "2,35" not in login(family.officer).get(url).content.decode()

    household_url = reverse("admin:farmers_household_change", args=[family.source.pk])
    household_page = login(family.officer).get(household_url)
    assert household_page.status_code == 200
    assert "2,35" not in household_page.content.decode()
    assert "0,75" not in household_page.content.decode()
    assert "2,35" in login(root).get(household_url).content.decode()


def offered_actions(changelist: Any) -> set[str]:
    """The actions a changelist offers (none at all: no action form)."""
    form = changelist.context["action_form"]
    return set() if form is None else {name for name, _label in form.fields["action"].choices}


def test_admin_never_offers_to_delete_households(family: Family, root: Any) -> None:
    client = login(root)
    changelist = client.get(reverse("admin:farmers_household_changelist"))
    actions = offered_actions(changelist)
    assert "delete_selected" not in actions
    assert {"approve", "export_csv"} <= set(actions)
    change = client.get(reverse("admin:farmers_household_change", args=[family.target.pk]))
    assert change.status_code == 200
    assert change.context["has_delete_permission"] is False
    delete = client.get(reverse("admin:farmers_household_delete", args=[family.target.pk]))
    assert delete.status_code == 403
    assert Household.objects.filter(pk=family.target.pk).exists()
    for name in ("possibleduplicate", "verification", "plot"):
        page = client.get(reverse(f"admin:farmers_{name}_changelist"))
        assert page.status_code == 200
        assert "delete_selected" not in offered_actions(page), name
