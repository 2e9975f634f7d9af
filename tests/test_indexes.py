"""The tables the nightly sweep writes carry no index another index already covers.

Every stage move of the transition engine is a non-HOT update of ``farmers_household`` (its
``stage`` is indexed), so each index there, on the ledger and on alerts costs one more entry per
moved household. An index whose columns (and operator classes) are a leading prefix of another
index's serves no query the longer one does not, and only costs writes.
"""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SWEPT_TABLES = ["farmers_household", "farmers_stagechange", "registry_alert"]

INDEXES = """
    SELECT i.relname,
           ix.indisunique,
           ix.indpred IS NOT NULL,
           ARRAY(SELECT a.attname || ':' || oc.opcname
                   FROM unnest(ix.indkey, ix.indclass) WITH ORDINALITY AS k(attnum, cls, n)
                   JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum
                   JOIN pg_opclass oc ON oc.oid = k.cls
                  ORDER BY k.n)
      FROM pg_index ix
      JOIN pg_class i ON i.oid = ix.indexrelid
      JOIN pg_class t ON t.oid = ix.indrelid
     WHERE t.relname = %s
"""


def _indexes(table: str) -> list[tuple[str, bool, bool, list[str]]]:
    with connection.cursor() as cursor:
        cursor.execute(INDEXES, [table])
        return [(name, unique, partial, list(cols)) for name, unique, partial, cols in cursor]


@pytest.mark.parametrize("table", SWEPT_TABLES)
def test_no_index_is_a_prefix_of_another(table: str) -> None:
    indexes = _indexes(table)
    assert indexes, table
    redundant = [
        (name, other)
        for name, unique, partial, cols in indexes
        if not unique and not partial
        for other, _u, other_partial, other_cols in indexes
        if other != name and not other_partial and other_cols[: len(cols)] == cols
    ]
    assert redundant == []


def test_household_text_keys_have_no_pattern_ops_twin() -> None:
    """``code`` is matched exactly (one unique index); the head's name is searched by prefix
    (one ``varchar_pattern_ops`` index); ``district_id`` is reached through composites."""
    columns = {name: cols for name, _u, _p, cols in _indexes("farmers_household")}
    leading = sorted(cols[0] for cols in columns.values())
    assert leading.count("code:text_ops") == 1
    assert "code:varchar_pattern_ops" not in leading
    assert leading.count("head_name_search:varchar_pattern_ops") == 1
    assert "head_name_search:text_ops" not in leading
    assert not any(col.startswith("district_id:varchar_pattern_ops") for col in leading)


def test_the_planner_knows_document_indexes_are_nearly_unique() -> None:
    # ``ANALYZE``'s sample underestimated them twenty-fold at a million households, and the
    # import's lookup of a chunk's 8,000 IDs became a scan of the members table
    # (migration ``farmers 0037``).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attoptions FROM pg_attribute "
            "WHERE attrelid = 'farmers_member'::regclass AND attname = 'document_index'"
        )
        (options,) = cursor.fetchone()
    assert "n_distinct=-0.5" in options
