"""Encrypted identifiers of members (issue 19 point 4): key rotation and blind-index rebuild.

The members' ID numbers and phones are AES-GCM envelopes with keyed blind indexes beside them
(``registry.crypto``). Rotating the encryption key re-encrypts every value not yet under the
first key of ``IDENTIFIER_ENCRYPTION_KEYS``; a new ``IDENTIFIER_INDEX_KEY`` needs every blind
index recomputed (``reindex``), including the phone blocking keys of deduplication."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, Min

from registry.crypto import (
    PURPOSE_DOCUMENT,
    PURPOSE_PHONE,
    EncryptedColumn,
    reencrypt_table,
)

from ..choices import LIVE_STATUSES
from ..identity import phone_key
from ..models import DedupKey, Member

MEMBER_COLUMNS = (
    EncryptedColumn("document_number", PURPOSE_DOCUMENT, "document_index"),
    EncryptedColumn("phone", PURPOSE_PHONE, "phone_index"),
)
DEFAULT_CHUNK = 5000


@dataclass(frozen=True)
class RotationOutcome:
    """What a rotation rewrote, and how long it took."""

    members: int
    phone_keys: int
    seconds: float


def identifiers_rotate(
    *, chunk_size: int = DEFAULT_CHUNK, reindex: bool = False, write: Callable[[str], object]
) -> RotationOutcome:
    """Bring every member's ID number and phone under the current first key (chunked,
    set-based, resumable: rows already under it are skipped); with ``reindex``, recompute
    every blind index and the phone blocking keys too (after ``IDENTIFIER_INDEX_KEY`` changed;
    until it finishes, lookups by ID miss the rows not yet reindexed)."""
    started = time.perf_counter()
    members = reencrypt_table(
        table=Member._meta.db_table,
        columns=MEMBER_COLUMNS,
        chunk_size=chunk_size,
        reindex=reindex,
        write=write,
    )
    phone_keys = _rebuild_phone_keys(chunk_size, write) if reindex else 0
    return RotationOutcome(members, phone_keys, time.perf_counter() - started)


def _rebuild_phone_keys(chunk_size: int, write: Callable[[str], object]) -> int:
    """Rewrite the ``ph:`` blocking keys of live households from their members' phones."""
    DedupKey.objects.filter(key__startswith="ph:").delete()
    done, last = 0, None
    phones = (
        Member.objects.filter(
            is_active=True, household__status__in=LIVE_STATUSES, phone_index__gt=""
        )
        .order_by("pk")
        .values_list("pk", "household_id", "phone")
    )
    while True:
        chunk = list((phones if last is None else phones.filter(pk__gt=last))[:chunk_size])
        if not chunk:
            break
        with transaction.atomic():
            DedupKey.objects.bulk_create(
                [
                    DedupKey(household_id=household_id, key=phone_key(p))
                    for _pk, household_id, p in chunk
                ],
            )
        last = chunk[-1][0]
        done += len(chunk)
        write(f"  {done:,} phone blocking keys rebuilt")
    # Two members of a household sharing a phone: one key (a household's keys are a set).
    twins = (
        DedupKey.objects.filter(key__startswith="ph:")
        .values("household_id", "key")
        .annotate(first=Min("id"), copies=Count("id"))
        .filter(copies__gt=1)
    )
    for twin in twins:
        DedupKey.objects.filter(household_id=twin["household_id"], key=twin["key"]).exclude(
            id=twin["first"]
        ).delete()
    return done
