"""``field__any_of=values``: membership in a long list of values, bound as one parameter.

``field__in=[...]`` writes one placeholder per value, and Django and psycopg quote and splice
each of them client-side: for the thousands of values of an import chunk (IDs, references,
household ids) that binding cost more than the index probes themselves. ``any_of`` sends the
values as one array on PostgreSQL (``field = ANY(%s)``, which PostgreSQL plans exactly as the
``IN`` list it rewrites to) and is ``in`` elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, ForeignObject
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import In
from django.db.models.sql.compiler import SQLCompiler


class _OneArray:
    """``as_sql`` of ``any_of``: the values as one array parameter on PostgreSQL."""

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> Any:
        lookup: Any = self
        if connection.vendor != "postgresql" or not lookup.rhs_is_direct_value():
            return super().as_sql(compiler, connection)  # type: ignore[misc]
        if not lookup.rhs:
            raise EmptyResultSet
        lhs, lhs_params = lookup.process_lhs(compiler, connection)
        field = lookup.lhs.output_field
        values = [field.get_db_prep_value(value, connection, prepared=True) for value in lookup.rhs]
        return f"{lhs} = ANY(%s)", (*lhs_params, values)


class AnyOf(_OneArray, In):
    """``field = ANY(array)`` on PostgreSQL, ``field IN (…)`` elsewhere; same rows as ``in``."""

    lookup_name = "any_of"


class RelatedAnyOf(_OneArray, RelatedIn):
    """``any_of`` on a foreign key (``household_id__any_of=…``, ``household__any_of=…``)."""

    lookup_name = "any_of"


def register() -> None:
    """Make ``any_of`` available on every field (called once, by the app's ``ready``)."""
    Field.register_lookup(AnyOf)
    ForeignObject.register_lookup(RelatedAnyOf)
