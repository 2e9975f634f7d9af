"""Serializers of a household's records: plots, agreements, verification visits and
eradications."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farmers import consent, policies
from farmers.choices import (
    Crop,
    EradicationKind,
    EradicationStatus,
    InstallationStatus,
    Tenure,
    Variety,
    VerificationMethod,
    VerificationStatus,
)
from farmers.evidence import visit_plot_ids
from farmers.models import (
    Agreement,
    CropInstallation,
    Eradication,
    Plot,
    Verification,
)
from registry.api.fields import BoundedDateField, ChoiceField, DecimalStringField
from registry.api.lean import own_row_mask

from .common import CocaFieldsMixin, PersonalFieldsMixin, TransitionSerializer


class VerificationTransitionSerializer(TransitionSerializer):
    to = ChoiceField(choices=[VerificationStatus.CONFIRMED, VerificationStatus.REJECTED])


class GeometrySerializer(serializers.Serializer[Any]):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([lon, lat])."""

    type = ChoiceField(choices=["Polygon", "MultiPolygon"])
    coordinates = serializers.ListField(child=serializers.ListField())


class OverlapSerializer(serializers.Serializer[Any]):
    """Another household's plot overlapping this one."""

    plot = serializers.UUIDField(source="other_id")
    household_code = serializers.SerializerMethodField()
    area_ha = serializers.DecimalField(max_digits=10, decimal_places=4)

    # On the lean list path (``registry.api.lean``): the method reads a row of these columns
    # (``overlap.other.household``), the policy answered from the actor's areas in memory.
    lean_reads = {
        "household_code": (
            "other__household__code",
            "other__household__district_id",
            "other__household__program_id",
        )
    }

    def get_household_code(self, overlap: Any) -> str | None:
        actor = self.context.get("actor")
        household = overlap.other.household
        if actor is not None and policies.household_can(actor, household, "view"):
            return str(household.code)
        return None


class PlotSerializer(PersonalFieldsMixin, serializers.ModelSerializer[Plot]):
    """A plot with its boundary, computed area and overlaps; pseudonymised (``geometry`` null,
    no name) where the household's consent does not cover the caller (``farmers.consent``)."""

    masked_fields: dict[str, Any] = {"geometry": None, "name": ""}

    household = serializers.UUIDField(source="household_id", read_only=True)
    geometry = GeometrySerializer(read_only=True, allow_null=True)
    overlaps = OverlapSerializer(many=True, read_only=True)
    crops = serializers.ListField(child=ChoiceField(choices=Crop.choices), read_only=True)

    class Meta:
        model = Plot
        fields = [
            "id",
            "household",
            "name",
            "tenure",
            "geometry",
            "area_ha",
            "crops",
            "overlaps",
            "is_active",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PlotCreateSerializer(serializers.Serializer[Any]):
    """Record a plot: its boundary is validated and measured by the service."""

    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField()
    name = serializers.CharField(max_length=120)
    tenure = ChoiceField(choices=Tenure.choices)
    geometry = serializers.JSONField()
    crops = serializers.ListField(
        child=ChoiceField(choices=Crop.choices), required=False, max_length=20
    )


class PlotUploadSerializer(serializers.Serializer[Any]):
    """Record a plot from a GeoJSON, KML or GPX file."""

    household = serializers.UUIDField()
    name = serializers.CharField(max_length=120)
    tenure = ChoiceField(choices=Tenure.choices)
    file = serializers.FileField()


class PlotUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120, required=False)
    tenure = ChoiceField(choices=Tenure.choices, required=False)
    geometry = serializers.JSONField(required=False)
    crops = serializers.ListField(
        child=ChoiceField(choices=Crop.choices), required=False, max_length=20
    )
    is_active = serializers.BooleanField(required=False)


class AgreementSerializer(CocaFieldsMixin, serializers.ModelSerializer[Agreement]):
    """A voluntary coca-reduction agreement (``coca_ha_committed`` needs coca:read)."""

    coca_fields = ("coca_ha_committed",)
    household = serializers.UUIDField(source="household_id", read_only=True)

    class Meta:
        model = Agreement
        fields = ["id", "household", "signed_on", "coca_ha_committed", "is_active", "created_at"]
        read_only_fields = fields


class AgreementCreateSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField()
    signed_on = BoundedDateField(kind="event")
    coca_ha_committed = DecimalStringField(max_digits=10, decimal_places=4)


class LicitCropSerializer(serializers.Serializer[Any]):
    crop = ChoiceField(choices=Crop.choices)
    ha = DecimalStringField(max_digits=10, decimal_places=4)


class LocationSerializer(serializers.Serializer[Any]):
    """A GPS point in WGS84 decimal degrees, inside Peru."""

    lat = serializers.FloatField(min_value=-18.4, max_value=0.1)
    lon = serializers.FloatField(min_value=-81.4, max_value=-68.6)


class VerificationSerializer(
    PersonalFieldsMixin, CocaFieldsMixin, serializers.ModelSerializer[Verification]
):
    """A verification visit (``coca_ha`` needs coca:read); pseudonymised (no GPS point, no
    photo digest) where the household's consent does not cover the caller, and the photo
    digest needs the ``photos`` purpose outside the programme (``farmers.consent``)."""

    coca_fields = ("coca_ha",)
    masked_fields: dict[str, Any] = {"location": None, "photo_sha256": ""}
    household = serializers.UUIDField(source="household_id", read_only=True)
    licit_crops = LicitCropSerializer(many=True, read_only=True)
    location = serializers.SerializerMethodField()
    plots = serializers.SerializerMethodField()

    # On the lean list path (``registry.api.lean``): the columns each method reads of a row
    # (``plot_ids``: the list's annotation).
    lean_reads = {"location": ("latitude", "longitude"), "plots": ("plot_ids",)}

    class Meta:
        model = Verification
        fields = [
            "id",
            "household",
            "visited_on",
            "method",
            "coca_ha",
            "licit_crops",
            "location",
            "plots",
            "photo_sha256",
            "status",
            "review_note",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(LocationSerializer(allow_null=True))
    def get_location(self, visit: Verification) -> dict[str, float] | None:
        if visit.latitude is None or visit.longitude is None:
            return None
        return {"lat": float(visit.latitude), "lon": float(visit.longitude)}

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_plots(self, visit: Verification) -> list[str]:
        """The household's plots the visit saw."""
        return visit_plot_ids(visit)

    def to_representation(self, instance: Verification) -> Any:
        data = super().to_representation(instance)
        own_row_mask(VerificationSerializer, self, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """The photo digest of ``record`` (a visit, or a row of the lean list path) withheld
        unless the caller may see the photo (``consent.photo_visible``)."""
        if data.get("photo_sha256") and not consent.photo_visible(context.get("actor"), record):
            data["photo_sha256"] = ""


class VerificationCreateSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField()
    visited_on = BoundedDateField(kind="event")
    method = ChoiceField(choices=VerificationMethod.choices)
    coca_ha = DecimalStringField(max_digits=10, decimal_places=4)
    licit_crops = LicitCropSerializer(many=True, required=False)
    location = LocationSerializer(required=False)
    plots = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=50,
        help_text="The household's plots the visit saw (each must be the household's).",
    )


class EradicationSerializer(CocaFieldsMixin, serializers.ModelSerializer[Eradication]):
    """An eradication record: coca data (``kind`` and ``hectares`` need coca:read)."""

    coca_fields = ("kind", "hectares")
    household = serializers.UUIDField(source="household_id", read_only=True)
    plot = serializers.UUIDField(source="plot_id", read_only=True)
    date = serializers.DateField(source="eradicated_on", read_only=True)
    verified_by = serializers.IntegerField(source="verified_by_id", read_only=True)

    class Meta:
        model = Eradication
        fields = [
            "id",
            "household",
            "plot",
            "date",
            "hectares",
            "kind",
            "status",
            "verified_by",
            "verified_at",
            "review_note",
            "created_at",
        ]
        read_only_fields = fields


class EradicationCreateSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField(
        required=False, help_text="The plot's household (checked when sent)."
    )
    plot = serializers.UUIDField()
    date = BoundedDateField(kind="event", source="eradicated_on")
    hectares = DecimalStringField(max_digits=10, decimal_places=4)
    kind = ChoiceField(choices=EradicationKind.choices)


class EradicationTransitionSerializer(TransitionSerializer):
    to = ChoiceField(choices=[EradicationStatus.VERIFIED, EradicationStatus.REJECTED])


class CropInstallationSerializer(serializers.ModelSerializer[CropInstallation]):
    """A crop installed on a plot: crop, variety, area, plants, planting date, the support item
    that paid for it, and its status (``installed`` → ``producing`` → ``lost``)."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    plot = serializers.UUIDField(source="plot_id", read_only=True)
    planting_date = serializers.DateField(source="planted_on", read_only=True)
    support = serializers.IntegerField(source="support_id", read_only=True, allow_null=True)
    area_ha = DecimalStringField(max_digits=10, decimal_places=4, read_only=True)

    class Meta:
        model = CropInstallation
        fields = [
            "id",
            "household",
            "plot",
            "crop",
            "variety",
            "area_ha",
            "plants",
            "planting_date",
            "support",
            "status",
            "lost_on",
            "status_note",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CropInstallationCreateSerializer(serializers.Serializer[Any]):
    """``variety``: one of the crop's (cacao: ccn51, chuncho, ics95, tsh565, ics1, trinitario,
    criollo, cacao_other; coffee: catimor, typica, caturra, bourbon, geisha, pache, castillo,
    coffee_other); blank for a crop with no list. Checked by the service (400
    ``unknown_variety``)."""

    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField(
        required=False, help_text="The plot's household (checked when sent)."
    )
    plot = serializers.UUIDField()
    crop = serializers.CharField(max_length=16)
    variety = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text="One of: " + ", ".join(Variety.values),
    )
    area_ha = DecimalStringField(max_digits=10, decimal_places=4)
    plants = serializers.IntegerField(min_value=1, max_value=10_000_000)
    planting_date = BoundedDateField(kind="planting")
    support = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, help_text="The support item that paid."
    )


class CropInstallationTransitionSerializer(TransitionSerializer):
    to = ChoiceField(choices=[InstallationStatus.PRODUCING, InstallationStatus.LOST])


class VerificationPhotoSerializer(serializers.Serializer[Any]):
    """The visit's photo (multipart field ``photo``)."""

    photo = serializers.FileField()
