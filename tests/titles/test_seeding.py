"""seed_titles (portable and PostgreSQL ``COPY`` paths): every new NOT NULL column is written,
and the seeded files hold together (procedure, possession, working-day notice window)."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from titles.choices import Procedure, TitleStatus
from titles.models import TitleApplication
from titles.workdays import add_working_days

pytestmark = pytest.mark.django_db


def test_seed_titles_writes_consistent_files() -> None:
    call_command("seed_households", "--count", "12", stdout=StringIO())
    call_command("seed_titles", "--count", "60", "--chunk-size", "25", stdout=StringIO())
    files = list(TitleApplication.objects.all())
    assert len(files) == 60
    assert {f.procedure for f in files} <= set(Procedure.values)
    for application in files:
        assert application.possession_started_on is not None
        assert application.possession_started_on.year <= 2015
        if application.status in (TitleStatus.PUBLIC_NOTICE, TitleStatus.OBJECTED):
            assert application.notice_starts_on is not None
            assert application.notice_ends_on == add_working_days(application.notice_starts_on, 30)
