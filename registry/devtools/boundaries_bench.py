"""Benchmark of ``registry.boundaries``: how long the outlines take to load, and 10,000 GPS
checks the way a visit's confirmation makes them (``manage.py benchmark_boundaries``, or
``python -m registry.devtools.boundaries_bench``: needs no database)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from registry import boundaries

# VRAEM districts (ubigeo → a point inside), Villa Kintiarina (post-2007: its parent's outline).
DISTRICTS = {
    "080910": (-73.83, -12.52),  # Pichari
    "080907": (-73.79, -12.62),  # Kimbiri
    "050407": (-73.86, -12.51),  # Sivia
    "050408": (-73.91, -12.41),  # Llochegua
    "080913": (-73.79, -12.62),  # Villa Kintiarina (→ Kimbiri)
}


def square_plot(lon: float, lat: float, side_deg: float = 0.001) -> dict[str, Any]:
    """A square GeoJSON polygon of ``side_deg`` degrees, south-west corner at ``(lon, lat)``."""
    ring = [
        [lon, lat],
        [lon + side_deg, lat],
        [lon + side_deg, lat + side_deg],
        [lon, lat + side_deg],
        [lon, lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def _timed(label: str, count: int, check: Callable[[], int]) -> dict[str, Any]:
    start = time.perf_counter()
    accepted = check()
    seconds = time.perf_counter() - start
    return {
        "check": label,
        "count": count,
        "accepted": accepted,
        "seconds": round(seconds, 4),
        "per_second": round(count / seconds) if seconds else None,
    }


def run(count: int = 10_000, seed: int = 15) -> list[dict[str, Any]]:
    """Load the outlines (cold), then time ``count`` district checks and ``count`` full
    ``gps_fix_plausible`` checks: fixes in the district, beside a plot outside it (~300 m) and
    far away (Piura), each household with two plots."""
    rng = random.Random(seed)
    boundaries.atlas.cache_clear()
    results = [
        _timed(
            "load outlines (cold, once per process)", 1, lambda: len(boundaries.atlas().outlines)
        )
    ]
    cases = []
    codes = list(DISTRICTS)
    for i in range(count):
        ubigeo = codes[i % len(codes)]
        lon, lat = DISTRICTS[ubigeo]
        plot_lon, plot_lat = -74.60 + rng.uniform(-0.05, 0.05), -11.30 + rng.uniform(-0.05, 0.05)
        plots = [square_plot(plot_lon, plot_lat), square_plot(plot_lon + 0.01, plot_lat)]
        kind = i % 3
        if kind == 0:  # in the district
            fix = (lon + rng.uniform(-0.005, 0.005), lat + rng.uniform(-0.005, 0.005))
        elif kind == 1:  # ~300 m south of the first plot, outside the district
            fix = (plot_lon + 0.0005, plot_lat - 0.0027)
        else:  # Piura
            fix = (-80.63 + rng.uniform(-0.01, 0.01), -5.19 + rng.uniform(-0.01, 0.01))
        cases.append((ubigeo, fix, plots))
    results.append(
        _timed(
            "district_contains",
            count,
            lambda: sum(bool(boundaries.district_contains(u, *fix)) for u, fix, _p in cases),
        )
    )
    results.append(
        _timed(
            "gps_fix_plausible (2 plots each)",
            count,
            lambda: sum(boundaries.gps_fix_plausible(u, *fix, plots) for u, fix, plots in cases),
        )
    )
    return results


def main() -> None:
    """Print the benchmark's table."""
    for row in run():
        print(  # noqa: T201
            f"{row['check']:<45} {row['count']:>6} checks  {row['seconds']:>8.4f} s  "
            f"{row['per_second'] or '-':>8}/s  accepted {row['accepted']}"
        )


if __name__ == "__main__":
    main()
