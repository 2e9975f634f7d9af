"""Bulk generation of realistic households for benchmarks (``seed_households --count N``).

Set-based and chunked: each chunk of households, members, consents, dedup keys and plots is
written with PostgreSQL ``COPY`` (or ``bulk_create`` on SQLite), so a million households take
minutes. Rows bypass the services on purpose (they are synthetic and valid by construction:
unique 8-digit DNIs, real VRAEM districts, E.164 phones, closed square plots); everything the
services would derive (head name, search key, dedup keys, area, bounding box) is derived here
the same way, and the ID numbers and phones are encrypted with their blind indexes in bulk.
"""

from __future__ import annotations

import collections
import json
import multiprocessing
import random
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from registry.bulk import copy_rows as _copy_rows
from registry.crypto import PURPOSE_DOCUMENT, PURPOSE_PHONE, blind_index_many, encrypt_many
from registry.geography import VRAEM_DISTRICTS
from registry.models import Program

from ..choices import HouseholdStatus, Relationship, Stage
from ..identity import blocking_keys, normalize_name, search_words
from ..models import MEMBER_FIELDS, Consent, DedupKey, Household, Member, Plot
from ..names import COMMUNITIES, GIVEN_FEMALE, GIVEN_MALE, SURNAMES
from ..services import CODE_ALPHABET

# Centre points of the VRAEM valleys; plots scatter around them.
VALLEY_CENTRES = [(-73.97, -12.52), (-73.78, -12.61), (-73.86, -12.51), (-74.03, -11.50)]
STAGE_WEIGHTS = [
    (Stage.ENROLLED, 30),
    (Stage.COMMITTED, 25),
    (Stage.COCA_FREE, 15),
    (Stage.LICIT_PRODUCTION, 19),
    (Stage.MARKET_LINKED, 6),
    (Stage.GRADUATED, 2),
    (Stage.RELAPSED, 3),
]
DNI_BASE = 50_000_000


def _code(n: int) -> str:
    """A deterministic household code from a sequence number (10 Crockford base-32 digits)."""
    digits = []
    for _i in range(10):
        n, rest = divmod(n, 32)
        digits.append(CODE_ALPHABET[rest])
    return "HH-" + "".join(reversed(digits))


def _square(
    lon: float, lat: float, side_m: float
) -> tuple[dict[str, Any], tuple[float, float, float, float]]:
    dlat = side_m / 111_320
    dlon = side_m / (111_320 * 0.976)
    ring = [
        [round(lon, 7), round(lat, 7)],
        [round(lon + dlon, 7), round(lat, 7)],
        [round(lon + dlon, 7), round(lat + dlat, 7)],
        [round(lon, 7), round(lat + dlat, 7)],
        [round(lon, 7), round(lat, 7)],
    ]
    return {"type": "Polygon", "coordinates": [ring]}, (lon, lat, lon + dlon, lat + dlat)


Rows = dict[str, list[tuple[Any, ...]]]


def _generate_chunk(args: tuple[int, int, int, int, datetime]) -> Rows:
    """The rows of ``size`` households numbered from ``first_seq`` (pure Python, no queries, so
    it can run in a worker process while the main process copies the previous chunk)."""
    first_seq, size, program_id, seed, now = args
    rng = random.Random(seed * 1_000_003 + first_seq)
    districts = sorted(VRAEM_DISTRICTS)
    stages = [s for s, _w in STAGE_WEIGHTS]
    weights = [w for _s, w in STAGE_WEIGHTS]
    households: list[tuple[Any, ...]] = []
    members: list[tuple[Any, ...]] = []
    consents: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    plots: list[tuple[Any, ...]] = []
    for offset in range(size):
        seq = first_seq + offset
        hid = uuid.UUID(int=rng.getrandbits(128), version=4)
        district = districts[seq % len(districts)]
        created = now - timedelta(seconds=rng.randint(0, 3 * 365 * 86400))
        surname_a, surname_b, surname_c = rng.sample(SURNAMES, 3)
        head_female = rng.random() < 0.55
        given = rng.choice(GIVEN_FEMALE if head_female else GIVEN_MALE)
        stage = rng.choices(stages, weights)[0]
        status = HouseholdStatus.ACTIVE if rng.random() < 0.9 else HouseholdStatus.PENDING_REVIEW
        head_name = f"{given} {surname_a} {surname_b}"
        households.append(
            (
                hid,
                _code(seq),
                program_id,
                district,
                rng.choice(COMMUNITIES),
                status,
                stage,
                created.date(),
                {},
                head_name,
                normalize_name(f"{surname_a} {surname_b} {given}"),
                "",
                "",
                1,
                created,
                created,
            )
        )
        n_members = rng.choices([1, 2, 3, 4, 5], [10, 30, 25, 20, 15])[0]
        household_keys: set[str] = set()
        names: list[str] = []
        for index in range(n_members):
            if index == 0:
                m_given, m_surnames, sex = (
                    given,
                    f"{surname_a} {surname_b}",
                    "f" if head_female else "m",
                )
                relationship, birth = (
                    Relationship.HEAD,
                    date(rng.randint(1955, 1998), rng.randint(1, 12), rng.randint(1, 28)),
                )
                # The head's profile on the household too (farmers.services.head).
                households[-1] = (*households[-1], sex, birth)
            elif index == 1:
                sex = "m" if head_female else "f"
                m_given = rng.choice(GIVEN_MALE if head_female else GIVEN_FEMALE)
                m_surnames = f"{surname_c} {rng.choice(SURNAMES)}"
                relationship, birth = (
                    Relationship.SPOUSE,
                    date(rng.randint(1955, 1998), rng.randint(1, 12), rng.randint(1, 28)),
                )
            else:
                sex = rng.choice("fm")
                m_given = rng.choice(GIVEN_FEMALE if sex == "f" else GIVEN_MALE)
                m_surnames = f"{surname_a} {surname_c}"
                relationship, birth = (
                    Relationship.CHILD,
                    date(rng.randint(1999, 2020), rng.randint(1, 12), rng.randint(1, 28)),
                )
            adult = birth.year < 2008
            phone = (
                f"+519{rng.randint(10_000_000, 99_999_999)}"
                if index == 0 and rng.random() < 0.7
                else ""
            )
            members.append(
                (
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    hid,
                    m_given,
                    m_surnames,
                    "dni" if adult else "",
                    f"{DNI_BASE + seq * 5 + index}" if adult else "",
                    sex,
                    birth,
                    relationship,
                    phone,
                    index == 0,
                    True,
                    status in (HouseholdStatus.ACTIVE, HouseholdStatus.PENDING_REVIEW),
                    created,
                )
            )
            household_keys |= blocking_keys(m_given, m_surnames, birth, district, phone or None)
            names.append(f"{m_given} {m_surnames}")
        households[-1] = (*households[-1], search_words(names))
        keys.extend((hid, key) for key in sorted(household_keys))
        consents.append(
            (
                hid,
                created.date(),
                json.dumps(["registry", "partner_sharing", "buyer_sharing"]),
                "2025-1",
                "es",
                created,
            )
        )
        lon, lat = rng.choice(VALLEY_CENTRES)
        side = rng.uniform(60, 200)
        geometry, (min_lon, min_lat, max_lon, max_lat) = _square(
            lon + rng.uniform(-0.3, 0.3), lat + rng.uniform(-0.3, 0.3), side
        )
        plots.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                hid,
                "Chacra",
                "possession",
                json.dumps(geometry),
                Decimal(side * side / 10_000).quantize(Decimal("0.0001")),
                json.dumps([rng.choice(["cacao", "coffee"])]),
                min_lon,
                min_lat,
                max_lon,
                max_lat,
                True,
                "",
                1,
                created,
                created,
            )
        )
    return {
        "households": households,
        "members": _encrypt_identifiers(members),
        "consents": consents,
        "keys": keys,
        "plots": plots,
    }


def _encrypt_identifiers(members: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The member rows with the ID number (column 5) and phone (column 9) encrypted and their
    blind indexes appended, in bulk (one keyring, one cipher object for the whole chunk; this
    runs in the generating process, beside the COPY of the previous chunk)."""
    documents = [row[5] for row in members]
    phones = [row[9] for row in members]
    return [
        (*row[:5], document, *row[6:9], phone, *row[10:], document_index, phone_index)
        for row, document, phone, document_index, phone_index in zip(
            members,
            encrypt_many(documents, PURPOSE_DOCUMENT),
            encrypt_many(phones, PURPOSE_PHONE),
            blind_index_many(documents, PURPOSE_DOCUMENT),
            blind_index_many(phones, PURPOSE_PHONE),
            strict=True,
        )
    ]


def _write_chunk(rows: Rows) -> None:
    """Copy one chunk of generated rows in one transaction."""
    households, members, consents = rows["households"], rows["members"], rows["consents"]
    keys, plots = rows["keys"], rows["plots"]
    with transaction.atomic():
        _copy_rows(
            Household,
            [
                "id",
                "code",
                "program",
                "district",
                "community",
                "status",
                "stage",
                "stage_since",
                "milestones",
                "head_name",
                "head_name_search",
                "request_hash",
                "rejection_reason",
                "version",
                "created_at",
                "updated_at",
                "head_sex",
                "head_birth_date",
                "names_search",
            ],
            households,
        )
        _copy_rows(
            Member,
            [
                "id",
                "household",
                *MEMBER_FIELDS,
                "is_head",
                "is_active",
                "is_live",
                "created_at",
                "document_index",
                "phone_index",
            ],
            members,
        )
        _copy_rows(
            Consent,
            ["household", "signed_on", "purposes", "notice_version", "language", "created_at"],
            consents,
        )
        _copy_rows(DedupKey, ["household", "key"], keys)
        _copy_rows(
            Plot,
            [
                "id",
                "household",
                "name",
                "tenure",
                "geometry",
                "area_ha",
                "crops",
                "min_lon",
                "min_lat",
                "max_lon",
                "max_lat",
                "is_active",
                "request_hash",
                "version",
                "created_at",
                "updated_at",
            ],
            plots,
        )


def seed_households(
    *,
    count: int,
    program: Program,
    chunk_size: int = 5000,
    seed: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Generate ``count`` households (1–5 members, consent, dedup keys, one plot each).

    On PostgreSQL a worker process generates the next chunk while this one copies the current
    one, so Python and the database work at the same time.
    """
    start = Household.objects.count()
    now = timezone.now()
    chunks = [
        (start + offset, min(chunk_size, count - offset), program.pk, seed, now)
        for offset in range(0, count, chunk_size)
    ]
    done = 0
    parallel = connection.vendor == "postgresql" and not connection.in_atomic_block
    if parallel and len(chunks) > 1:
        connection.close()  # the worker must not share the database connection
        with multiprocessing.get_context("fork").Pool(1) as pool:
            # At most two chunks in flight: memory stays flat however large ``count`` is.
            pending: collections.deque[Any] = collections.deque()
            for args in chunks:
                pending.append(pool.apply_async(_generate_chunk, (args,)))
                if len(pending) < 2:
                    continue
                done += _write_and_report(pending.popleft().get(), done, count, progress)
            while pending:
                done += _write_and_report(pending.popleft().get(), done, count, progress)
        return done
    for args in chunks:
        done += _write_and_report(_generate_chunk(args), done, count, progress)
    return done


def _write_and_report(
    rows: Rows, done: int, count: int, progress: Callable[[int, int], None] | None
) -> int:
    """Write a chunk, report progress, return how many households it held."""
    _write_chunk(rows)
    written = len(rows["households"])
    if progress is not None:
        progress(done + written, count)
    return written


__all__ = ["datetime", "seed_households"]
