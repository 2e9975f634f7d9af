"""Reporting: read-only aggregates over the registry, apart from the household rules.

``indicators`` (funders' aggregate indicators, set-based, of reviewed households only; exact
definitions in ``docs/indicators.md``), ``suppression`` (the one small-cell rule: primary and
complementary), ``summaries`` (the dashboard's summary tables kept by the services'
transactions, and their rebuild), ``dashboard`` (the programme-staff admin page, read from the
summary tables), ``charts`` (its inline SVG) and ``api`` (the ``indicators/`` endpoint, routed
from ``farmers/api/urls.py``).
"""
