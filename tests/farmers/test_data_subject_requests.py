"""Data-subject requests (issue 19, Law 29733 / DS 016-2024-JUS): deadlines in working days,
the status machine, the access file, rectification through the member update, cancellation
(anonymisation that leaves the indicators unchanged), opposition (a narrower consent), alerts
before the deadline lapses, the admin queue's scoping, and refused input that writes nothing."""

from __future__ import annotations

import io
import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client, override_settings
from openpyxl import load_workbook
from rest_framework.test import APIClient

from farmers import services
from farmers.choices import RequestKind, RequestStatus
from farmers.models import (
    Consent,
    DataSubjectRequest,
    DedupKey,
    Household,
    Member,
)
from farmers.reporting import indicators
from farmers.reporting.indicators import IndicatorQuery
from registry.actors import Actor
from registry.choices import AlertKind, AlertSeverity, AlertStatus, OrganizationKind, Role
from registry.exceptions import Conflict, InvalidTransition, NotFound
from registry.history import access_log_record
from registry.models import Alert, ChangeRecord, Program
from registry.services import membership_assign, role_groups_sync
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory
from tests.farmers.conftest import WRITE, ClientMaker, household_payload
from tests.farmers.evidence_helpers import PICHARI_FIX, PNG, give_plot

pytestmark = pytest.mark.django_db

ANYONE = Actor(unrestricted=True)
RECEIVED = date(2026, 3, 2)  # a Monday
TODAY = date(2026, 3, 4)


def staff_user(program: Program, role: str = Role.PROGRAM_STAFF, admin: bool = False) -> Any:
    user = UserFactory.create(is_staff=admin)
    membership_assign(user=user, organization=program.agency, role=role)
    return user


def staff(program: Program) -> Actor:
    return Actor.for_user(staff_user(program))


def register_household(**overrides: Any) -> Household:
    payload = household_payload(**overrides)
    payload["members"] = [
        {**m, "birth_date": date.fromisoformat(m["birth_date"]), "phone": m.get("phone", "")}
        for m in payload["members"]
    ]
    payload["consent"]["signed_on"] = date.fromisoformat(payload["consent"]["signed_on"])
    household, _created = services.household_register(actor=ANYONE, channel="test", **payload)
    return household


def head(household: Household) -> Member:
    return household.members.get(is_head=True)


def new_request(
    actor: Actor, household: Household, kind: str, member: Member | None = None, **kw: Any
) -> DataSubjectRequest:
    return services.request_register(
        actor=actor,
        household=household,
        member=member,
        kind=kind,
        received_on=kw.pop("received_on", RECEIVED),
        channel=kw.pop("channel", "in_person"),
        identity_check=kw.pop("identity_check", "DNI presentado en la oficina de Pichari"),
        today=kw.pop("today", TODAY),
        **kw,
    )


# --- deadlines -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "received_on", "due_on"),
    [
        (RequestKind.ACCESS, date(2026, 3, 2), date(2026, 3, 30)),  # 20 working days
        (RequestKind.CANCELLATION, date(2026, 3, 2), date(2026, 3, 16)),  # 10 working days
        (RequestKind.OPPOSITION, date(2026, 3, 7), date(2026, 3, 20)),  # received on a Saturday
        # Over Fiestas Patrias (28, 29 July) and the battle of Junín (6 August).
        (RequestKind.RECTIFICATION, date(2026, 7, 27), date(2026, 8, 13)),
        (RequestKind.ACCESS, date(2026, 7, 20), date(2026, 8, 21)),
    ],
)
def test_the_deadline_counts_working_days(
    program: Program, kind: str, received_on: date, due_on: date
) -> None:
    household = register_household()
    request = new_request(
        staff(program), household, kind, received_on=received_on, today=date(2026, 9, 1)
    )
    assert request.due_on == due_on
    assert request.status == RequestStatus.RECEIVED


def test_the_deadlines_are_programme_settings(program: Program) -> None:
    program.dsr_other_days = 15
    program.save()
    request = new_request(staff(program), register_household(), RequestKind.OPPOSITION)
    assert request.due_on == date(2026, 3, 23)


# --- the status machine --------------------------------------------------------------------


def test_the_status_machine(program: Program) -> None:
    actor = staff(program)
    request = new_request(actor, register_household(), RequestKind.ACCESS)
    request = services.request_transition(actor=actor, request=request, to="in_progress")
    assert (request.status, request.version) == ("in_progress", 2)

    records = ChangeRecord.objects.count()
    with pytest.raises(ValidationError) as error:
        services.request_transition(actor=actor, request=request, to="extended")
    assert "reason" in error.value.message_dict
    request.refresh_from_db()
    assert (request.status, request.due_on, ChangeRecord.objects.count()) == (
        "in_progress",
        date(2026, 3, 30),
        records,
    )

    request = services.request_transition(
        actor=actor, request=request, to="extended", reason="Hay que reunir los expedientes."
    )
    assert request.status == "extended"
    assert request.due_on == date(2026, 4, 29)  # 20 more working days (2, 3 April holidays)
    assert request.extension_reason == "Hay que reunir los expedientes."
    with pytest.raises(InvalidTransition) as moved:
        services.request_transition(actor=actor, request=request, to="extended", reason="otra")
    assert moved.value.code == "invalid_transition"

    with pytest.raises(ValidationError):
        services.request_transition(actor=actor, request=request, to="refused")
    request = services.request_transition(
        actor=actor, request=request, to="refused", reason="La persona no acreditó identidad."
    )
    assert request.status == "refused"
    assert request.decision_note == "La persona no acreditó identidad."
    assert request.decided_by == actor.user
    with pytest.raises(InvalidTransition):
        services.request_transition(actor=actor, request=request, to="answered")


def test_only_the_programme_staff_handle_requests(program: Program) -> None:
    household = register_household()
    supervisor = Actor.for_user(staff_user(program, Role.SUPERVISOR))
    with pytest.raises(Exception) as refused:
        new_request(supervisor, household, RequestKind.ACCESS)
    assert getattr(refused.value, "status_code", None) == 403
    request = new_request(staff(program), household, RequestKind.ACCESS)
    with pytest.raises(NotFound):
        services.request_transition(actor=supervisor, request=request, to="in_progress")
    other = ProgramFactory.create(
        code="otro",
        agency=OrganizationFactory.create(
            code="otra-agencia", kind=OrganizationKind.PROGRAM_AGENCY
        ),
    )
    with pytest.raises(NotFound):
        services.request_transition(actor=staff(other), request=request, to="in_progress")
    assert DataSubjectRequest.objects.get().status == "received"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("kind", "erasure", "invalid_choice"),
        ("channel", "pigeon", "invalid_choice"),
        ("identity_check", "  ", "required"),
        ("received_on", date(2026, 3, 5), "future_date"),
    ],
)
def test_a_bad_request_is_refused_and_writes_nothing(
    program: Program, field: str, value: Any, code: str
) -> None:
    household = register_household()
    actor = staff(program)
    records = ChangeRecord.objects.count()
    kw: dict[str, Any] = {"kind": RequestKind.ACCESS, field: value}
    kind = kw.pop("kind")
    with pytest.raises(ValidationError) as error:
        new_request(actor, household, kind, **kw)
    assert error.value.error_dict[field][0].code == code
    assert not DataSubjectRequest.objects.exists()
    assert ChangeRecord.objects.count() == records


def test_a_member_of_another_household_is_refused(program: Program) -> None:
    household = register_household()
    other = register_household(
        members=[
            {
                "given_names": "Rosa",
                "surnames": "Condori",
                "document_type": "dni",
                "document_number": "20304050",
                "sex": "f",
                "birth_date": "1990-01-15",
                "relationship": "head",
            }
        ]
    )
    with pytest.raises(ValidationError) as error:
        new_request(staff(program), household, RequestKind.ACCESS, member=head(other))
    assert error.value.error_dict["member"][0].code == "does_not_exist"
    assert not DataSubjectRequest.objects.exists()


# --- access ----------------------------------------------------------------------------------


def test_the_access_file_holds_everything_about_the_person(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    person = head(household)
    plot = give_plot(household.pk)
    visit, _created = services.verification_create(
        actor=ANYONE,
        household=household.pk,
        visited_on=date(2026, 1, 10),
        method="field_visit",
        coca_ha="0",
        location=PICHARI_FIX,
        today=TODAY,
    )
    services.agreement_create(
        actor=ANYONE, household=household.pk, signed_on=date(2026, 1, 5), coca_ha_committed="0.5"
    )
    services.support_record(
        actor=ANYONE,
        household=household.pk,
        kind="inputs",
        cost_pen="350.50",
        given_on=date(2026, 1, 20),
        description="Plantones de cacao",
    )
    reader = staff_user(program)
    access_log_record(
        actor=Actor.for_user(reader),
        resource="households",
        object_ids=[str(household.pk)],
        fields=["stage"],
    )
    request = new_request(actor, household, RequestKind.ACCESS, member=person)

    data = json.loads(services.access_json(actor=actor, request=request))
    (req,) = data["request"]
    assert (req["kind"], req["received_on"], req["due_on"], req["member"]) == (
        "access",
        "2026-03-02",
        "2026-03-30",
        str(person.pk),
    )
    (hh,) = data["household"]
    assert (hh["code"], hh["district"], hh["program"], hh["head_name"]) == (
        household.code,
        "080910",
        program.pk,
        "Juana Quispe Huamán",
    )
    first = data["members"][0]  # the person first
    assert first["id"] == str(person.pk)
    assert (first["given_names"], first["surnames"]) == ("Juana", "Quispe Huamán")
    assert (first["document_type"], first["document_number"]) == ("dni", "10117410")
    assert (first["birth_date"], first["sex"], first["phone"]) == (
        "1980-05-01",
        "f",
        person.phone,
    )
    assert [m["given_names"] for m in data["members"]] == ["Juana", "Pedro"]
    (p,) = data["plots"]
    assert (p["id"], p["name"], p["tenure"], p["area_ha"]) == (
        str(plot.pk),
        "Chacra de prueba",
        "possession",
        str(plot.area_ha),
    )
    assert p["geometry"] == plot.geometry
    (v,) = data["visits"]
    assert (v["id"], v["visited_on"], v["coca_ha"], v["latitude"]) == (
        str(visit.pk),
        "2026-01-10",
        "0.0000",
        "-12.520000",
    )
    (a,) = data["agreements"]
    assert (a["signed_on"], a["coca_ha_committed"]) == ("2026-01-05", "0.5000")
    (s,) = data["support"]
    assert (s["kind"], s["cost_pen"], s["description"]) == (
        "inputs",
        "350.50",
        "Plantones de cacao",
    )
    (c,) = data["consents"]
    assert (c["signed_on"], sorted(c["purposes"])) == (
        "2025-11-02",
        ["partner_sharing", "registry"],
    )
    assert data["title_files"] == [] and data["contracts"] == [] and data["deliveries"] == []
    history = {(h["record_type"], h["action"]) for h in data["history"]}
    assert ("hogar", "create") in history or ("household", "create") in history
    assert any(h["changes"].get("kind") == "access" for h in data["history"])
    (read,) = [r for r in data["reads"] if r["resource"] == "households"]
    assert (read["by"], read["fields"]) == (str(reader), ["stage"])

    workbook = load_workbook(io.BytesIO(services.access_xlsx(actor=actor, request=request)))
    assert {"Solicitud", "Hogar", "Miembros", "Parcelas", "Visitas", "Consentimientos"} <= set(
        workbook.sheetnames
    )
    sheet = workbook["Miembros"]
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    assert (row["given_names"], row["document_number"]) == ("Juana", "10117410")
    # Each download is logged as a read of the household.
    assert data["reads"][-1]["resource"] in {"households", "data_subject_access"}


def test_the_access_file_is_not_given_outside_the_programme(program: Program) -> None:
    request = new_request(staff(program), register_household(), RequestKind.ACCESS)
    supervisor = Actor.for_user(staff_user(program, Role.SUPERVISOR))
    with pytest.raises(NotFound):
        services.access_json(actor=supervisor, request=request)


# --- rectification -------------------------------------------------------------------------


def test_a_rectification_goes_through_the_member_update_with_history(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    person = head(household)
    request = new_request(actor, household, RequestKind.RECTIFICATION, member=person)
    services.request_transition(
        actor=actor,
        request=request,
        to="answered",
        note="Se corrigió el apellido.",
        changes={"surnames": "Quispe Huamani"},
    )
    person.refresh_from_db()
    assert person.surnames == "Quispe Huamani"
    household.refresh_from_db()
    assert household.head_name == "Juana Quispe Huamani"
    record = ChangeRecord.objects.filter(object_id=str(household.pk), action="update").get()
    assert record.changes["data_subject_request"] == str(request.pk)
    assert record.changes["members"]["changed"][str(person.pk)]["surnames"] == [
        "Quispe Huamán",
        "Quispe Huamani",
    ]
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("answered", "Se corrigió el apellido.")


def test_a_rectification_without_values_writes_nothing(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    request = new_request(actor, household, RequestKind.RECTIFICATION, member=head(household))
    records = ChangeRecord.objects.count()
    with pytest.raises(ValidationError) as error:
        services.request_transition(actor=actor, request=request, to="answered", changes={})
    assert "changes" in error.value.message_dict
    request.refresh_from_db()
    assert (request.status, request.version, ChangeRecord.objects.count()) == (
        "received",
        1,
        records,
    )


# --- cancellation ----------------------------------------------------------------------------


def _indicators() -> dict[str, Any]:
    out = {}
    for metric, group_by in [
        ("households", ("stage", "district", "program")),
        ("flows", ("district",)),
        ("cost_per_household", ("program",)),
        ("tenure", ("district",)),
    ]:
        query = IndicatorQuery(metric=metric, group_by=group_by, suppress=False, today=TODAY)
        out[metric] = indicators.indicator_rows(actor=ANYONE, query=query)
    return out


def _cancel(program: Program, household: Household, member: Member | None = None) -> Any:
    actor = staff(program)
    request = new_request(actor, household, RequestKind.CANCELLATION, member=member)
    return actor, services.request_transition(
        actor=actor, request=request, to="answered", note="Datos cancelados."
    )


def test_a_cancelled_household_is_anonymised_and_the_indicators_stay(program: Program) -> None:
    household = register_household()
    other = register_household(
        members=[
            {
                "given_names": "Rosa",
                "surnames": "Condori Rojas",
                "document_type": "dni",
                "document_number": "20304050",
                "sex": "f",
                "birth_date": "1990-06-15",
                "relationship": "head",
                "phone": "912 345 678",
            }
        ]
    )
    plot = give_plot(household.pk)
    area = plot.area_ha
    services.support_record(
        actor=ANYONE, household=household.pk, kind="inputs", cost_pen="200", given_on=TODAY
    )
    media = tempfile.mkdtemp(prefix="dsr-photo-")
    with override_settings(MEDIA_ROOT=media):
        visit, _created = services.verification_create(
            actor=ANYONE,
            household=household.pk,
            visited_on=date(2026, 1, 10),
            method="field_visit",
            coca_ha="0",
            location=PICHARI_FIX,
            today=TODAY,
        )
        services.verification_attach_photo(
            actor=ANYONE,
            verification=visit,
            photo=SimpleUploadedFile("foto.png", PNG, content_type="image/png"),
        )
        visit.refresh_from_db()
        photo_path = Path(media) / visit.photo.name
        assert photo_path.exists()
        phones = list(Member.objects.filter(household=household).values_list("phone", flat=True))
        assert DedupKey.objects.filter(household=household).exists()
        before = _indicators()

        with pytest.MonkeyPatch.context() as patch:
            callbacks: list[Any] = []
            patch.setattr("django.db.transaction.on_commit", lambda fn, **kw: callbacks.append(fn))
            _actor, request = _cancel(program, household)
            for fn in callbacks:
                fn()
        assert not photo_path.exists()

    assert request.status == "answered"
    assert _indicators() == before
    household.refresh_from_db()
    assert (household.stage, household.district_id, household.program_id) == (
        "enrolled",
        "080910",
        program.pk,
    )
    assert household.head_name == "Anonimizado"
    juana = Member.objects.get(household=household, is_head=True)
    assert (juana.given_names, juana.surnames, juana.document_number, juana.phone) == (
        "Anonimizado",
        "Anonimizado",
        "",
        "",
    )
    assert juana.birth_date == date(1980, 1, 1)
    assert not DedupKey.objects.filter(household=household).exists()
    assert DedupKey.objects.filter(household=other).exists()
    plot.refresh_from_db()
    assert plot.area_ha == area and plot.geometry["type"] == "Point"
    assert plot.name == "Anonimizado"
    visit.refresh_from_db()
    assert (visit.photo.name, visit.latitude, visit.longitude) == ("", None, None)
    # The history stays, naming the request, without the person in it.
    record = ChangeRecord.objects.filter(
        object_id=str(household.pk), changes__data_subject_request=str(request.pk)
    ).get()
    assert record.changes["anonymised"]["members"] == 2
    assert ChangeRecord.objects.filter(object_id=str(household.pk), action="create").exists()

    # A raw read of the database finds no name, ID or phone of the family; the other family's
    # data are untouched.
    secrets = ["Juana", "Quispe", "Huamán", "Pedro", "Mamani", "10117410", "42345678"]
    secrets += [p for p in phones if p]
    tables = [
        "farmers_member",
        "farmers_household",
        "farmers_plot",
        "farmers_datasubjectrequest",
        "registry_changerecord",
        "farmers_possibleduplicate",
    ]
    with connection.cursor() as cursor:
        dump = ""
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            dump += repr(cursor.fetchall())
    for secret in secrets:
        assert secret not in dump, secret
    assert "Rosa" in dump
    # The other family's ID is untouched (encrypted at rest, so read through the ORM).
    assert Member.objects.filter(given_names="Rosa").get().document_number == "20304050"


def test_cancelling_one_member_keeps_the_others(program: Program) -> None:
    household = register_household()
    pedro = household.members.get(is_head=False)
    _cancel(program, household, member=pedro)
    pedro.refresh_from_db()
    assert (pedro.given_names, pedro.document_number, pedro.birth_date) == (
        "Anonimizado",
        "",
        date(1978, 1, 1),
    )
    household.refresh_from_db()
    assert household.head_name == "Juana Quispe Huamán"
    assert head(household).document_number == "10117410"
    # The search finds the family by the names left, not by the cancelled person's.
    assert household.names_search == " anonimizado huaman juana quispe"


def test_a_cancelled_person_cannot_be_rectified(program: Program) -> None:
    household = register_household()
    person = head(household)
    actor, _request = _cancel(program, household)
    request = new_request(actor, household, RequestKind.RECTIFICATION, member=person)
    records = ChangeRecord.objects.count()
    person.refresh_from_db()
    with pytest.raises(Conflict) as error:
        services.request_transition(
            actor=actor, request=request, to="answered", changes={"given_names": "Juana"}
        )
    assert error.value.code == "person_anonymised"
    person.refresh_from_db()
    request.refresh_from_db()
    assert (person.given_names, request.status, ChangeRecord.objects.count()) == (
        "Anonimizado",
        "received",
        records,
    )


# --- opposition ------------------------------------------------------------------------------


def test_an_opposition_narrows_the_consent(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    request = new_request(actor, household, RequestKind.OPPOSITION, member=head(household))
    services.request_transition(
        actor=actor, request=request, to="answered", purposes=["partner_sharing"]
    )
    latest, first = Consent.objects.filter(household=household).order_by("-created_at", "-id")
    assert sorted(first.purposes) == ["partner_sharing", "registry"]
    assert latest.purposes == ["registry"]
    assert latest.officer == actor.user
    record = ChangeRecord.objects.get(
        object_id=str(household.pk), changes__data_subject_request=str(request.pk)
    )
    assert record.changes["consent"]["opposed"] == ["partner_sharing"]


def test_an_opposition_with_an_unknown_purpose_writes_nothing(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    request = new_request(actor, household, RequestKind.OPPOSITION)
    with pytest.raises(ValidationError):
        services.request_transition(actor=actor, request=request, to="answered", purposes=["x"])
    assert Consent.objects.filter(household=household).count() == 1
    request.refresh_from_db()
    assert request.status == "received"


# --- alerts ----------------------------------------------------------------------------------


def test_alerts_before_the_deadline_and_when_overdue(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    request = new_request(actor, household, RequestKind.CANCELLATION)  # due 16 March
    assert services.request_alerts_sync(today=date(2026, 3, 10))["created"] == 0  # 4 days left
    result = services.request_alerts_sync(today=date(2026, 3, 11))  # 3 working days left
    assert (result["approaching"], result["created"]) == (1, 1)
    alert = Alert.objects.get(kind=AlertKind.DSR_DUE)
    assert (alert.severity, alert.household_id, alert.due_on) == (
        AlertSeverity.INFO,
        household.pk,
        date(2026, 3, 16),
    )
    assert alert.owner_role == Role.PROGRAM_STAFF
    assert services.request_alerts_sync(today=date(2026, 3, 12))["created"] == 0  # idempotent
    result = services.request_alerts_sync(today=date(2026, 3, 17))
    assert (result["overdue"], result["created"], result["resolved"]) == (1, 1, 1)
    late = Alert.objects.get(kind=AlertKind.DSR_DUE, status=AlertStatus.OPEN)
    assert late.severity == AlertSeverity.WARNING
    live = ["open", "acknowledged"]
    extended = services.request_transition(
        actor=actor, request=request, to="extended", reason="Falta ubicar los expedientes."
    )
    assert extended.due_on == date(2026, 3, 30)
    assert not Alert.objects.filter(kind=AlertKind.DSR_DUE, status__in=live).exists()
    assert services.request_alerts_sync(today=date(2026, 3, 17))["created"] == 0
    assert services.request_alerts_sync(today=date(2026, 3, 25))["created"] == 1
    services.request_transition(
        actor=actor, request=request, to="refused", reason="No es titular de los datos."
    )
    assert not Alert.objects.filter(
        kind=AlertKind.DSR_DUE, status__in=["open", "acknowledged"]
    ).exists()


def test_the_alert_task_is_on_the_beat_schedule() -> None:
    from django.conf import settings

    from farmers.tasks import raise_request_alerts

    entry = settings.CELERY_BEAT_SCHEDULE["data-subject-request-alerts"]
    assert entry["task"] == raise_request_alerts.name == "farmers.tasks.raise_request_alerts"


# --- the admin -------------------------------------------------------------------------------

QUEUE = "/admin/farmers/datasubjectrequest/"


def admin_client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_admin_queue_is_scoped_and_overdue_first(program: Program) -> None:
    role_groups_sync()
    actor = staff(program)
    household = register_household()
    late = new_request(actor, household, RequestKind.CANCELLATION, received_on=date(2026, 1, 5))
    later = new_request(actor, household, RequestKind.ACCESS)
    other_program = ProgramFactory.create(
        code="otro",
        agency=OrganizationFactory.create(
            code="otra-agencia", kind=OrganizationKind.PROGRAM_AGENCY
        ),
    )
    hidden = register_household(
        program="otro",
        members=[
            {
                "given_names": "Rosa",
                "surnames": "Condori",
                "document_type": "dni",
                "document_number": "20304050",
                "sex": "f",
                "birth_date": "1990-01-15",
                "relationship": "head",
            }
        ],
    )
    hidden_request = new_request(staff(other_program), hidden, RequestKind.ACCESS)

    client = admin_client(staff_user(program, admin=True))
    page = client.get(QUEUE)
    assert page.status_code == 200
    text = page.content.decode()
    assert str(late.pk) in text and str(later.pk) in text and str(hidden_request.pk) not in text
    assert text.index(str(late.pk)) < text.index(str(later.pk))  # the earliest deadline first
    assert "Cancelación" in text or "Cancellation" in text

    detail = client.get(f"{QUEUE}{later.pk}/change/")
    assert detail.status_code == 200
    assert f"{later.pk}/acceso.xlsx" in detail.content.decode()
    download = client.get(f"{QUEUE}{later.pk}/acceso.json")
    assert download.status_code == 200
    assert json.loads(download.content)["request"][0]["id"] == str(later.pk)
    assert client.get(f"{QUEUE}{hidden_request.pk}/acceso.json").status_code == 404
    xlsx = client.get(f"{QUEUE}{later.pk}/acceso.xlsx")
    assert "Miembros" in load_workbook(io.BytesIO(xlsx.content)).sheetnames

    supervisor = admin_client(staff_user(program, Role.SUPERVISOR, admin=True))
    assert supervisor.get(QUEUE).status_code == 403
    assert supervisor.get(f"{QUEUE}{later.pk}/acceso.json").status_code in (403, 404)


def test_the_admin_actions_move_requests_through_the_services(program: Program) -> None:
    role_groups_sync()
    household = register_household()
    request = new_request(staff(program), household, RequestKind.ACCESS)
    client = admin_client(staff_user(program, admin=True))
    response = client.post(
        QUEUE,
        {"action": "extend", "_selected_action": [str(request.pk)], "note": ""},
        follow=True,
    )
    assert response.status_code == 200
    request.refresh_from_db()
    assert request.status == "received"  # no reason: refused, nothing written
    client.post(
        QUEUE,
        {"action": "extend", "_selected_action": [str(request.pk)], "note": "Volumen de datos"},
    )
    request.refresh_from_db()
    assert (request.status, request.extension_reason) == ("extended", "Volumen de datos")
    client.post(QUEUE, {"action": "answer", "_selected_action": [str(request.pk)], "note": "Ok"})
    request.refresh_from_db()
    assert (request.status, request.decision_note) == ("answered", "Ok")


def test_registering_from_the_admin_goes_through_the_service(program: Program) -> None:
    role_groups_sync()
    household = register_household()
    client = admin_client(staff_user(program, admin=True))
    form = {
        "household": str(household.pk),
        "member": str(head(household).pk),
        "kind": "access",
        "received_on": "02/03/2026",
        "channel": "letter",
        "identity_check": "Copia de DNI adjunta",
        "details": "",
    }
    response = client.post(f"{QUEUE}add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    request = DataSubjectRequest.objects.get()
    assert (request.kind, request.due_on, request.channel) == (
        "access",
        date(2026, 3, 30),
        "letter",
    )
    assert ChangeRecord.objects.filter(object_id=str(request.pk), action="create").exists()
    bad = client.post(f"{QUEUE}add/", {**form, "identity_check": " "})
    assert bad.status_code == 200
    assert DataSubjectRequest.objects.count() == 1


def test_request_alerts_are_shown_to_the_programme_only(
    program: Program, client_for: ClientMaker
) -> None:
    actor = staff(program)
    household = register_household()
    new_request(actor, household, RequestKind.CANCELLATION)
    services.request_alerts_sync(today=date(2026, 3, 17))
    alert = Alert.objects.get(kind=AlertKind.DSR_DUE)
    partner_key = client_for(WRITE)
    assert partner_key.get("/api/v1/alerts/").json()["results"] == []
    assert partner_key.get(f"/api/v1/alerts/{alert.pk}/").status_code == 404
    person = APIClient()
    person.force_login(actor.user)
    ids = [row["id"] for row in person.get("/api/v1/alerts/").json()["results"]]
    assert ids == [str(alert.pk)]
