"""Evidence that holds up: what a verification visit must carry.

- A visit names the plots it saw; each must belong to the household (``plots``, 400
  ``plot_not_in_household``).
- The licit hectares recorded on a visit cannot exceed the household's plot area (active plots;
  ``licit_crops``, 400 ``licit_exceeds_plot_area``).
- Confirming a visit that found no coca (the ``visit_evidence`` guard of
  ``workflow.VERIFICATION_MACHINE``) needs a GPS fix (409 ``gps_required``) that
  ``registry.boundaries.gps_fix_plausible`` accepts: inside the household's district (a district
  created after 2007: its parent's outline) or within 500 m of one of its plots (409
  ``gps_outside_area``); and a photo unless the programme waives it
  (``Program.visit_photo_required``; 409 ``photo_required``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Aggregate, CharField, OuterRef, Subquery, Sum
from django.utils.translation import gettext as _

from registry import boundaries
from registry.exceptions import Conflict
from registry.models import Program
from registry.services import field_error
from registry.workflow import Step

from .models import Household, Plot, Verification


class _JoinedIds(Aggregate):
    """Comma-joined ids (``GROUP_CONCAT`` / PostgreSQL ``STRING_AGG``)."""

    function = "GROUP_CONCAT"
    output_field = CharField()

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="STRING_AGG",
            template="%(function)s(%(expressions)s::text, ',')",
            **extra,
        )


def plot_ids_subquery() -> Subquery:
    """The ids of the plots a visit saw, comma-joined, for ``.annotate(plot_ids=...)`` (the
    visit list reads them in its one query; see :func:`visit_plot_ids`)."""
    seen = Verification.plots.through.objects.filter(verification_id=OuterRef("pk"))
    joined = seen.values("verification_id").annotate(ids=_JoinedIds("plot_id"))
    return Subquery(joined.values("ids"), output_field=CharField())  # type: ignore[misc]


def visit_plot_ids(visit: Verification) -> list[str]:
    """The ids of the plots the visit saw, sorted (from the list's annotation when present)."""
    joined = getattr(visit, "plot_ids", None)
    if joined is None and hasattr(visit, "plot_ids"):
        return []
    if joined is None:
        return sorted(str(pk) for pk in visit.plots.values_list("pk", flat=True))
    return sorted(str(uuid.UUID(part)) for part in joined.split(",") if part)


def visit_plots(household: Household, plot_ids: Iterable[Any] | None) -> list[Plot]:
    """The household's plots a visit saw (field error ``plots`` when one is not the
    household's)."""
    wanted = {str(pk) for pk in plot_ids or []}
    if not wanted:
        return []
    found = list(Plot.objects.filter(household=household, pk__in=wanted))
    if len(found) != len(wanted):
        raise field_error(
            "plots", _("This plot does not belong to the household."), "plot_not_in_household"
        )
    return found


def plot_area_ha(household: Household) -> Decimal:
    """The household's active plot area (ha)."""
    total = Plot.objects.filter(household=household, is_active=True).aggregate(s=Sum("area_ha"))
    return total["s"] or Decimal("0")


def check_licit_within_plot_area(household: Household, crops: Iterable[dict[str, str]]) -> None:
    """The licit crops a visit records fit on the household's plots (field error
    ``licit_crops`` otherwise)."""
    licit = sum((Decimal(item["ha"]) for item in crops), Decimal("0"))
    if licit <= 0:
        return
    area = plot_area_ha(household)
    if licit > area:
        raise field_error(
            "licit_crops",
            _("The licit crops (%(licit)s ha) exceed the household's plot area (%(area)s ha).")
            % {"licit": f"{licit.normalize():f}", "area": f"{area.normalize():f}"},
            "licit_exceeds_plot_area",
        )


def visit_evidence_guard(step: Step[Verification]) -> None:
    """Guard ``visit_evidence``: a visit that found no coca is confirmed only with a plausible
    GPS fix and (unless the programme waives it) a photo."""
    visit_evidence_check(step.instance)


def visit_evidence_check(visit: Verification) -> None:
    """What ``visit_evidence_guard`` checks, for ``visit`` as it stands (409 ``gps_required``,
    ``gps_outside_area`` or ``photo_required``); the field pages warn with it before a
    supervisor tries to confirm."""
    if visit.coca_ha != 0:
        return
    household = visit.household
    if visit.latitude is None or visit.longitude is None:
        raise Conflict(
            _("A visit that found no coca needs a GPS point to be confirmed."),
            code="gps_required",
            attr="location",
        )
    plots = Plot.objects.filter(household_id=household.pk, is_active=True).values_list(
        "geometry", flat=True
    )
    if not boundaries.gps_fix_plausible(
        household.district_id, float(visit.longitude), float(visit.latitude), plots
    ):
        raise Conflict(
            _(
                "The GPS point is neither in the household's district nor within %(metres)s m "
                "of one of its plots."
            )
            % {"metres": boundaries.GPS_PLOT_TOLERANCE_M},
            code="gps_outside_area",
            attr="location",
        )
    photo_required = (
        Program.objects.filter(pk=household.program_id)
        .values_list("visit_photo_required", flat=True)
        .first()
    )
    if photo_required is not False and not visit.photo_sha256:
        raise Conflict(
            _("A visit that found no coca needs a photo to be confirmed."),
            code="photo_required",
            attr="photo",
        )
