"""Titles as the law runs them (issue 16 point 4): working days with Peru's holidays, the public
notice's last day (objections still accepted, the title only the day after), act dates (``on``)
that the clock and the guards run from, the procedure's years of possession, the tenures that
cannot be titled and the documents each procedure needs. Refusals write nothing."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from rest_framework.test import APIClient

from farmers.models import Plot
from registry.exceptions import Conflict
from registry.models import ChangeRecord, Organization, Program
from titles import services
from titles.choices import Procedure, TitleDocumentType, TitleStatus
from titles.models import TitleApplication, TitleSettings, TitleStatusChange
from titles.workdays import add_working_days, is_working_day, working_days_between

from .conftest import (
    FILING_DOCUMENTS,
    POSSESSION_SINCE,
    SYSTEM,
    FileMaker,
    attach,
    make_household,
)

S = TitleStatus
URL = "/api/v1/title-applications/"


# --- working days -------------------------------------------------------------------------------

WORKING_DAYS = [
    # (start, n, the n-th working day after start)
    (date(2026, 9, 1), 0, date(2026, 9, 1)),
    (date(2026, 9, 1), 3, date(2026, 9, 4)),  # Tue → Fri
    (date(2026, 9, 4), 1, date(2026, 9, 7)),  # Fri → Mon (the weekend is out)
    (date(2026, 7, 20), 5, date(2026, 7, 30)),  # 23, 28 and 29 July are holidays
    (date(2026, 12, 7), 1, date(2026, 12, 10)),  # 8 and 9 December
    (date(2026, 12, 24), 1, date(2026, 12, 28)),  # Christmas, then the weekend
    (date(2026, 4, 1), 1, date(2026, 4, 6)),  # Maundy Thursday, Good Friday, weekend
    (date(2026, 12, 31), 1, date(2027, 1, 4)),  # New Year's Day, then the weekend
]


@pytest.mark.parametrize(("start", "days", "expected"), WORKING_DAYS)
def test_working_days_skip_weekends_and_perus_holidays(
    start: date, days: int, expected: date
) -> None:
    assert add_working_days(start, days) == expected
    assert working_days_between(start, expected) == days


def test_holidays_and_weekends_are_not_working_days() -> None:
    assert not is_working_day(date(2026, 7, 28))  # Independence Day (a Tuesday)
    assert not is_working_day(date(2026, 8, 30))  # Santa Rosa de Lima (a Sunday)
    assert not is_working_day(date(2026, 9, 5))  # a Saturday
    assert is_working_day(date(2026, 9, 7))


# --- a file walked on fixed dates ---------------------------------------------------------------

LEGAL_REVIEW_ON = date(2026, 6, 1)


def _at_legal_review(make_file: FileMaker) -> TitleApplication:
    """A file submitted, surveyed and in legal review by 01/06/2026 (acts dated by ``today``)."""
    application = make_file(S.DRAFT)
    for target, day in (
        (S.SUBMITTED, date(2026, 5, 4)),
        (S.SURVEYED, date(2026, 5, 18)),
        (S.LEGAL_REVIEW, LEGAL_REVIEW_ON),
    ):
        application = services.title_application_transition(
            actor=SYSTEM, application=application.pk, to=target, today=day
        )
    return application


def _open_notice(make_file: FileMaker, program: Program, opens: date, days: int) -> Any:
    TitleSettings.objects.update_or_create(program=program, defaults={"public_notice_days": days})
    application = _at_legal_review(make_file)
    return services.title_application_transition(
        actor=SYSTEM, application=application.pk, to=S.PUBLIC_NOTICE, today=opens
    )


def _snapshot(pk: Any) -> tuple[Any, ...]:
    application = TitleApplication.objects.get(pk=pk)
    return (
        application.status,
        application.version,
        application.status_since,
        TitleStatusChange.objects.filter(application_id=pk).count(),
        ChangeRecord.objects.filter(object_id=str(pk)).count(),
    )


# (notice opens, working days, the day tried, objection accepted, title may issue)
NOTICE_DAYS = [
    # Holidays inside: opened Mon 20/07/2026 for 5 working days → last day Thu 30/07.
    (date(2026, 7, 20), 5, date(2026, 7, 29), True, False),  # the day before (a holiday)
    (date(2026, 7, 20), 5, date(2026, 7, 30), True, False),  # the last day
    (date(2026, 7, 20), 5, date(2026, 7, 31), False, True),  # the day after
    # Weekend after: opened Tue 01/09/2026 for 3 working days → last day Fri 04/09.
    (date(2026, 9, 1), 3, date(2026, 9, 3), True, False),  # the day before
    (date(2026, 9, 1), 3, date(2026, 9, 4), True, False),  # the last day
    (date(2026, 9, 1), 3, date(2026, 9, 5), False, True),  # the day after (a Saturday)
    # Weekend inside: opened Thu 03/09/2026 for 2 working days → last day Mon 07/09.
    (date(2026, 9, 3), 2, date(2026, 9, 5), True, False),  # a Saturday inside the window
    (date(2026, 9, 3), 2, date(2026, 9, 7), True, False),  # the last day
    (date(2026, 9, 3), 2, date(2026, 9, 8), False, True),  # the day after
]


@pytest.mark.django_db
@pytest.mark.parametrize(("opens", "days", "day", "objection_ok", "title_ok"), NOTICE_DAYS)
def test_notice_window_includes_its_last_day_and_the_title_issues_after_it(
    make_file: FileMaker,
    program: Program,
    opens: date,
    days: int,
    day: date,
    objection_ok: bool,
    title_ok: bool,
) -> None:
    # An objection on ``day``.
    application = _open_notice(make_file, program, opens, days)
    assert application.notice_starts_on == opens
    assert application.notice_ends_on == add_working_days(opens, days)
    assert application.due_on == application.notice_ends_on
    before = _snapshot(application.pk)
    if objection_ok:
        services.objection_file(
            actor=SYSTEM,
            application=application.pk,
            objector_name="Vecino",
            grounds="Linde",
            today=day,
        )
        assert TitleApplication.objects.get(pk=application.pk).status == S.OBJECTED
    else:
        with pytest.raises(Conflict) as refused:
            services.objection_file(
                actor=SYSTEM,
                application=application.pk,
                objector_name="Vecino",
                grounds="Linde",
                today=day,
            )
        assert refused.value.code == "notice_closed"
        assert _snapshot(application.pk) == before
        assert not application.objections.exists()
    # The title on ``day``: recorded that day, or on a later day with ``on`` = ``day``.
    for today, on in ((day, None), (day + timedelta(days=20), day)):
        fresh = _open_notice(make_file, program, opens, days)
        before = _snapshot(fresh.pk)
        if title_ok:
            titled = services.title_application_transition(
                actor=SYSTEM, application=fresh.pk, to=S.TITLE_ISSUED, today=today, on=on
            )
            assert titled.title_issued_on == day and titled.status_since == day
        else:
            with pytest.raises(Conflict) as refused:
                services.title_application_transition(
                    actor=SYSTEM, application=fresh.pk, to=S.TITLE_ISSUED, today=today, on=on
                )
            assert refused.value.code == "public_notice_open"
            assert refused.value.extra["notice_ends_on"] == fresh.notice_ends_on.isoformat()
            assert _snapshot(fresh.pk) == before


# --- act dates ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_act_dates_stamp_the_milestone_and_run_the_clock(make_file: FileMaker) -> None:
    application = _at_legal_review(make_file)
    on = date(2026, 7, 20)
    moved = services.title_application_transition(
        actor=SYSTEM, application=application.pk, to=S.PUBLIC_NOTICE, today=date(2026, 8, 3), on=on
    )
    assert (moved.notice_starts_on, moved.status_since) == (on, on)
    assert moved.notice_ends_on == add_working_days(on, 30)
    # Legal review ran with the authority from 01/06 to the act's date, in working days.
    assert moved.authority_days >= working_days_between(LEGAL_REVIEW_ON, on)
    change = ChangeRecord.objects.filter(object_id=str(moved.pk), action="transition").latest(
        "at", "id"
    )
    assert change.changes["on"] == on.isoformat()


# (move, act date relative to the previous act, today relative to the previous act, code)
BAD_ACT_DATES = [
    (S.PUBLIC_NOTICE, -1, 10, "before_previous_act"),
    (S.PUBLIC_NOTICE, 11, 10, "future"),
    (S.OBSERVED, 2, 10, "not_applicable"),  # a move that records no act takes today
]


@pytest.mark.django_db
@pytest.mark.parametrize(("to", "on_days", "today_days", "code"), BAD_ACT_DATES)
def test_bad_act_dates_are_field_errors_and_write_nothing(
    make_file: FileMaker, to: str, on_days: int, today_days: int, code: str
) -> None:
    application = _at_legal_review(make_file)
    before = _snapshot(application.pk)
    with pytest.raises(ValidationError) as refused:
        services.title_application_transition(
            actor=SYSTEM,
            application=application.pk,
            to=to,
            note="Falta la firma",
            today=LEGAL_REVIEW_ON + timedelta(days=today_days),
            on=LEGAL_REVIEW_ON + timedelta(days=on_days),
        )
    assert [e.code for e in refused.value.error_dict["on"]] == [code]
    assert _snapshot(application.pk) == before


@pytest.mark.django_db
def test_act_date_through_the_api(make_file: FileMaker, clients: dict[str, APIClient]) -> None:
    authority = clients["authority"]
    application = make_file(S.SURVEYED)
    url = f"{URL}{application.pk}/transition/"
    previous = application.status_since
    early = authority.post(
        url, {"to": "legal_review", "on": str(previous - timedelta(days=1))}, format="json"
    )
    assert early.status_code == 400
    assert [(e["attr"], e["code"]) for e in early.json()["errors"]] == [
        ("on", "before_previous_act")
    ]
    future = authority.post(
        url, {"to": "legal_review", "on": str(date.today() + timedelta(days=1))}, format="json"
    )
    assert future.status_code == 400 and future.json()["errors"][0]["attr"] == "on"
    assert _snapshot(application.pk)[1] == application.version
    done = authority.post(url, {"to": "legal_review", "on": str(previous)}, format="json")
    assert done.status_code == 200, done.json()
    body = done.json()
    assert body["legal_review_on"] == body["status_since"] == previous.isoformat()


# --- procedure, possession, tenure --------------------------------------------------------------

TODAY = date.today()


def _years_ago(years: int, days: int = 0) -> date:
    from registry.dates import add_months

    return add_months(TODAY, -12 * years) + timedelta(days=days)


# (procedure, possession began on, expected: None = filed, else the refusal's code)
POSSESSION = [
    (Procedure.PRESCRIPTION, _years_ago(5), None),  # exactly 5 years
    (Procedure.PRESCRIPTION, _years_ago(5, 1), "possession_too_recent"),  # a day short
    (Procedure.PRESCRIPTION, _years_ago(30), None),
    (Procedure.ADJUDICATION, date(2020, 12, 31), None),  # on the cut-off
    (Procedure.ADJUDICATION, date(2021, 1, 1), "possession_after_cutoff"),
    (Procedure.ADJUDICATION, TODAY + timedelta(days=1), "future"),
    ("usucapion", POSSESSION_SINCE, "invalid_choice"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("procedure", "since", "code"), POSSESSION)
def test_procedure_years_of_possession(
    program: Program, authority: Organization, procedure: str, since: date, code: str | None
) -> None:
    household, plot = make_household(program)
    count = TitleApplication.objects.count()
    call: dict[str, Any] = {
        "actor": SYSTEM,
        "household": household.pk,
        "plot": plot.pk,
        "authority": authority.code,
        "procedure": procedure,
        "possession_started_on": since,
    }
    if code is None:
        application, created = services.title_application_create(**call)
        assert created and application.procedure == procedure
        assert application.possession_started_on == since
        return
    error: Any
    with pytest.raises((Conflict, ValidationError)) as refused:
        services.title_application_create(**call)
    error = refused.value
    if isinstance(error, Conflict):
        assert error.code == code and error.attr == "possession_started_on"
    else:
        assert code in {e.code for errors in error.error_dict.values() for e in errors}
    assert TitleApplication.objects.count() == count


@pytest.mark.django_db
def test_prescription_years_are_a_setting_and_submission_rechecks(
    make_file: FileMaker, program: Program
) -> None:
    application = make_file(S.DRAFT)
    TitleApplication.objects.filter(pk=application.pk).update(
        procedure=Procedure.PRESCRIPTION, possession_started_on=_years_ago(6)
    )
    attach(application, TitleDocumentType.CADASTRAL_SEARCH)
    TitleSettings.objects.create(program=program, prescription_years=10)
    before = _snapshot(application.pk)
    with pytest.raises(Conflict) as refused:
        services.title_application_transition(
            actor=SYSTEM, application=application.pk, to=S.SUBMITTED
        )
    assert refused.value.code == "possession_too_recent"
    assert refused.value.extra["required_years"] == 10
    assert _snapshot(application.pk) == before
    # Without a possession date the file cannot be submitted either.
    TitleApplication.objects.filter(pk=application.pk).update(possession_started_on=None)
    with pytest.raises(Conflict) as missing:
        services.title_application_transition(
            actor=SYSTEM, application=application.pk, to=S.SUBMITTED
        )
    assert missing.value.code == "possession_start_missing"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("tenure", "titleable"),
    [
        ("community", False),
        ("owned_titled", False),
        ("rented", False),
        ("possession", True),
        ("other", True),
    ],
)
def test_drafts_refused_for_tenure_that_cannot_be_titled(
    program: Program,
    authority: Organization,
    clients: dict[str, APIClient],
    tenure: str,
    titleable: bool,
) -> None:
    household, plot = make_household(program)
    Plot.objects.filter(pk=plot.pk).update(tenure=tenure)
    body = {
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": authority.code,
        "possession_started_on": str(POSSESSION_SINCE),
    }
    response = clients["officer"].post(URL, body, format="json")
    if titleable:
        assert response.status_code == 201, response.json()
        return
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert (error["code"], error["attr"], error["tenure"]) == (
        "tenure_not_titleable",
        "plot",
        tenure,
    )
    assert not TitleApplication.objects.filter(plot=plot).exists()
    assert not ChangeRecord.objects.filter(changes__plot=str(plot.pk)).exists()


@pytest.mark.django_db
def test_submission_refused_when_the_plot_is_no_longer_titleable(make_file: FileMaker) -> None:
    application = make_file(S.DRAFT)
    Plot.objects.filter(pk=application.plot_id).update(tenure="rented")
    with pytest.raises(Conflict) as refused:
        services.title_application_transition(
            actor=SYSTEM, application=application.pk, to=S.SUBMITTED
        )
    assert refused.value.code == "tenure_not_titleable"
    assert TitleApplication.objects.get(pk=application.pk).status == S.DRAFT


# --- documents per procedure --------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("procedure", "missing"),
    [
        (Procedure.ADJUDICATION, ["neighbour_statement"]),
        (Procedure.PRESCRIPTION, ["neighbour_statement", "cadastral_search"]),
    ],
)
def test_submission_needs_the_procedures_documents(
    program: Program,
    authority: Organization,
    clients: dict[str, APIClient],
    procedure: str,
    missing: list[str],
) -> None:
    household, plot = make_household(program)
    officer = clients["officer"]
    created = officer.post(
        URL,
        {
            "id": str(uuid.uuid4()),
            "household": str(household.pk),
            "plot": str(plot.pk),
            "authority": authority.code,
            "procedure": procedure,
            "possession_started_on": str(POSSESSION_SINCE),
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    application = TitleApplication.objects.get(pk=pk)
    attach(
        application,
        *[kind for kind in FILING_DOCUMENTS if kind != TitleDocumentType.NEIGHBOUR_STATEMENT],
    )
    detail = officer.get(f"{URL}{pk}/").json()
    assert detail["procedure"] == procedure
    assert detail["possession_started_on"] == POSSESSION_SINCE.isoformat()
    assert detail["missing_documents"] == missing
    before = _snapshot(pk)
    refused = officer.post(f"{URL}{pk}/transition/", {"to": "submitted"}, format="json")
    assert refused.status_code == 409
    error = refused.json()["errors"][0]
    assert (error["code"], error["missing"]) == ("missing_documents", missing)
    assert _snapshot(pk) == before
    attach(application, *missing)
    assert officer.get(f"{URL}{pk}/").json()["missing_documents"] == []
    done = officer.post(f"{URL}{pk}/transition/", {"to": "submitted"}, format="json")
    assert done.status_code == 200, done.json()


@pytest.mark.django_db
def test_api_create_refuses_bad_procedure_input_and_writes_nothing(
    household_plot: Any, clients: dict[str, APIClient]
) -> None:
    household, plot = household_plot
    base = {"household": str(household.pk), "plot": str(plot.pk), "authority": "dra-cusco"}
    for extra, attr in (
        ({"procedure": "usucapion"}, "procedure"),
        ({"possession_started_on": "31/12/2015"}, "possession_started_on"),
        ({"possession_started_on": str(TODAY + timedelta(days=1))}, "possession_started_on"),
    ):
        response = clients["officer"].post(URL, {**base, **extra}, format="json")
        assert response.status_code == 400, response.json()
        assert {e["attr"] for e in response.json()["errors"]} == {attr}
    too_recent = clients["officer"].post(
        URL,
        {**base, "procedure": "prescription", "possession_started_on": str(TODAY)},
        format="json",
    )
    assert too_recent.status_code == 409
    error = too_recent.json()["errors"][0]
    assert (error["code"], error["required_years"]) == ("possession_too_recent", 5)
    assert not TitleApplication.objects.exists()
    # An empty date input (the field page's outbox) is no date: the draft is filed without one.
    empty = clients["officer"].post(URL, {**base, "possession_started_on": ""}, format="json")
    assert empty.status_code == 201, empty.json()
    assert empty.json()["possession_started_on"] is None


# --- the field page -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_field_page_offers_the_procedure_and_files_with_it(
    officer: Any, household_plot: Any, authority: Organization
) -> None:
    household, plot = household_plot
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    client.force_login(officer)
    url = f"/campo/hogares/{household.pk}/titulo/"
    html = client.get(url).content.decode()
    assert 'name="procedure"' in html and 'value="prescription"' in html
    assert 'name="possession_started_on"' in html
    base = {
        "id": str(uuid.uuid4()),
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": authority.code,
        "procedure": "prescription",
    }
    bad = client.post(url, {**base, "possession_started_on": "31-02-2015"})
    assert bad.status_code == 400 and not TitleApplication.objects.exists()
    short = client.post(url, {**base, "possession_started_on": TODAY.strftime("%d/%m/%Y")})
    assert short.status_code == 400 and not TitleApplication.objects.exists()
    done = client.post(url, {**base, "possession_started_on": "01/03/2012"})
    assert done.status_code == 302
    application = TitleApplication.objects.get(plot=plot)
    assert application.procedure == Procedure.PRESCRIPTION
    assert application.possession_started_on == date(2012, 3, 1)
