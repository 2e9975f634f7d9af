"""Set-based inserts of many rows: the seeders' and the ledger rebuild's one way to write in bulk.

PostgreSQL gets ``COPY … FROM STDIN`` (binding thousands of parameters client-side costs more
than the insert itself); other databases get ``bulk_create``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from django.db import connection, models


def copy_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    text: bytes | None = None,
) -> None:
    """Insert ``rows`` (values in the order of ``fields``, model field names): ``COPY`` on
    PostgreSQL, ``bulk_create`` elsewhere. A JSON column's objects and lists go in as ``jsonb``.
    ``text``: the same rows already in ``COPY``'s text format (``copy_text``), sent as they are
    on PostgreSQL."""
    concrete = [model._meta.get_field(f) for f in fields]
    columns = [f.column for f in concrete if isinstance(f, models.Field)]
    attnames = [f.attname for f in concrete if isinstance(f, models.Field)]
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        # A JSON column's objects and lists (consent purposes) go in as jsonb; JSON text stays
        # text.
        json_at = {i for i, f in enumerate(concrete) if isinstance(f, models.JSONField)}
        table = model._meta.db_table
        sql = f'COPY "{table}" ({", ".join(columns)}) FROM STDIN'
        # Errors as Django's (``IntegrityError`` on a unique index), as ``bulk_create`` raises.
        with (
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(sql) as copy,
        ):
            if text is not None:
                copy.write(text)
                return
            if not json_at:
                # No JSON column: the rows go as they are (no per-value work in Python).
                for row in rows:
                    copy.write_row(row)
                return
            for row in rows:
                values = list(row)
                for i in json_at:
                    if isinstance(values[i], dict | list):
                        values[i] = Jsonb(values[i])
                copy.write_row(values)
    else:
        # JSON columns travel as JSON text for COPY; the ORM wants the values themselves.
        json_names = {f.attname for f in concrete if isinstance(f, models.JSONField)}
        objects = [
            model(
                **{
                    name: json.loads(value)
                    if name in json_names and isinstance(value, str)
                    else value
                    for name, value in zip(attnames, row, strict=True)
                }
            )
            for row in rows
        ]
        model._default_manager.bulk_create(objects, batch_size=2000)


# PostgreSQL's ``COPY`` text format: these four characters are escaped, ``\N`` is NULL.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return value.translate(_COPY_ESCAPES)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is dict or kind is list:  # a JSON column's value
        return orjson.dumps(value).decode().translate(_COPY_ESCAPES)
    # Numbers, UUIDs, dates and aware date-times: their ``str`` is a form PostgreSQL reads.
    return str(value).translate(_COPY_ESCAPES)


def copy_text(rows: Iterable[Sequence[Any]]) -> bytes:
    """``rows`` in ``COPY``'s text format, as ``copy_rows`` would send them (a JSON column's
    objects and lists as JSON; strings, numbers, UUIDs, dates, date-times, booleans and
    ``None``). Pure Python with no connection: a thread that never touches the database can
    prepare a chunk's rows while another writes the chunk before (``copy_rows(text=…)``)."""
    lines = ["\t".join([_copy_value(value) for value in row]) for row in rows]
    lines.append("")
    return "\n".join(lines).encode()


def copy_instances(model: type[models.Model], objects: Sequence[models.Model]) -> None:
    """Insert unsaved ``objects`` of ``model`` exactly as ``bulk_create`` would write them
    (every field's ``pre_save`` and database preparation run: defaults, ``auto_now``,
    encryption and blind indexes), by ``COPY`` on PostgreSQL and ``bulk_create`` elsewhere.
    An auto-incremented primary key left empty is left to the database."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(list(objects), batch_size=2000)
        return
    opts = model._meta
    fields = [
        f
        for f in opts.concrete_fields
        if not (f.primary_key and isinstance(f, models.AutoField | models.BigAutoField))
    ]
    # ``pre_save`` first (it derives blind indexes from the clear value), then the preparation.
    prepared = [[f.pre_save(obj, True) for f in fields] for obj in objects]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(opts.db_table)} ({columns}) FROM STDIN"
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.cursor.copy(sql) as copy,
    ):
        for values in prepared:
            copy.write_row(
                [
                    f.get_db_prep_save(value, connection)
                    for f, value in zip(fields, values, strict=True)
                ]
            )


__all__ = ["copy_instances", "copy_rows"]
