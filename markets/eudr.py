"""EUDR geolocation of a contract (issue 16, point 3): the GeoJSON FeatureCollection a buyer
files with its due-diligence statement (EU 2023/1115), built from the plots that supply the
contract.

One Feature per plot, with the properties the EU information system reads (``ProducerName``,
``ProducerCountry`` = ``PE``, ``ProductionPlace`` = the district's name, ``Area`` in hectares)
and ours (``plot_id``, ``crop``, ``planting_date``, ``deforestation_cutoff``). A plot under
4 ha is a Point (a point inside the polygon: its centroid, or a representative point when the
centroid falls outside); from 4 ha up its Polygon (or MultiPolygon), exterior rings
counter-clockwise and holes clockwise (RFC 7946, shapely ``orient``), rings closed.
Coordinates keep ``DECIMALS`` places (≥ 6, as the EU system requires).

Who supplies: a household contract's seller (its active plots that grow the contract's crop or
list no crop yet); a producer organisation's contract, the members that delivered under it
(deliveries not rejected), each with its active plots of the crop; ``eudr_collection`` also
takes explicit ``Supplier`` rows (narrowed to the plots they delivered from). Only plots
of households whose current consent includes ``buyer_sharing`` (``farmers.consent.EUDR_PURPOSE``:
the producer's name and the plot's location go to the buyer and on to the EU) are included; the
others are left out, and the file says how many (a foreign member of the FeatureCollection,
``excluded``: ``{"plots": N, "households": M, "reason": "no_buyer_sharing_consent"}``), so
that the buyer knows its statement is incomplete and why. A withdrawal counts at once: the
file is built on every request.

``deforestation_cutoff``: ``before_cutoff`` when the crop was planted, or the plot registered,
on or before 31/12/2020 (the EUDR cut-off date); ``needs_check`` otherwise. Planting dates come
with crop installations (``planting_dates``); until then they are ``null``.

The build is set-based: four queries whatever the number of plots (an organisation's suppliers,
consents, households with their district, plots), then pure Python per plot.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.utils import timezone
from shapely.geometry import MultiPolygon, Point, Polygon, shape
from shapely.geometry.polygon import orient

from farmers.consent import EUDR_PURPOSE, current_purposes_of, eudr_allowed
from farmers.models import Household, Plot
from registry.actors import Actor
from registry.history import access_log_record

from .choices import DeliveryStatus
from .models import Contract, Delivery

EUDR_CUTOFF = date(2020, 12, 31)
# From this area up a plot is described by its polygon; below it a point is enough.
POLYGON_FROM_HA = Decimal("4")
DECIMALS = 7  # ~1 cm; the EU system asks for at least 6
COUNTRY = "PE"
SHARING_PURPOSE = EUDR_PURPOSE
EXCLUDED_REASON = "no_buyer_sharing_consent"
BEFORE_CUTOFF = "before_cutoff"
NEEDS_CHECK = "needs_check"
MEDIA_TYPE = "application/geo+json"


@dataclass(frozen=True)
class Supplier:
    """A household that supplies a contract; ``plot_ids`` narrows it to the plots it delivered
    from (``None``: all its active plots of the crop)."""

    household_id: UUID
    plot_ids: frozenset[UUID] | None = None


def contract_suppliers(contract: Contract) -> list[Supplier]:
    """Who supplies ``contract``: the household that sells under it; for a producer
    organisation's contract, the member households that delivered under it (deliveries not
    rejected; one query, whatever the number of members)."""
    if contract.household_id is not None:
        return [Supplier(household_id=contract.household_id)]
    members = (
        Delivery.objects.filter(contract_id=contract.pk)
        .exclude(status=DeliveryStatus.REJECTED)
        .order_by("household_id")
        .values_list("household_id", flat=True)
        .distinct()
    )
    return [Supplier(household_id=pk) for pk in members]


def consenting(household_ids: Iterable[UUID]) -> set[UUID]:
    """The households whose current consent includes sharing with buyers (one query)."""
    current = current_purposes_of(household_ids)
    return {pk for pk, purposes in current.items() if eudr_allowed(purposes)}


def cutoff_status(planted_on: date | None, registered_on: date) -> str:
    """``before_cutoff`` when planted, or else registered, on or before 31/12/2020."""
    day = planted_on if planted_on is not None else registered_on
    return BEFORE_CUTOFF if day <= EUDR_CUTOFF else NEEDS_CHECK


def _coords(ring: Sequence[Sequence[float]]) -> list[list[float]]:
    return [[round(x, DECIMALS), round(y, DECIMALS)] for x, y, *_z in ring]


def _polygon(polygon: Polygon) -> list[list[list[float]]]:
    oriented = orient(polygon, sign=1.0)  # exterior counter-clockwise, holes clockwise
    return [_coords(oriented.exterior.coords), *(_coords(r.coords) for r in oriented.interiors)]


def plot_geometry(geometry: Mapping[str, Any], area_ha: Decimal) -> dict[str, Any]:
    """The plot as EUDR wants it: a Point under 4 ha, its (Multi)Polygon from 4 ha up."""
    geom = shape(geometry)
    if Decimal(area_ha) < POLYGON_FROM_HA:
        point: Point = geom.centroid
        if not geom.contains(point):
            point = geom.representative_point()
        return {
            "type": "Point",
            "coordinates": [round(point.x, DECIMALS), round(point.y, DECIMALS)],
        }
    if isinstance(geom, MultiPolygon):
        return {"type": "MultiPolygon", "coordinates": [_polygon(p) for p in geom.geoms]}
    return {"type": "Polygon", "coordinates": _polygon(geom)}


def plot_feature(
    *,
    plot_id: UUID,
    geometry: Mapping[str, Any],
    area_ha: Decimal,
    registered_on: date,
    producer_name: str,
    place: str,
    crop: str,
    planting_date: date | None = None,
) -> dict[str, Any]:
    """One plot as a GeoJSON Feature with the EUDR properties and ours."""
    return {
        "type": "Feature",
        "geometry": plot_geometry(geometry, area_ha),
        "properties": {
            "ProducerName": producer_name,
            "ProducerCountry": COUNTRY,
            "ProductionPlace": place,
            "Area": float(area_ha),
            "plot_id": str(plot_id),
            "crop": crop,
            "planting_date": planting_date.isoformat() if planting_date else None,
            "deforestation_cutoff": cutoff_status(planting_date, registered_on),
        },
    }


@dataclass
class EudrCollection:
    """The FeatureCollection and the households whose names it shows (for the access log)."""

    data: dict[str, Any]
    household_ids: list[UUID]


def eudr_collection(
    contract: Contract,
    suppliers: Sequence[Supplier] | None = None,
    planting_dates: Mapping[UUID, date] | None = None,
) -> EudrCollection:
    """The contract's EUDR FeatureCollection (three queries, whatever the number of plots)."""
    suppliers = contract_suppliers(contract) if suppliers is None else list(suppliers)
    planting_dates = planting_dates or {}
    allowed = consenting(s.household_id for s in suppliers)
    everyone = {s.household_id: s.plot_ids for s in suppliers}
    households = {
        pk: (name, place)
        for pk, name, place in Household.objects.filter(pk__in=list(everyone)).values_list(
            "id", "head_name", "district__name"
        )
    }
    plots = (
        Plot.objects.filter(household_id__in=list(everyone), is_active=True)
        .order_by("household_id", "created_at", "id")
        .values_list("id", "household_id", "geometry", "area_ha", "crops", "created_at")
    )
    features: list[dict[str, Any]] = []
    shown: list[UUID] = []
    excluded_plots = 0
    excluded_households: set[UUID] = set()
    for plot_id, household_id, geometry, area_ha, crops, created_at in plots.iterator(
        chunk_size=1000
    ):
        only = everyone[household_id]
        if only is not None and plot_id not in only:
            continue
        if crops and contract.crop not in crops:
            continue
        if household_id not in allowed:
            # Supplies the contract, but the family did not consent to sharing with buyers.
            excluded_plots += 1
            excluded_households.add(household_id)
            continue
        name, place = households[household_id]
        features.append(
            plot_feature(
                plot_id=plot_id,
                geometry=geometry,
                area_ha=area_ha,
                registered_on=timezone.localdate(created_at),
                producer_name=name,
                place=place,
                crop=contract.crop,
                planting_date=planting_dates.get(plot_id),
            )
        )
        if not shown or shown[-1] != household_id:
            shown.append(household_id)
    return EudrCollection(
        data={
            "type": "FeatureCollection",
            "features": features,
            "excluded": {
                "plots": excluded_plots,
                "households": len(excluded_households),
                "reason": EXCLUDED_REASON,
            },
        },
        household_ids=shown,
    )


def eudr_read(actor: Actor, contract: Contract, path: str = "") -> str:
    """The contract's EUDR file as GeoJSON text, for someone who may see the contract (API and
    admin). Producers' names and plots are personal data: the read is logged in the access log
    (who, which households, which request)."""
    built = eudr_collection(contract)
    access_log_record(
        actor=actor,
        resource="eudr",
        object_ids=[str(pk) for pk in built.household_ids],
        fields=["ProducerName", "geometry"],
        path=path,
    )
    return json_text(built.data)


def json_text(data: dict[str, Any]) -> str:
    """The file's text: compact UTF-8 JSON (names with accents kept as written)."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
