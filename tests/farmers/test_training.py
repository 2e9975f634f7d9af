"""Technical assistance and training (issue 17, point 2): events with their attendance (sex and
age from the member, never sent), idempotent creates and attendee additions, funding rules (a
funder, an agreement whose period holds the date), practices adopted, the query budget, the
admin and the field page, and the ``training`` indicator by sex with small-cell suppression."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers.models import Household, Member, PracticeAdoption, TrainingAttendance, TrainingEvent
from farmers.reporting import indicators
from registry.actors import Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.funding import funding_agreement_upsert
from registry.models import ChangeRecord, Organization, Program
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, UserFactory
from tests.farmers.conftest import ClientMaker
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
URL = "/api/v1/trainings/"
HELD = date(2026, 3, 10)


@pytest.fixture
def writer(client_for: ClientMaker) -> APIClient:
    return client_for()


@pytest.fixture
def funder(program: Program) -> Organization:
    return OrganizationFactory.create(code="usaid", kind=OrganizationKind.FUNDER)


def member(household: Household, sex: str, born: date, head: bool = False) -> Member:
    return Member.objects.create(
        household=household,
        given_names="Ana" if sex == "f" else "Luis",
        surnames="Quispe",
        sex=sex,
        birth_date=born,
        relationship="head" if head else "child",
        is_head=head,
    )


def family(program: Program, district: str = "080910") -> tuple[Household, Member, Member]:
    household = make_household(program, district=district)
    return (
        household,
        member(household, "f", date(1980, 3, 11), head=True),
        member(household, "m", date(2008, 3, 10)),
    )


def payload(**extra: Any) -> dict[str, Any]:
    return {
        "program": "pirdais",
        "district": "080910",
        "place": "Local comunal de Natividad",
        "date": HELD.isoformat(),
        "topic": "pruning_grafting",
        "facilitator": "Ing. Marco Paucar",
        "cost_pen": "1250,50",
        **extra,
    }


def codes(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def test_event_with_attendees_sex_and_age_from_members(
    program: Program, writer: APIClient, funder: Organization
) -> None:
    _household, mother, son = family(program)
    ident = str(uuid.uuid4())
    body = payload(id=ident, funding_source="usaid", attendees=[str(mother.pk), str(son.pk)])
    made = writer.post(URL, body, format="json")
    assert made.status_code == 201, made.content
    event = made.json()
    assert (event["cost_pen"], event["funding_source"], event["topic"]) == (
        "1250.50",
        "usaid",
        "pruning_grafting",
    )
    assert (event["attendees_count"], event["attendees_female"], event["attendees_male"]) == (
        2,
        1,
        1,
    )
    attendees = {a["member"]: (a["sex"], a["age"]) for a in event["attendees"]}
    # Ages on the event's date: 46 the day before her birthday, 18 on his.
    assert attendees == {str(mother.pk): ("f", 45), str(son.pk): ("m", 18)}
    # A phone's resend answers with the stored event; another payload with the id is a 409.
    again = writer.post(URL, body, format="json")
    assert again.status_code == 200 and again.json()["id"] == ident
    assert writer.post(URL, {**body, "place": "Otro"}, format="json").status_code == 409
    assert TrainingEvent.objects.count() == 1 and TrainingAttendance.objects.count() == 2
    assert ChangeRecord.objects.filter(object_id=ident).exists()
    detail = writer.get(f"{URL}{ident}/")
    assert detail.status_code == 200 and len(detail.json()["attendees"]) == 2


def test_attendees_added_idempotently(program: Program, writer: APIClient) -> None:
    _h, mother, son = family(program)
    _h2, other, _x = family(program)
    event = writer.post(URL, payload(attendees=[str(mother.pk)]), format="json").json()
    url = f"{URL}{event['id']}/attendees/"
    first = writer.post(url, {"members": [str(son.pk), str(mother.pk)]}, format="json")
    assert first.status_code == 200, first.content
    assert first.json()["attendees_count"] == 2
    again = writer.post(url, {"members": [str(son.pk), str(other.pk)]}, format="json")
    assert again.json()["attendees_count"] == 3
    assert TrainingAttendance.objects.count() == 3


def test_bad_input_is_refused_whole(
    program: Program, writer: APIClient, funder: Organization, client_for: ClientMaker
) -> None:
    _h, mother, _son = family(program)
    _elsewhere, stranger, _s = family(program, district="050407")  # Sivia: not the key's area
    OrganizationFactory.create(code="coop", kind=OrganizationKind.BUYER)
    funding_agreement_upsert(
        code="usaid-2025",
        funder_code="usaid",
        program_code="pirdais",
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 12, 31),
        budget_amount="100 000,00",
    )
    cases = [
        (payload(funding_source="coop"), ("funding_source", "not_funder")),
        (payload(funding_source="nadie"), ("funding_source", "does_not_exist")),
        (payload(funding_agreement="usaid-2025"), ("date", "outside_agreement")),
        (payload(topic="yoga"), ("topic", "invalid_choice")),
        (payload(cost_pen="-5"), ("cost_pen", "min_value")),
        (payload(attendees=[str(mother.pk), str(stranger.pk)]), ("attendees.1", "does_not_exist")),
        (payload(district="050407"), ("district", "out_of_area")),
        (payload(date="2099-01-01"), ("date", "future_date")),
    ]
    for body, expected in cases:
        response = writer.post(URL, body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert expected in codes(response), (expected, response.json())
    assert not TrainingEvent.objects.exists() and not TrainingAttendance.objects.exists()
    # Inside the agreement's period it is accepted, and the agreement names the source.
    ok = writer.post(URL, payload(date="2025-06-01", funding_agreement="usaid-2025"), format="json")
    assert ok.status_code == 201, ok.content
    assert (ok.json()["funding_source"], ok.json()["funding_agreement"]) == ("usaid", "usaid-2025")
    # Another area's event is not found; a funder's key (indicators only) may not read events.
    outsider = client_for(org=OrganizationFactory.create(code="lejos", kind="implementer"))
    assert outsider.get(f"{URL}{ok.json()['id']}/").status_code == 404
    funder_key = client_for(scopes=[Scope.INDICATORS_READ], org=funder)
    assert funder_key.get(URL).status_code == 403


def test_list_query_budget_is_flat(program: Program, writer: APIClient) -> None:
    _h, mother, son = family(program)
    assert writer.post(URL, payload(attendees=[str(mother.pk)]), format="json").status_code == 201
    writer.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(writer.get(f"{URL}?page_size=100").json()["results"]) == 1
    template = TrainingEvent.objects.get()
    for n in range(99):
        event = TrainingEvent.objects.create(
            program=program,
            district_id="080910",
            held_on=HELD - timedelta(days=n),
            topic="post_harvest",
            facilitator="X",
            created_by_key=template.created_by_key,
        )
        TrainingAttendance.objects.create(event=event, member=son, household=son.household)
    with CaptureQueriesContext(connection) as many:
        page = writer.get(f"{URL}?page_size=100").json()["results"]
        assert len(page) == 100
    assert len(one.captured_queries) == len(many.captured_queries)
    filtered = writer.get(f"{URL}?held_after=2026-03-10&held_before=2026-03-10").json()
    assert len(filtered["results"]) == 2


def test_practices_adopted_after_the_training(program: Program, writer: APIClient) -> None:
    household, mother, _son = family(program)
    event = writer.post(URL, payload(attendees=[str(mother.pk)]), format="json").json()
    body = {
        "household": str(household.pk),
        "member": str(mother.pk),
        "event": event["id"],
        "practice": "grafting",
        "adopted_on": "2026-03-01",
    }
    early = writer.post("/api/v1/practices/", body, format="json")
    assert early.status_code == 400 and ("adopted_on", "before_training") in codes(early)
    made = writer.post("/api/v1/practices/", {**body, "adopted_on": "2026-05-02"}, format="json")
    assert made.status_code == 201, made.content
    assert PracticeAdoption.objects.get().practice == "grafting"
    listed = writer.get("/api/v1/practices/?practice=grafting").json()["results"]
    assert [p["household"] for p in listed] == [str(household.pk)]


def test_training_indicator_counts_by_sex_with_suppression(
    program: Program, funder: Organization
) -> None:
    women = []
    men = []
    for _n in range(6):
        _h, mother, son = family(program)
        women.append(mother)
        men.append(son)
    event = TrainingEvent.objects.create(
        program=program,
        district_id="080910",
        held_on=HELD,
        topic="post_harvest",
        facilitator="X",
        funding_source=funder,
    )
    for person in [*women, *men[:3]]:
        TrainingAttendance.objects.create(event=event, member=person, household=person.household)
    actor = Actor(user=None, unrestricted=True, scopes=frozenset({Scope.INDICATORS_READ}))
    query = indicators.IndicatorQuery(metric="training", group_by=("program", "sex"))
    plain = indicators.indicator_rows(actor=actor, query=indicators.replace(query, suppress=False))
    assert {c["sex"]: (c["events"], c["attendees"], c["households"]) for c in plain} == {
        "f": (1, 6, 6),
        "m": (1, 3, 3),
    }
    cells = {c["sex"]: c for c in indicators.indicator_rows(actor=actor, query=query)}
    # 3 men is a small cell; the women's cell is its complement (the pair sums to a total).
    assert cells["m"]["suppressed"] and cells["m"]["attendees"] is None
    assert cells["f"]["suppressed"] and cells["f"]["households"] is None
    by_program = indicators.indicator_rows(
        actor=actor, query=indicators.replace(query, group_by=("program",))
    )
    assert [(c["attendees"], c["households"]) for c in by_program] == [(9, 6)]
    monthly = indicators.replace(query, group_by=("month",), suppress=False)
    assert [
        (c["month"], c["events"], c["attendees"])
        for c in indicators.indicator_rows(actor=actor, query=monthly)
    ] == [("2026-03", 1, 9)]
    # The period and funder filters narrow the events counted.
    later = indicators.replace(query, group_by=("program",), date_from=HELD + timedelta(days=1))
    assert indicators.indicator_rows(actor=actor, query=later) == []
    other = indicators.replace(query, group_by=("program",), funder="nadie")
    assert indicators.indicator_rows(actor=actor, query=other) == []


def test_indicators_api_accepts_training_by_sex(
    program: Program, client_for: ClientMaker, funder: Organization
) -> None:
    reader = client_for(scopes=[Scope.INDICATORS_READ])
    response = reader.get("/api/v1/indicators/?metric=training&group_by=district,sex")
    assert response.status_code == 200, response.content
    assert response.json()["group_by"] == ["district", "sex"]
    bad = reader.get("/api/v1/indicators/?metric=households&group_by=sex")
    assert bad.status_code == 200 and bad.json()["group_by"] == []


def _staff(program: Program) -> Any:
    role_groups_sync()
    user = UserFactory.create(is_staff=True)
    membership_assign(user=user, organization=program.agency, role=Role.PROGRAM_STAFF)
    return user


def test_admin_records_event_with_attendees_by_id_number(
    program: Program, funder: Organization
) -> None:
    _h, mother, _son = family(program)
    # Saved, not ``update()``d: the number's blind index is written on save (registry.crypto).
    mother.document_type, mother.document_number = "dni", "10117410"
    mother.save()
    client = Client()
    client.force_login(_staff(program))
    form = {
        "program": program.pk,
        "district": "080910",
        "held_on": "10/03/2026",
        "topic": "soil_fertility",
        "place": "Natividad",
        "facilitator": "Ing. Paucar",
        "cost_pen": "1 500,50",
        "funding_source": funder.pk,
        "note": "",
        "attendees_add": "10117410\n99999999",
        "attendances-TOTAL_FORMS": "0",
        "attendances-INITIAL_FORMS": "0",
    }
    url = "/admin/farmers/trainingevent/add/"
    refused = client.post(url, form)
    errors = re.findall(r"errorlist.*?</ul>", refused.content.decode(), re.S)
    assert refused.status_code == 200 and any("99999999" in e for e in errors), errors
    assert not TrainingEvent.objects.exists()
    done = client.post(url, {**form, "attendees_add": "10117410"})
    assert done.status_code == 302, done.content
    event = TrainingEvent.objects.get()
    assert event.cost_pen == Decimal("1500.50")
    assert list(event.attendances.values_list("member_id", flat=True)) == [mother.pk]
    page = client.get(f"/admin/farmers/trainingevent/{event.pk}/change/")
    assert page.status_code == 200 and "Ana Quispe" in page.content.decode()


def test_field_page_takes_attendance(program: Program, partner: Organization) -> None:
    _h, mother, son = family(program)
    officer = get_user_model().objects.create_user("tecnico.x", password="x")
    membership_assign(
        user=officer, organization=partner, role=Role.FIELD_OFFICER, district_ubigeos=["080910"]
    )
    client = Client()
    client.force_login(officer)
    page = client.get("/campo/capacitacion/080910/")
    assert page.status_code == 200
    assert (
        str(mother.pk) in page.content.decode()
        and 'data-outbox="training"' in page.content.decode()
    )
    assert client.get("/campo/capacitacion/050407/").status_code == 404
    posted = client.post(
        "/campo/capacitacion/080910/",
        {
            "id": str(uuid.uuid4()),
            "program": "pirdais",
            "date": "2026-03-10",
            "topic": "post_harvest",
            "facilitator": "Téc. Huamaní",
            "cost_pen": "980,50",
            "attendees": [str(mother.pk), str(son.pk)],
        },
    )
    assert posted.status_code == 302, posted.content
    event = TrainingEvent.objects.get()
    assert event.cost_pen == Decimal("980.50") and event.attendances.count() == 2


def test_practices_list_query_budget_is_flat(program: Program, writer: APIClient) -> None:
    household, mother, _son = family(program)
    body = {"household": str(household.pk), "practice": "drying", "adopted_on": "2026-05-02"}
    assert writer.post("/api/v1/practices/", body, format="json").status_code == 201
    url = "/api/v1/practices/?page_size=100"
    writer.get(url)
    with CaptureQueriesContext(connection) as one:
        assert len(writer.get(url).json()["results"]) == 1
    PracticeAdoption.objects.bulk_create(
        PracticeAdoption(
            household=household,
            member=mother,
            practice="composting",
            adopted_on=date(2026, 1, 1) + timedelta(days=n),
        )
        for n in range(99)
    )
    with CaptureQueriesContext(connection) as many:
        assert len(writer.get(url).json()["results"]) == 100
    assert len(one.captured_queries) == len(many.captured_queries)


def test_attendance_and_practices_follow_a_merged_family(program: Program) -> None:
    from farmers import services

    source, mother, _son = family(program)
    target, _head, _child = family(program)
    event = TrainingEvent.objects.create(
        program=program, district_id="080910", held_on=HELD, topic="other", facilitator="X"
    )
    TrainingAttendance.objects.create(event=event, member=mother, household=source)
    PracticeAdoption.objects.create(household=source, practice="drying", adopted_on=HELD)
    services.household_merge(
        actor=Actor(unrestricted=True, scopes=frozenset(Scope.values)), source=source, target=target
    )
    assert TrainingAttendance.objects.get().household_id == target.pk
    assert PracticeAdoption.objects.get().household_id == target.pk
