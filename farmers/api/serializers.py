"""Serializers of the farmers API: explicit fields; coca fields only for ``coca:read``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farmers import policies
from farmers.choices import (
    AppealKind,
    AppealStatus,
    ConsentPurpose,
    CorrectableField,
    CorrectionStatus,
    Crop,
    DocumentType,
    EradicationKind,
    EradicationStatus,
    ExclusionStatus,
    HouseholdStatus,
    Relationship,
    Sex,
    Tenure,
    VerificationMethod,
    VerificationStatus,
)
from farmers.evidence import visit_plot_ids
from farmers.identity import normalize_document
from farmers.models import (
    Agreement,
    Appeal,
    Eradication,
    ExclusionProposal,
    Household,
    Member,
    Plot,
    PossibleDuplicate,
    StageChange,
    Verification,
    VisitCorrection,
)
from registry.api.fields import BoundedDateField, DecimalStringField


def coca_shown(context: dict[str, Any], record: Any) -> bool:
    """Whether this response shows the coca fields of ``record`` (``policies.coca_visible``
    for the request's actor, when the view shows coca at all)."""
    return bool(context.get("show_coca")) and policies.coca_visible(context.get("actor"), record)


class CocaFieldsMixin:
    """Drops ``coca_fields`` from the output unless the caller may read coca for this record."""

    coca_fields: tuple[str, ...] = ()

    def to_representation(self, instance: Any) -> Any:
        data = super().to_representation(instance)  # type: ignore[misc]
        if not coca_shown(self.context, instance):  # type: ignore[attr-defined]
            for name in self.coca_fields:
                data.pop(name, None)
        return data


def stage_shown(context: dict[str, Any], record: Any) -> bool:
    """Whether this response shows the stage data of ``record`` (a household or a stage change:
    ``policies.stage_visible`` for the request's actor; the stage is coca data)."""
    return policies.stage_visible(context.get("actor"), record)


def stage_logged(context: dict[str, Any], record: Any) -> bool:
    """Whether showing ``record``'s stage is a logged coca read: shown by virtue of coca:read
    in its area (partners' keys, people reading with coca:read), not as the programme's own
    people without it."""
    return stage_shown(context, record) and policies.coca_visible(context.get("actor"), record)


class MemberSerializer(serializers.ModelSerializer[Member]):
    """A household member as returned by the API."""

    class Meta:
        model = Member
        fields = [
            "id",
            "given_names",
            "surnames",
            "document_type",
            "document_number",
            "sex",
            "birth_date",
            "relationship",
            "phone",
            "is_head",
        ]
        read_only_fields = fields


class MemberInputSerializer(serializers.Serializer[Any]):
    """A member in a registration request (normalised and checked by the service)."""

    id = serializers.UUIDField(required=False)
    given_names = serializers.CharField(max_length=120)
    surnames = serializers.CharField(max_length=120)
    document_type = serializers.ChoiceField(
        choices=DocumentType.choices, required=False, allow_blank=True
    )
    document_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = BoundedDateField(kind="birth")
    relationship = serializers.ChoiceField(choices=Relationship.choices)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class ConsentInputSerializer(serializers.Serializer[Any]):
    """The family's consent given with the registration."""

    signed_on = BoundedDateField(kind="event")
    purposes = serializers.ListField(
        child=serializers.ChoiceField(choices=ConsentPurpose.choices), min_length=1, max_length=10
    )
    notice_version = serializers.CharField(max_length=20, required=False)
    language = serializers.CharField(max_length=10, required=False)


class HouseholdCreateSerializer(serializers.Serializer[Any]):
    """Register a household with its members (and consent) in one request."""

    id = serializers.UUIDField(required=False, help_text=_("Client-chosen id: retries are safe."))
    program = serializers.CharField(max_length=50)
    district = serializers.RegexField(r"^[0-9]{6}$", max_length=6)
    community = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    members = serializers.ListField(child=MemberInputSerializer(), min_length=1, max_length=30)
    consent = ConsentInputSerializer(required=False)


class HouseholdLookupSerializer(serializers.Serializer[Any]):
    """Find households by a member's ID document, sent in the body (never in a URL)."""

    document_type = serializers.ChoiceField(choices=DocumentType.choices)
    document_number = serializers.CharField(max_length=20)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["document_number"] = normalize_document(
                attrs["document_type"], attrs["document_number"]
            )
        except DjangoValidationError as exc:
            details = [serializers.ErrorDetail(m, code=exc.code) for m in exc.messages]
            raise serializers.ValidationError({"document_number": details}) from exc
        return attrs


class MemberPatchSerializer(serializers.Serializer[Any]):
    """A member in a PATCH: with ``id`` it changes that member (``is_active: false`` takes them
    off the household); without ``id`` it adds a member."""

    id = serializers.UUIDField(required=False)
    given_names = serializers.CharField(max_length=120, required=False)
    surnames = serializers.CharField(max_length=120, required=False)
    document_type = serializers.ChoiceField(
        choices=DocumentType.choices, required=False, allow_blank=True
    )
    document_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False)
    birth_date = BoundedDateField(kind="birth", required=False)
    relationship = serializers.ChoiceField(choices=Relationship.choices, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class HouseholdUpdateSerializer(serializers.Serializer[Any]):
    """Fields of a household that can be changed with PATCH (members nested)."""

    community = serializers.CharField(max_length=150, required=False, allow_blank=True)
    district = serializers.RegexField(r"^[0-9]{6}$", max_length=6, required=False)
    program = serializers.CharField(max_length=50, required=False)
    members = serializers.ListField(child=MemberPatchSerializer(), required=False, max_length=30)


class TransitionSerializer(serializers.Serializer[Any]):
    """A workflow move: the target state and, where the move needs one, a reason."""

    to: serializers.Field[Any, Any, Any, Any] = serializers.CharField(max_length=30)
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")


class HouseholdTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(
        choices=[HouseholdStatus.ACTIVE, HouseholdStatus.REJECTED, HouseholdStatus.INACTIVE]
    )


class VerificationTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(
        choices=[VerificationStatus.CONFIRMED, VerificationStatus.REJECTED]
    )


class PossibleDuplicateSerializer(serializers.ModelSerializer[PossibleDuplicate]):
    """A near match awaiting review."""

    household = serializers.UUIDField(source="candidate_id", read_only=True)
    code = serializers.CharField(source="candidate.code", read_only=True)

    class Meta:
        model = PossibleDuplicate
        fields = ["household", "code", "score", "reasons"]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer[Household]):
    """A household with its active members (``stage``, ``stage_since`` and ``milestones`` only
    where the caller may see the stage: ``policies.stage_visible``)."""

    stage_fields = ("stage", "stage_since", "milestones")

    program = serializers.CharField(source="program.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    members = MemberSerializer(many=True, read_only=True, source="live_members")
    milestones = serializers.DictField(
        child=serializers.DateField(),
        read_only=True,
        help_text=_("Each stage criterion met, with the date it was met (set by the engine)."),
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "code",
            "program",
            "district",
            "community",
            "status",
            "stage",
            "stage_since",
            "milestones",
            "head_name",
            "members",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def to_representation(self, instance: Household) -> Any:
        data = super().to_representation(instance)
        if not stage_shown(self.context, instance):
            for name in self.stage_fields:
                data.pop(name, None)
        return data


class HouseholdDetailSerializer(HouseholdSerializer):
    """A household with members and the open near matches the caller may see."""

    possible_duplicates = serializers.SerializerMethodField()
    rejection_reason = serializers.CharField(read_only=True)
    merged_into = serializers.UUIDField(source="merged_into_id", read_only=True, allow_null=True)

    class Meta(HouseholdSerializer.Meta):
        fields = [
            *HouseholdSerializer.Meta.fields,
            "possible_duplicates",
            "rejection_reason",
            "merged_into",
        ]
        read_only_fields = fields

    @extend_schema_field(PossibleDuplicateSerializer(many=True))
    def get_possible_duplicates(self, household: Household) -> list[dict[str, Any]]:
        rows = self.context.get("possible_duplicates", [])
        return PossibleDuplicateSerializer(rows, many=True).data  # type: ignore[return-value]


class GeometrySerializer(serializers.Serializer[Any]):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([lon, lat])."""

    type = serializers.ChoiceField(choices=["Polygon", "MultiPolygon"])
    coordinates = serializers.ListField(child=serializers.ListField())


class OverlapSerializer(serializers.Serializer[Any]):
    """Another household's plot overlapping this one."""

    plot = serializers.UUIDField(source="other_id")
    household_code = serializers.SerializerMethodField()
    area_ha = serializers.DecimalField(max_digits=10, decimal_places=4)

    def get_household_code(self, overlap: Any) -> str | None:
        actor = self.context.get("actor")
        household = overlap.other.household
        if actor is not None and policies.household_can(actor, household, "view"):
            return str(household.code)
        return None


class PlotSerializer(serializers.ModelSerializer[Plot]):
    """A plot with its boundary, computed area and overlaps."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    geometry = GeometrySerializer(read_only=True)
    overlaps = OverlapSerializer(many=True, read_only=True)
    crops = serializers.ListField(
        child=serializers.ChoiceField(choices=Crop.choices), read_only=True
    )

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
    tenure = serializers.ChoiceField(choices=Tenure.choices)
    geometry = serializers.JSONField()
    crops = serializers.ListField(
        child=serializers.ChoiceField(choices=Crop.choices), required=False, max_length=20
    )


class PlotUploadSerializer(serializers.Serializer[Any]):
    """Record a plot from a GeoJSON, KML or GPX file."""

    household = serializers.UUIDField()
    name = serializers.CharField(max_length=120)
    tenure = serializers.ChoiceField(choices=Tenure.choices)
    file = serializers.FileField()


class PlotUpdateSerializer(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=120, required=False)
    tenure = serializers.ChoiceField(choices=Tenure.choices, required=False)
    geometry = serializers.JSONField(required=False)
    crops = serializers.ListField(
        child=serializers.ChoiceField(choices=Crop.choices), required=False, max_length=20
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
    crop = serializers.ChoiceField(choices=Crop.choices)
    ha = DecimalStringField(max_digits=10, decimal_places=4)


class LocationSerializer(serializers.Serializer[Any]):
    """A GPS point in WGS84 decimal degrees, inside Peru."""

    lat = serializers.FloatField(min_value=-18.4, max_value=0.1)
    lon = serializers.FloatField(min_value=-81.4, max_value=-68.6)


class VerificationSerializer(CocaFieldsMixin, serializers.ModelSerializer[Verification]):
    """A verification visit (``coca_ha`` needs coca:read)."""

    coca_fields = ("coca_ha",)
    household = serializers.UUIDField(source="household_id", read_only=True)
    licit_crops = LicitCropSerializer(many=True, read_only=True)
    location = serializers.SerializerMethodField()
    plots = serializers.SerializerMethodField()

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


class VerificationCreateSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField()
    visited_on = BoundedDateField(kind="event")
    method = serializers.ChoiceField(choices=VerificationMethod.choices)
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
    kind = serializers.ChoiceField(choices=EradicationKind.choices)


class EradicationTransitionSerializer(TransitionSerializer):
    to = serializers.ChoiceField(choices=[EradicationStatus.VERIFIED, EradicationStatus.REJECTED])


class VerificationPhotoSerializer(serializers.Serializer[Any]):
    """The visit's photo (multipart field ``photo``)."""

    photo = serializers.FileField()


class StageChangeSerializer(serializers.ModelSerializer[StageChange]):
    """One entry of the transition ledger: a household's move between stages, with the reason
    and the evidence behind it (its coca figures only for ``coca:read``)."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    household_code = serializers.CharField(source="household.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    program = serializers.CharField(source="program.code", read_only=True)
    coca_fields = ("evidence.coca",)

    class Meta:
        model = StageChange
        fields = [
            "id",
            "household",
            "household_code",
            "from_stage",
            "to_stage",
            "effective_on",
            "at",
            "reason",
            "evidence",
            "district",
            "program",
        ]
        read_only_fields = fields

    def to_representation(self, instance: StageChange) -> Any:
        data = super().to_representation(instance)
        if not coca_shown(self.context, instance):
            data["evidence"] = {k: v for k, v in (data["evidence"] or {}).items() if k != "coca"}
        return data


class ExclusionProposalSerializer(serializers.ModelSerializer[ExclusionProposal]):
    """An exclusion the engine proposed (coca data): the relapse that triggered it, the evidence
    summary behind it, and programme staff's decision."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    household_code = serializers.CharField(source="household.code", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = ExclusionProposal
        fields = [
            "id",
            "household",
            "household_code",
            "relapse_on",
            "status",
            "evidence",
            "decided_by",
            "decided_at",
            "decision_note",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class ExclusionTransitionSerializer(serializers.Serializer[Any]):
    """``{"to": "confirmed"}`` or ``{"to": "dismissed", "note": "..."}`` (programme staff)."""

    to = serializers.ChoiceField(choices=ExclusionStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AppealSerializer(serializers.ModelSerializer[Appeal]):
    """A family's appeal of its relapse or exclusion (coca data), with its grounds, evidence,
    who filed it and programme staff's decision."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    household_code = serializers.CharField(source="household.code", read_only=True)
    stage_change = serializers.IntegerField(source="stage_change_id", read_only=True)
    proposal = serializers.UUIDField(source="proposal_id", read_only=True)
    filed_by = serializers.IntegerField(source="created_by_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = Appeal
        fields = [
            "id",
            "household",
            "household_code",
            "kind",
            "relapse_on",
            "stage_change",
            "proposal",
            "grounds",
            "evidence_note",
            "status",
            "filed_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class AppealCreateSerializer(serializers.Serializer[Any]):
    """File the family's appeal: ``{"household", "kind": "relapse"|"exclusion", "grounds"}``."""

    household = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=AppealKind.choices)
    grounds = serializers.CharField(max_length=4000)
    evidence_note = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


class AppealTransitionSerializer(serializers.Serializer[Any]):
    """``{"to": "upheld"|"rejected", "note": "..."}`` (programme staff; the note is required)."""

    to = serializers.ChoiceField(choices=AppealStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class CorrectionSerializer(serializers.ModelSerializer[VisitCorrection]):
    """A correction of a confirmed visit (coca data): field, old → new, why, who proposed it
    and who approved or rejected it."""

    verification = serializers.UUIDField(source="verification_id", read_only=True)
    proposed_by = serializers.IntegerField(source="created_by_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)

    class Meta:
        model = VisitCorrection
        fields = [
            "id",
            "verification",
            "field",
            "old_value",
            "new_value",
            "reason",
            "status",
            "proposed_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "version",
            "created_at",
        ]
        read_only_fields = fields


class CorrectionCreateSerializer(serializers.Serializer[Any]):
    """``{"field": "coca_ha"|"visited_on", "value", "reason"}``."""

    field = serializers.ChoiceField(choices=CorrectableField.choices)
    value = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=2000)


class CorrectionTransitionSerializer(serializers.Serializer[Any]):
    """``{"to": "approved"}`` or ``{"to": "rejected", "reason": "..."}`` (a second person)."""

    to = serializers.ChoiceField(choices=CorrectionStatus.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
