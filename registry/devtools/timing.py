"""Timing helpers of the apps' API benchmarks (``benchmark_households``, ``benchmark_deliveries``,
``benchmark_titles``): timed list pages, their latency summary and queries per page size."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def latencies(timings: list[float]) -> str:
    """``p50=… ms p95=… ms max=… ms`` of timings in milliseconds."""
    return (
        f"p50={statistics.median(timings):.1f} ms "
        f"p95={percentile(timings, 0.95):.1f} ms max={max(timings):.1f} ms"
    )


def timed_pages(
    client: Client, url: str, params: Iterable[dict[str, Any]]
) -> tuple[list[float], list[dict[str, Any]]]:
    """GET ``url`` once per item of ``params`` (each must answer 200): the milliseconds of each
    request and the JSON bodies."""
    timings, bodies = [], []
    for query in params:
        started = time.perf_counter()
        response = client.get(url, query)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content
        bodies.append(response.json())
    return timings, bodies


def queries_by_page_size(
    client: Client, url: str, params: dict[str, Any], sizes: Iterable[int] = (1, 50, 100)
) -> dict[int, int]:
    """How many SQL queries one list request runs for each page size (on the
    request's connection, and the access-log insert where the writer thread ran it)."""
    from registry import accesslog_writer

    queries = {}
    for size in sizes:
        before = accesslog_writer.statements
        with CaptureQueriesContext(connection) as ctx:
            client.get(url, {**params, "page_size": size})
        queries[size] = len(ctx.captured_queries) + accesslog_writer.statements - before
    return queries
