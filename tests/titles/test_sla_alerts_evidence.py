"""SLA clocks, the daily overdue-alert task, the evidence provider and the demo seeder."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from farmers.transition.evidence import TITLE_APPLIED, TITLE_REGISTERED, gather, providers
from registry.choices import AlertKind, AlertSeverity, AlertStatus
from registry.dates import add_months
from registry.models import Alert, Program
from titles import selectors, services
from titles.choices import TitleStatus
from titles.clock import recompute_clock, settings_for
from titles.models import AuthorityNoticeDays, TitleApplication, TitleSettings
from titles.tasks import raise_overdue_alerts
from titles.workdays import add_working_days, working_days_between

from .conftest import SYSTEM, FileMaker, make_household

S = TitleStatus


def test_add_months_clamps_to_the_month_end() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 12) == date(2027, 11, 15)
    assert add_months(date(2026, 12, 1), 1) == date(2027, 1, 1)


@pytest.mark.django_db
def test_due_dates_follow_programme_settings(make_file: FileMaker, program: Program) -> None:
    application = make_file(S.DRAFT)
    assert application.due_on is None  # a draft runs no clock
    TitleSettings.objects.create(program=program, submitted_days=10, alert_percent=50)
    application = services.title_application_transition(
        actor=SYSTEM, application=application.pk, to=S.SUBMITTED
    )
    today = date.today()
    # Working days (weekends and Peru's holidays out).
    assert application.due_on == add_working_days(today, 10)
    assert application.warn_on == add_working_days(today, 5)
    assert application.file_due_on == add_months(today, 12)
    # The whole-file deadline caps every state's target.
    application.file_due_on = today + timedelta(days=3)
    recompute_clock(application, settings_for(program.pk))
    assert application.due_on == today + timedelta(days=3)


@pytest.mark.django_db
def test_public_notice_lasts_the_programmes_title_setting(
    make_file: FileMaker, program: Program
) -> None:
    # Without title settings the notice lasts the default 30 working days; with them, their
    # window; an authority with a window of its own in the programme, that one.
    assert settings_for(program.pk).public_notice_days == 30
    cfg = TitleSettings.objects.create(program=program, public_notice_days=45)
    application = services.title_application_transition(
        actor=SYSTEM, application=make_file(S.LEGAL_REVIEW).pk, to=S.PUBLIC_NOTICE
    )
    today = date.today()
    assert (application.notice_starts_on, application.notice_ends_on) == (
        today,
        add_working_days(today, 45),
    )
    assert application.due_on == add_working_days(today, 45)
    AuthorityNoticeDays.objects.create(
        settings=cfg, authority=application.authority, public_notice_days=20
    )
    application = services.title_application_transition(
        actor=SYSTEM, application=make_file(S.LEGAL_REVIEW).pk, to=S.PUBLIC_NOTICE
    )
    assert application.notice_ends_on == add_working_days(today, 20)


@pytest.mark.django_db
def test_clock_splits_time_between_parties(make_file: FileMaker) -> None:
    application = make_file(S.REGISTERED)
    # file_in_state moves every 5 days (the title the day after the notice's last day), from a
    # past date (so the draft counts 0 days): submitted → public notice with the authority,
    # title issued with the programme, then SUNARP; in working days.
    assert application.submitted_on and application.title_issued_on
    assert application.sent_to_sunarp_on and application.registered_on
    assert application.programme_days == working_days_between(
        application.title_issued_on, application.sent_to_sunarp_on
    )
    assert application.authority_days == working_days_between(
        application.submitted_on, application.title_issued_on
    )
    assert application.sunarp_days == working_days_between(
        application.sent_to_sunarp_on, application.registered_on
    )
    assert application.family_days == 0


@pytest.mark.django_db
def test_overdue_task_raises_once_and_resolves(make_file: FileMaker) -> None:
    late = make_file(S.SUBMITTED)
    soon = make_file(S.LEGAL_REVIEW)
    fine = make_file(S.SURVEYED)
    today = date.today()
    TitleApplication.objects.filter(pk=late.pk).update(
        due_on=today - timedelta(days=2), warn_on=today - timedelta(days=20)
    )
    TitleApplication.objects.filter(pk=soon.pk).update(
        due_on=today + timedelta(days=2), warn_on=today - timedelta(days=1)
    )
    TitleApplication.objects.filter(pk=fine.pk).update(
        due_on=today + timedelta(days=20), warn_on=today + timedelta(days=10)
    )
    result = raise_overdue_alerts.delay().get()
    assert result == {"overdue": 1, "approaching": 1, "created": 2, "resolved": 0}
    live = Alert.objects.filter(kind=AlertKind.TITLE_OVERDUE, status=AlertStatus.OPEN)
    assert {(a.key, a.severity) for a in live} == {
        (f"title:{late.pk}:submitted", AlertSeverity.WARNING),
        (f"title:{soon.pk}:legal_review:approaching", AlertSeverity.INFO),
    }
    late_alert = live.get(severity=AlertSeverity.WARNING)
    assert late_alert.household_id == late.household_id
    assert late_alert.district_id == "080910"
    # A rerun creates nothing new.
    assert raise_overdue_alerts.delay().get()["created"] == 0
    assert Alert.objects.filter(kind=AlertKind.TITLE_OVERDUE).count() == 2
    # The approaching file becomes overdue: its "approaching" alert is replaced.
    TitleApplication.objects.filter(pk=soon.pk).update(due_on=today - timedelta(days=1))
    result = raise_overdue_alerts.delay().get()
    assert result["created"] == 1 and result["resolved"] == 1
    # A move resolves the alerts of the state it leaves.
    services.title_application_transition(
        actor=SYSTEM, application=late.pk, to=S.REJECTED, reason="litigation"
    )
    assert not Alert.objects.filter(
        key__startswith=f"title:{late.pk}:", status=AlertStatus.OPEN
    ).exists()
    assert raise_overdue_alerts.delay().get()["overdue"] == 1


@pytest.mark.django_db
def test_evidence_provider_is_registered_and_answers_in_one_query(
    make_file: FileMaker, program: Program
) -> None:
    assert providers()["titles"] is selectors.title_facts
    registered = make_file(S.REGISTERED)
    submitted = make_file(S.SUBMITTED)
    draft = make_file(S.DRAFT)
    facts = gather(
        [registered.household_id, submitted.household_id, draft.household_id], date.today()
    )
    kinds = {(f.household_id, f.kind, f.on) for facts_ in facts.values() for f in facts_}
    assert kinds == {
        (registered.household_id, TITLE_APPLIED, registered.submitted_on),
        (registered.household_id, TITLE_REGISTERED, registered.registered_on),
        (submitted.household_id, TITLE_APPLIED, submitted.submitted_on),
    }
    ids = [registered.household_id]
    with CaptureQueriesContext(connection) as one:
        list(selectors.title_facts(ids, date.today()))
    many = [make_household(program, lon=-73.0 + i * 0.01)[0].pk for i in range(99)] + ids
    with CaptureQueriesContext(connection) as hundred:
        facts_many = list(selectors.title_facts(many, date.today()))
    assert len(one.captured_queries) == len(hundred.captured_queries) == 1
    assert len(facts_many) == 2


@pytest.mark.django_db
def test_demo_seeder_is_idempotent(db: Any) -> None:
    from django.core.management import call_command

    call_command("seed_demo", "--force", verbosity=0)
    first = dict(TitleApplication.objects.values_list("pk", "status"))
    assert len(first) >= 10
    assert {S.DRAFT, S.SUBMITTED, S.REGISTERED, S.OBSERVED, S.REJECTED} <= set(first.values())
    versions = dict(TitleApplication.objects.values_list("pk", "version"))
    call_command("seed_demo", "--force", verbosity=0)
    assert dict(TitleApplication.objects.values_list("pk", "version")) == versions
