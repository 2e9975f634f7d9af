"""Identifiers encrypted at rest (AES-256-GCM) with keyed blind indexes for exact lookup.

National ID numbers and phones are personal data whose leak in a dump or a backup harms the
families the registry serves (Law 29733). They are stored as **envelopes**
``v1.<key id>.<base64(nonce ‖ ciphertext ‖ tag)>``: AES-256-GCM from the ``cryptography``
library, a fresh 96-bit nonce per value, the column's purpose (``document``, ``phone``) as
associated data so a ciphertext cannot be moved to another column. The key id (8 hex characters
of a hash of the key) names the key that encrypted the value, so rotation finds the values not
yet under the current key with a ``LIKE`` and decryption picks the key without trying them all.

Exact lookup cannot compare ciphertexts (every encryption differs), so each encrypted column has
a **blind index** beside it: HMAC-SHA256 of the normalised value under a *separate* key,
truncated to 128 bits (32 hex characters), indexed with a plain btree. ``WHERE document_index =
blind_index("document", "10117410")`` is as fast as the clear-text lookup was. A blind index
answers "equal?" only: no prefix, partial or range search on these columns.

Keys come from settings (``IDENTIFIER_ENCRYPTION_KEYS``: a list, the first encrypts, all
decrypt; ``IDENTIFIER_INDEX_KEY``), each the URL-safe base64 of 32 random bytes. Without them the
embedded default and the tests derive fixed development keys (``IDENTIFIER_DEV_KEYS_ALLOWED``);
production refuses to start encrypting with those and ``check --deploy`` fails (``checks.py``).
See docs/data-protection.md, "Encrypted identifiers".
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import connection, models, transaction
from django.db.models.lookups import Exact, IsNull

ENVELOPE_VERSION = "v1"
KEY_BYTES = 32
NONCE_BYTES = 12
INDEX_HEX_LENGTH = 32  # 128 bits of HMAC-SHA256
# Longest envelope: 12-character values (a CE, a 16-character E.164 phone at most) give
# "v1." + 8 + "." + base64(12 + 16 + 16 bytes) = 72 characters; 100 leaves room.
ENVELOPE_MAX_LENGTH = 100

PURPOSE_DOCUMENT = "document"
PURPOSE_PHONE = "phone"

_DEV_SEED = b"farmer-registry development identifier key (never in production)"


class IdentifierKeyError(ImproperlyConfigured):
    """A key in the settings is missing or malformed, or no key can decrypt a value."""


def generate_key() -> str:
    """A new random key in the settings' format (URL-safe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def _decode_key(text: str, setting: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError) as exc:
        raise IdentifierKeyError(f"{setting}: a key is not URL-safe base64.") from exc
    if len(raw) != KEY_BYTES:
        raise IdentifierKeyError(f"{setting}: a key must be {KEY_BYTES} bytes (base64 of 32).")
    return raw


def _dev_key(label: bytes) -> bytes:
    return hashlib.sha256(_DEV_SEED + b"/" + label).digest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"registry-identifier-key-id/" + key).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """The keys in force: ``primary`` encrypts, every key in ``by_id`` decrypts."""

    primary_id: str
    ciphers: dict[str, AESGCM]
    index_key: bytes
    development: bool

    @property
    def prefix(self) -> str:
        """What every value encrypted under the primary key starts with."""
        return f"{ENVELOPE_VERSION}.{self.primary_id}."


def _setting_texts() -> tuple[tuple[str, ...], str]:
    texts = getattr(settings, "IDENTIFIER_ENCRYPTION_KEYS", None) or []
    if isinstance(texts, str):
        texts = [t for t in texts.split(",") if t.strip()]
    return tuple(texts), getattr(settings, "IDENTIFIER_INDEX_KEY", "") or ""


def _decoded(texts: tuple[str, ...], index_text: str) -> tuple[list[bytes], bytes | None]:
    keys = [_decode_key(t, "IDENTIFIER_ENCRYPTION_KEYS") for t in texts]
    index_key = _decode_key(index_text, "IDENTIFIER_INDEX_KEY") if index_text else None
    return keys, index_key


def configured_keys() -> tuple[list[bytes], bytes | None]:
    """The keys the settings give (encryption keys, index key), decoded; empty when unset."""
    return _decoded(*_setting_texts())


@functools.cache
def _keyring_for(texts: tuple[str, ...], index_text: str, dev_ok: bool) -> Keyring:
    decoded, index_key = _decoded(texts, index_text)
    keys = tuple(decoded)
    development = False
    if not keys or index_key is None:
        if not dev_ok:
            raise IdentifierKeyError(
                "IDENTIFIER_ENCRYPTION_KEYS and IDENTIFIER_INDEX_KEY must be set: national IDs "
                "and phones are encrypted at rest (docs/data-protection.md)."
            )
        development = True
        keys = keys or (_dev_key(b"encryption"),)
        index_key = index_key or _dev_key(b"index")
    ciphers = {_key_id(key): AESGCM(key) for key in keys}
    return Keyring(_key_id(keys[0]), ciphers, index_key, development)


def keyring() -> Keyring:
    """The keyring of the current settings (cached per distinct settings)."""
    texts, index_text = _setting_texts()
    dev_ok = bool(getattr(settings, "IDENTIFIER_DEV_KEYS_ALLOWED", False))
    return _keyring_for(texts, index_text, dev_ok)


# --- Values ------------------------------------------------------------------------------------


def is_envelope(value: str) -> bool:
    """Whether ``value`` is already encrypted (no valid ID or phone starts like this)."""
    return value.startswith(ENVELOPE_VERSION + ".")


def encrypt(value: str, purpose: str, ring: Keyring | None = None) -> str:
    """The envelope of ``value`` under the primary key; ``""`` stays ``""``, an envelope is
    returned as it is (so a value encrypted in bulk is not encrypted twice)."""
    if not value or is_envelope(value):
        return value
    ring = ring or keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.ciphers[ring.primary_id].encrypt(nonce, value.encode(), purpose.encode())
    return ring.prefix + base64.urlsafe_b64encode(nonce + sealed).decode()


def encrypt_many(values: Sequence[str], purpose: str) -> list[str]:
    """``encrypt`` over many values with one keyring and one cipher object (the seeders)."""
    ring = keyring()
    cipher = ring.ciphers[ring.primary_id]
    prefix, aad, urandom, b64 = ring.prefix, purpose.encode(), os.urandom, base64.urlsafe_b64encode
    out: list[str] = []
    for value in values:
        if not value or is_envelope(value):
            out.append(value)
            continue
        nonce = urandom(NONCE_BYTES)
        out.append(prefix + b64(nonce + cipher.encrypt(nonce, value.encode(), aad)).decode())
    return out


def decrypt(value: str, purpose: str, ring: Keyring | None = None) -> str:
    """The clear value of an envelope; a value that is not one (written before encryption, or
    empty) is returned unchanged, so a half-migrated table still reads."""
    if not value or not is_envelope(value):
        return value
    ring = ring or keyring()
    try:
        _version, key_id, body = value.split(".", 2)
        cipher = ring.ciphers[key_id]
        raw = base64.urlsafe_b64decode(body.encode())
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()).decode()
    except KeyError as exc:
        raise IdentifierKeyError(
            "No configured identifier key can decrypt a stored value: keep the old key in "
            "IDENTIFIER_ENCRYPTION_KEYS until rotate_identifier_keys has finished."
        ) from exc
    except (ValueError, InvalidTag, binascii.Error) as exc:
        raise IdentifierKeyError("A stored identifier is corrupt or was tampered with.") from exc


def blind_index(purpose: str, value: str, ring: Keyring | None = None) -> str:
    """The keyed blind index of a normalised value (``""`` for an empty one)."""
    if not value:
        return ""
    ring = ring or keyring()
    message = purpose.encode() + b"\x1f" + value.encode()
    return hmac.digest(ring.index_key, message, "sha256").hex()[:INDEX_HEX_LENGTH]


def blind_index_many(values: Iterable[str], purpose: str) -> list[str]:
    """``blind_index`` over many values with one keyring (the seeders)."""
    ring = keyring()
    head = purpose.encode() + b"\x1f"
    digest, key = hmac.digest, ring.index_key
    return [
        digest(key, head + v.encode(), "sha256").hex()[:INDEX_HEX_LENGTH] if v else ""
        for v in values
    ]


def mask(value: Any) -> Any:
    """What history and logs may show of an identifier: its length and last two characters
    (``"******10"``), enough to tell a correction happened, not enough to find the person."""
    if not isinstance(value, str) or not value:
        return value
    if len(value) <= 2:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]


# --- Model fields ------------------------------------------------------------------------------


class _EncryptedExact(Exact):
    """``= ""`` (is it empty?) is the only comparison a ciphertext allows."""

    def get_prep_lookup(self) -> Any:
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.target.name} is encrypted: look it up by its blind index "
                "(registry.crypto.blind_index), never by value."
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    """A short identifier stored as an AES-GCM envelope, read back in clear.

    The attribute holds the clear value; the column holds the envelope. Only ``= ""`` and
    ``isnull`` are allowed in queries: anything else raises ``FieldError`` (use the blind
    index column beside it)."""

    def __init__(self, *args: Any, purpose: str = PURPOSE_DOCUMENT, **kwargs: Any) -> None:
        self.purpose = purpose
        kwargs.setdefault("max_length", ENVELOPE_MAX_LENGTH)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        return decrypt(value, self.purpose) if isinstance(value, str) else value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return encrypt(value, self.purpose) if isinstance(value, str) else value

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EncryptedExact
        if lookup_name == "isnull":
            return IsNull
        return None


class BlindIndexField(models.CharField):
    """The keyed blind index of another field of the same model, kept in step on every save
    and ``bulk_create`` (like ``auto_now``); a queryset ``update()`` must set it itself."""

    def __init__(
        self, *args: Any, source: str = "", purpose: str = PURPOSE_DOCUMENT, **kwargs: Any
    ) -> None:
        self.source, self.purpose = source, purpose
        kwargs.setdefault("max_length", INDEX_HEX_LENGTH)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose)
        for key, default in (("max_length", INDEX_HEX_LENGTH), ("editable", False)):
            if kwargs.get(key) == default:
                kwargs.pop(key)
        kwargs.pop("blank", None)
        kwargs.pop("default", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.source) or ""
        index = blind_index(self.purpose, decrypt(value, self.purpose))
        setattr(model_instance, self.attname, index)
        return index


# --- Bulk re-encryption (data migration and key rotation) ----------------------------------------


@dataclass(frozen=True)
class EncryptedColumn:
    """An encrypted column of a table and the blind-index column computed from it."""

    column: str
    purpose: str
    index_column: str


def _stale_sql(columns: Sequence[EncryptedColumn], prefix: str) -> tuple[str, list[str]]:
    parts, params = [], []
    for col in columns:
        column = connection.ops.quote_name(col.column)
        parts.append(f"({column} <> '' AND {column} NOT LIKE %s)")
        params.append(prefix.replace("_", r"\_") + "%")
    return " OR ".join(parts), params


def reencrypt_table(
    *,
    table: str,
    columns: Sequence[EncryptedColumn],
    pk: str = "id",
    pk_type: str = "uuid",
    chunk_size: int = 5000,
    reindex: bool = False,
    clear: bool = False,
    write: Callable[[str], object] | None = None,
) -> int:
    """Bring every row of ``table`` under the primary key: values in clear (before the
    encryption migration) or under an older key are (re-)encrypted and their blind indexes
    recomputed, ``chunk_size`` rows per transaction, walking the primary key. Set-based (one
    ``SELECT`` and one ``UPDATE … FROM unnest(…)`` per chunk on PostgreSQL) and resumable: a
    row already under the primary key is skipped, so a rerun after a crash goes on where it
    stopped. ``reindex`` recomputes every row's blind indexes too (after a new index key).
    Returns the number of rows rewritten; ``write`` receives a progress line per chunk.
    ``clear`` does the opposite, writing the values back in clear (the migration's reverse)."""
    ring = keyring()
    quoted = connection.ops.quote_name
    if clear:
        stale = " OR ".join(f"{quoted(c.column)} LIKE %s" for c in columns)
        stale_params = [ENVELOPE_VERSION + ".%"] * len(columns)
    else:
        stale, stale_params = _stale_sql(columns, ring.prefix)
    where = "" if reindex else f" AND ({stale})"
    params_tail = [] if reindex else stale_params
    select_cols = ", ".join(quoted(c.column) for c in columns)
    done, last = 0, None
    with connection.cursor() as cursor:
        count_sql = f"SELECT COUNT(*) FROM {quoted(table)} WHERE TRUE{where}"  # noqa: S608
        cursor.execute(count_sql, params_tail)
        total = cursor.fetchone()[0]
    while True:
        after = "" if last is None else f" AND {quoted(pk)} > %s"
        sql = (
            f"SELECT {quoted(pk)}, {select_cols} FROM {quoted(table)} "  # noqa: S608
            f"WHERE TRUE{after}{where} ORDER BY {quoted(pk)} LIMIT %s"
        )
        params = ([] if last is None else [last]) + params_tail + [chunk_size]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for row in rows:
                values: list[Any] = [row[0]]
                for position, col in enumerate(columns, start=1):
                    value = decrypt(row[position] or "", col.purpose, ring)
                    if clear:
                        values += [value, ""]
                    else:
                        values += [
                            encrypt(value, col.purpose, ring),
                            blind_index(col.purpose, value, ring),
                        ]
                updates.append(values)
            _write_chunk(cursor, table, pk, pk_type, columns, updates)
        last = rows[-1][0]
        done += len(rows)
        if write is not None:
            write(f"  {done:,} / {total:,} rows of {table}")
    return done


def _write_chunk(
    cursor: Any,
    table: str,
    pk: str,
    pk_type: str,
    columns: Sequence[EncryptedColumn],
    updates: list[list[Any]],
) -> None:
    quoted = connection.ops.quote_name
    targets = [name for col in columns for name in (col.column, col.index_column)]
    assignments = ", ".join(f"{quoted(name)} = v.{quoted(name)}" for name in targets)
    if connection.vendor == "postgresql":
        arrays = ", ".join([f"%s::{pk_type}[]"] + ["%s::text[]"] * len(targets))
        aliases = ", ".join([quoted("pk")] + [quoted(name) for name in targets])
        transposed = [list(column) for column in zip(*updates, strict=True)]
        sql = (
            f"UPDATE {quoted(table)} AS t SET {assignments} "  # noqa: S608
            f"FROM unnest({arrays}) AS v({aliases}) WHERE t.{quoted(pk)} = v.{quoted('pk')}"
        )
        cursor.execute(sql, transposed)
        return
    setters = ", ".join(f"{quoted(name)} = %s" for name in targets)
    sql = f"UPDATE {quoted(table)} SET {setters} WHERE {quoted(pk)} = %s"  # noqa: S608
    cursor.executemany(
        sql,
        [[*row[1:], row[0]] for row in updates],
    )


__all__ = [
    "PURPOSE_DOCUMENT",
    "PURPOSE_PHONE",
    "BlindIndexField",
    "EncryptedCharField",
    "EncryptedColumn",
    "IdentifierKeyError",
    "blind_index",
    "blind_index_many",
    "decrypt",
    "encrypt",
    "encrypt_many",
    "generate_key",
    "keyring",
    "mask",
    "reencrypt_table",
]
