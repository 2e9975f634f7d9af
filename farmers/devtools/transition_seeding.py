"""Synthetic evidence for the transition benchmark (``seed_transition_evidence``).

Adds agreements and confirmed verification visits to households that have none, set-based: on
PostgreSQL two ``INSERT … SELECT`` statements draw every value from an MD5 of the household id
(deterministic, reproducible, no Python loop); elsewhere (SQLite, tests) the same rules run in
Python with ``bulk_create``. About 75 % of households get an agreement and 0–3 visits a year or so
apart; about 6 % of visits find coca; licit crops grow from visit to visit. Half of those with
an agreement and a plot get a crop installation on their first plot (cacao or coffee, planted
2015–2023, at most the plot's area), and their visits are linked to that plot, so the sweep
reads licit hectares from installations (``farmers.transition.engine``) for them.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from farmers.choices import InstallationStatus, VerificationStatus
from farmers.models import Agreement, CropInstallation, Household, Plot, Verification

FIRST_AGREEMENT = date(2023, 1, 1)


def _draws(hid: uuid.UUID) -> list[int]:
    digest = hashlib.md5(str(hid).encode(), usedforsecurity=False).hexdigest()
    return [int(digest[i : i + 8], 16) for i in range(0, 32, 8)]


def seed_evidence(today: date | None = None) -> tuple[int, int, int]:
    """Add agreements, confirmed visits and crop installations to households without
    agreements; return how many of each were added."""
    today = today or timezone.localdate()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            return _seed_postgresql(today)
        return _seed_python(today)


PLANTED_FROM = date(2015, 1, 1)


def _installation(hid: uuid.UUID, plot: Plot, b: int, c: int, d: int) -> CropInstallation:
    coffee = d % 3 == 0
    area = min(plot.area_ha, Decimal((c // 4) % 30) / 10 + Decimal("0.6"))
    return CropInstallation(
        household_id=hid,
        plot=plot,
        crop="coffee" if coffee else "cacao",
        variety="catimor" if coffee else "ccn51",
        area_ha=area,
        plants=max(1, int(area * (4000 if coffee else 1100))),
        planted_on=PLANTED_FROM + timedelta(days=b % 3000),
        status=InstallationStatus.PRODUCING if b % 3000 < 2200 else InstallationStatus.INSTALLED,
    )


def _seed_python(today: date) -> tuple[int, int, int]:
    agreements: list[Agreement] = []
    visits: list[Verification] = []
    installations: list[CropInstallation] = []
    ids = list(Household.objects.exclude(agreements__isnull=False).values_list("pk", flat=True))
    first_plots: dict[uuid.UUID, Plot] = {}
    for plot in Plot.objects.filter(household_id__in=ids, area_ha__gt=0).order_by(
        "-created_at", "-id"
    ):
        first_plots[plot.household_id] = plot
    for hid in ids:
        a, b, c, d = _draws(hid)
        if a % 100 >= 75:
            continue
        signed_on = FIRST_AGREEMENT + timedelta(days=a % 1000)
        plot = first_plots.get(hid) if b % 100 < 50 else None
        if plot is not None:
            installations.append(_installation(hid, plot, b, c, d))
        agreements.append(
            Agreement(
                household_id=hid,
                signed_on=signed_on,
                coca_ha_committed=Decimal(5 + b % 20) / 10,
            )
        )
        for k in range(c % 4):
            visited_on = signed_on + timedelta(days=45 + k * 330 + d % 60)
            if visited_on > today:
                break
            coca = Decimal("0.3") if (b + k) % 100 < 6 else Decimal("0")
            licit = Decimal((c // 4) % 30) / 10 + Decimal("0.3") * k
            visits.append(
                Verification(
                    household_id=hid,
                    visited_on=visited_on,
                    method="field_visit",
                    coca_ha=coca,
                    licit_crops=[{"crop": "cacao", "ha": str(licit)}],
                    status=VerificationStatus.CONFIRMED,
                )
            )
    Agreement.objects.bulk_create(agreements, batch_size=2000)
    Verification.objects.bulk_create(visits, batch_size=2000)
    CropInstallation.objects.bulk_create(installations, batch_size=2000)
    planted = {i.household_id: i.plot_id for i in installations}
    Verification.plots.through.objects.bulk_create(
        [
            Verification.plots.through(verification_id=v.pk, plot_id=planted[v.household_id])
            for v in visits
            if v.household_id in planted
        ],
        batch_size=2000,
    )
    return len(agreements), len(visits), len(installations)


# Four independent 32-bit draws from the MD5 of the household id.
_DRAWS = """
    SELECT h.id,
           ('x' || substr(md5(h.id::text), 1, 8))::bit(32)::bigint AS a,
           ('x' || substr(md5(h.id::text), 9, 8))::bit(32)::bigint AS b,
           ('x' || substr(md5(h.id::text), 17, 8))::bit(32)::bigint AS c,
           ('x' || substr(md5(h.id::text), 25, 8))::bit(32)::bigint AS d
      FROM farmers_household h
     WHERE NOT EXISTS (SELECT 1 FROM farmers_agreement g WHERE g.household_id = h.id)
"""


def _seed_postgresql(today: date) -> tuple[int, int, int]:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS tmp_draws")
        cursor.execute(
            f"""
            CREATE TEMPORARY TABLE tmp_draws ON COMMIT DROP AS {_DRAWS};
            """
        )
        cursor.execute(
            """
            INSERT INTO farmers_verification
                (id, household_id, visited_on, method, coca_ha, licit_crops, photo, photo_sha256,
                 status, review_note, request_hash, created_at)
            SELECT gen_random_uuid(), x.id, v.visited_on, 'field_visit',
                   CASE WHEN (x.b + k) %% 100 < 6 THEN 0.3 ELSE 0 END,
                   jsonb_build_array(jsonb_build_object(
                       'crop', 'cacao',
                       'ha', (((x.c / 4) %% 30) / 10.0 + 0.3 * k)::numeric(10, 1)::text)),
                   '', '', 'confirmed', '', '', now()
              FROM tmp_draws x
             CROSS JOIN LATERAL generate_series(0, (x.c %% 4)::int - 1) AS k
             CROSS JOIN LATERAL (
                 SELECT %s::date + (x.a %% 1000)::int + 45 + k * 330 + (x.d %% 60)::int
                        AS visited_on
             ) v
             WHERE x.a %% 100 < 75 AND v.visited_on <= %s::date
            """,
            [FIRST_AGREEMENT, today],
        )
        visits = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO farmers_agreement
                (id, household_id, signed_on, coca_ha_committed, is_active, request_hash,
                 created_at)
            SELECT gen_random_uuid(), x.id, %s::date + (x.a %% 1000)::int,
                   (5 + x.b %% 20) / 10.0, true, '', now()
              FROM tmp_draws x
             WHERE x.a %% 100 < 75
            """,
            [FIRST_AGREEMENT],
        )
        agreements = cursor.rowcount
        # Half of them: a crop installation on the first plot, and their visits saw that plot.
        cursor.execute(
            """
            INSERT INTO farmers_cropinstallation
                (id, household_id, plot_id, crop, variety, area_ha, plants, planted_on,
                 support_id, status, lost_on, status_note, version, created_at, updated_at,
                 request_hash, created_by_id, created_by_key_id)
            SELECT gen_random_uuid(), x.id, p.id,
                   CASE WHEN x.d %% 3 = 0 THEN 'coffee' ELSE 'cacao' END,
                   CASE WHEN x.d %% 3 = 0 THEN 'catimor' ELSE 'ccn51' END,
                   a.ha,
                   GREATEST(1, (a.ha * CASE WHEN x.d %% 3 = 0 THEN 4000 ELSE 1100 END)::int),
                   %s::date + (x.b %% 3000)::int,
                   NULL,
                   CASE WHEN x.b %% 3000 < 2200 THEN 'producing' ELSE 'installed' END,
                   NULL, '', 1, now(), now(), '', NULL, NULL
              FROM tmp_draws x
             CROSS JOIN LATERAL (
                 SELECT id, area_ha FROM farmers_plot
                  WHERE household_id = x.id AND area_ha > 0
                  ORDER BY created_at, id LIMIT 1
             ) p
             CROSS JOIN LATERAL (
                 SELECT LEAST(p.area_ha, ((x.c / 4) %% 30) / 10.0 + 0.6)::numeric(10, 4) AS ha
             ) a
             WHERE x.a %% 100 < 75 AND x.b %% 100 < 50
            """,
            [PLANTED_FROM],
        )
        installations = cursor.rowcount
        cursor.execute(
            """
            INSERT INTO farmers_verification_plots (verification_id, plot_id)
            SELECT v.id, i.plot_id
              FROM tmp_draws x
              JOIN farmers_cropinstallation i ON i.household_id = x.id
              JOIN farmers_verification v ON v.household_id = x.id
             WHERE x.a % 100 < 75 AND x.b % 100 < 50
            ON CONFLICT DO NOTHING
            """
        )
        cursor.execute(
            "ANALYZE farmers_agreement; ANALYZE farmers_verification; "
            "ANALYZE farmers_cropinstallation"
        )
    return agreements, visits, installations


__all__ = ["seed_evidence"]
