"""Serializers of the transition ledger and of decisions about people: exclusion
proposals, appeals and visit corrections."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from farmers.choices import (
    AppealKind,
    AppealStatus,
    CorrectableField,
    CorrectionStatus,
    ExclusionStatus,
)
from farmers.models import (
    Appeal,
    ExclusionProposal,
    StageChange,
    VisitCorrection,
)
from registry.api.fields import ChoiceField

from .common import coca_shown


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
        self.lean_row_mask(self.context, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """The coca figures of ``record``'s evidence (a stage change, or a row of the lean list
        path) dropped unless the caller may read them."""
        if not coca_shown(context, record):
            data["evidence"] = {k: v for k, v in (data["evidence"] or {}).items() if k != "coca"}


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

    to = ChoiceField(choices=ExclusionStatus.choices)
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
    kind = ChoiceField(choices=AppealKind.choices)
    grounds = serializers.CharField(max_length=4000)
    evidence_note = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


class AppealTransitionSerializer(serializers.Serializer[Any]):
    """``{"to": "upheld"|"rejected", "note": "..."}`` (programme staff; the note is required)."""

    to = ChoiceField(choices=AppealStatus.choices)
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

    field = ChoiceField(choices=CorrectableField.choices)
    value = serializers.CharField(max_length=40)
    reason = serializers.CharField(max_length=2000)


class CorrectionTransitionSerializer(serializers.Serializer[Any]):
    """``{"to": "approved"}`` or ``{"to": "rejected", "reason": "..."}`` (a second person)."""

    to = ChoiceField(choices=CorrectionStatus.choices)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
