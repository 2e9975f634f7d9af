"""SLA alerts of title files: overdue and approaching files raise ``title_overdue`` alerts.

Run daily by ``titles.tasks.raise_overdue_alerts``; set-based (one query over the open files
past their warning date, an indexed range on ``warn_on``) and idempotent: a live alert is unique
per file and state, so reruns add nothing, and the alerts of files back on time are resolved.
The dates themselves come from the clock (``titles.clock``), recomputed at every move.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.utils.translation import gettext as _

from registry.alerts import AlertSpec, alerts_raise_many, alerts_resolve_missing
from registry.choices import AlertKind, AlertSeverity, Role
from registry.display import day

from .choices import OPEN_STATUSES, TitleStatus
from .models import TitleApplication

KEY_PREFIX = "title:"


def title_alerts_sync(*, today: date | None = None) -> dict[str, int]:
    """Raise an alert for every open file past its due date (``warning``) or past the warning
    share of its target (``info``, "approaching"); resolve the alerts of files no longer in
    either condition. Idempotent: a rerun raises nothing new."""
    today = today or timezone.localdate()
    rows = (
        TitleApplication.objects.filter(status__in=OPEN_STATUSES, warn_on__lte=today)
        .values_list(
            "pk", "household_id", "district_id", "program_id", "status", "due_on", "household__code"
        )
        .order_by()
    )
    specs: list[AlertSpec] = []
    overdue = 0
    for pk, household_id, district_id, program_id, status, due_on, code in rows.iterator(
        chunk_size=2000
    ):
        late = due_on is not None and due_on < today
        overdue += late
        label = TitleStatus(status).label
        if late:
            message = _("Title file of %(code)s is overdue in “%(status)s” (due %(due)s).")
        else:
            message = _("Title file of %(code)s is due in “%(status)s” on %(due)s.")
        specs.append(
            AlertSpec(
                kind=AlertKind.TITLE_OVERDUE,
                key=f"{KEY_PREFIX}{pk}:{status}" + ("" if late else ":approaching"),
                message=message % {"code": code, "status": label, "due": day(due_on)},
                district_id=district_id,
                program_id=program_id,
                household_id=household_id,
                subject=TitleApplication(pk=pk),
                severity=AlertSeverity.WARNING if late else AlertSeverity.INFO,
                owner_role=Role.PROGRAM_STAFF,
                due_on=due_on,
                details={"application": str(pk), "status": status},
            )
        )
    created = alerts_raise_many(specs)
    resolved = alerts_resolve_missing(
        AlertKind.TITLE_OVERDUE, [spec.key for spec in specs], key_prefix=KEY_PREFIX
    )
    return {
        "overdue": overdue,
        "approaching": len(specs) - overdue,
        "created": created,
        "resolved": resolved,
    }


def title_alerts_resolve(application: TitleApplication) -> None:
    """Resolve the alerts of a file's state: a move leaves the state they were about."""
    alerts_resolve_missing(AlertKind.TITLE_OVERDUE, [], key_prefix=f"{KEY_PREFIX}{application.pk}:")
