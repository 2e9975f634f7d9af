"""``registry.bulk.copy_text``: rows made into ``COPY``'s text format off the job's thread are
stored exactly as ``copy_rows`` stores the same rows itself (psycopg's own ``write_row``)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from hypothesis import given, settings
from hypothesis import strategies as st

from farmers.models import Consent, Household
from registry.bulk import copy_rows, copy_text
from registry.models import ChangeRecord

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

# Any text PostgreSQL can store (no NUL), tabs, newlines, backslashes and accents included.
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)
RECORD_FIELDS = ["content_type", "object_id", "object_repr", "action", "changes", "channel", "at"]


def _stored(rows: list[list[Any]], *, prepared: bool) -> list[tuple[Any, ...]]:
    with transaction.atomic():
        sid = transaction.savepoint()
        copy_rows(ChangeRecord, RECORD_FIELDS, rows, text=copy_text(rows) if prepared else None)
        stored = list(
            ChangeRecord.objects.order_by("pk").values_list(
                "object_id", "object_repr", "action", "changes", "channel", "at"
            )
        )
        transaction.savepoint_rollback(sid)
    return stored


@settings(max_examples=30, deadline=None)
@given(
    texts=st.lists(
        st.tuples(TEXT, TEXT, st.dictionaries(TEXT, st.one_of(TEXT, st.lists(TEXT)))),
        min_size=1,
        max_size=5,
    ),
    at=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
)
def test_prepared_text_stores_what_write_row_stores(
    texts: list[tuple[str, str, dict[str, Any]]], at: datetime
) -> None:
    content_type = ContentType.objects.get_for_model(Household).pk
    when = at.replace(tzinfo=UTC)
    rows = [
        [content_type, object_id, repr_, "create", changes, "import", when]
        for object_id, repr_, changes in texts
    ]
    assert _stored(rows, prepared=True) == _stored(rows, prepared=False)


def test_nulls_booleans_dates_and_lists_as_write_row_stores_them() -> None:
    # The household's foreign key is checked at commit: each write here is rolled back first.
    household = uuid.uuid4()
    fields = [
        "household",
        "officer",
        "created_at",
        "signed_on",
        "purposes",
        "notice_version",
        "language",
    ]
    rows: list[list[Any]] = [
        [
            str(household),
            None,
            datetime(2026, 12, 1, 5, 0, 1, 250, tzinfo=UTC),
            date(2026, 2, 28),
            ["registry", "partner_sharing"],
            "v1\\2",
            "es",
        ],
        [household, None, datetime(2026, 12, 1, tzinfo=UTC), date(2000, 1, 1), [], "", "qu"],
    ]
    columns = (
        "household_id",
        "officer_id",
        "created_at",
        "signed_on",
        "purposes",
        "notice_version",
    )
    found = []
    for prepared in (True, False):
        with transaction.atomic():
            sid = transaction.savepoint()
            Consent.objects.filter(household_id=household).delete()
            copy_rows(Consent, fields, rows, text=copy_text(rows) if prepared else None)
            found.append(
                list(
                    Consent.objects.filter(household_id=household)
                    .order_by("pk")
                    .values_list(*columns)
                )
            )
            transaction.savepoint_rollback(sid)
    assert found[0] == found[1] and len(found[0]) == 2
    assert found[0][0][4] == ["registry", "partner_sharing"] and found[0][0][5] == "v1\\2"
    assert copy_text([[None, True, False, 7]]) == b"\\N\tt\tf\t7\n"
