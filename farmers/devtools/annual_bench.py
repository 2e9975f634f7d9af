"""Body of ``benchmark_annual_report``: time the annual results report of one programme-year
(the service, suppressed as the API serves it, plus its JSON), p50 of ``runs``, with the
number of queries and the size of the data read.

By default the report is read from the stored rows (``farmers.reporting.annual_snapshots``),
as the API serves a calendar year; the rows of that programme-year are stored first (timed)
when missing or with ``refresh``. ``cold`` drops the cached report before each run (the cost of
a first read: the report computed from the stored rows). ``live`` times the computation from the
records instead."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registry.actors import Actor
from registry.devtools.timing import percentile

from ..models import AnnualReportRows, Household
from ..reporting.annual import annual_report, sections
from ..reporting.annual_output import report_data
from ..reporting.annual_snapshots import data_key, refresh_annual_snapshots, stored_source
from ..reporting.indicators import IndicatorQuery


def benchmark_annual_report(
    *,
    program_code: str,
    year: int,
    runs: int,
    write: Callable[[str], None],
    live: bool = False,
    refresh: bool = False,
    cold: bool = False,
) -> float:
    """Time ``runs`` reports of ``program_code`` for ``year``; write each run and the p50 (s)."""
    actor = Actor(unrestricted=True)
    query = IndicatorQuery(
        program=program_code, date_from=date(year, 1, 1), date_to=date(year, 12, 31)
    )
    households = Household.objects.filter(program__code=program_code).count()
    write(f"programme {program_code}, {year}: {households:,} households ({connection.vendor})")
    stored = AnnualReportRows.objects.filter(year=year, program__code=program_code).exists()
    if not live and (refresh or not stored):
        started = time.perf_counter()
        refresh_annual_snapshots(years=[year], programs=[program_code])
        write(f"  stored rows refreshed in {time.perf_counter() - started:,.1f} s")
    timings = []
    for run in range(runs):
        if cold:  # the report computed from the stored rows each time, not read from the cache
            source = stored_source(actor, replace(query, today=timezone.localdate()), sections())
            if source is not None:
                cache.delete_many([source.key, data_key(source.key, timezone.localdate())])
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            report = annual_report(actor=actor, query=query, live=live)
            report_data(report)
            elapsed = time.perf_counter() - started
        cells = sum(len(c) for c in report.cells.values())
        timings.append(elapsed)
        read = "live" if report.figures_as_of is None else "stored rows"
        write(
            f"  run {run + 1}: {elapsed * 1000:,.0f} ms, {len(queries)} queries, {cells:,} cells "
            f"({read}{', not cached' if cold and not live else ''})"
        )
    p50 = percentile(timings, 0.5)
    write(f"p50 {p50 * 1000:,.0f} ms over {runs} runs")
    return p50
