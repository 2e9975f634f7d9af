"""Old import path of the dashboard, kept for ``farmers/admin.py``: the dashboard lives in
:mod:`farmers.reporting.dashboard` (delete this once admin.py imports it from there)."""

from farmers.reporting.dashboard import dashboard_context

__all__ = ["dashboard_context"]
