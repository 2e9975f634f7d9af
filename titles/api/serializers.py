"""Serializers of the titles API: explicit fields; ``status`` is never writable."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farmers.api.serializers import PersonalFieldsMixin
from registry.api.fields import BoundedDateField, ChoiceField, funder_code_field
from titles.choices import (
    OPEN_STATUSES,
    ObjectionDecision,
    Procedure,
    RejectionReason,
    TitleDocumentType,
    TitleStatus,
)
from titles.models import Objection, TitleApplication, TitleDocument, TitleStatusChange
from titles.workdays import working_days_between
from titles.workflow import STATE_PARTY, next_states, required_documents


class TitleApplicationCreateSerializer(serializers.Serializer[Any]):
    """File a title application (a draft) for a household's plot."""

    id = serializers.UUIDField(required=False, help_text=_("Client-chosen id: retries are safe."))
    household = serializers.UUIDField()
    plot = serializers.UUIDField()
    authority = serializers.SlugField(max_length=50, help_text=_("Titling authority code."))
    procedure = ChoiceField(
        choices=Procedure.choices,
        required=False,
        default=Procedure.ADJUDICATION,
        help_text=_(
            "adjudication (state land) or prescription (administrative prescription over "
            "private land)."
        ),
    )
    possession_started_on = BoundedDateField(
        kind="birth",
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "The day the family's possession began; checked against the procedure's years "
            "(needed by the submission at the latest)."
        ),
    )
    funding_source = funder_code_field()
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    def to_internal_value(self, data: Any) -> Any:
        # The field page's outbox posts an empty date input as "": no date given.
        if hasattr(data, "get") and data.get("possession_started_on") == "":
            data = {**data, "possession_started_on": None}
        return super().to_internal_value(data)


class ClockSerializer(serializers.Serializer[Any]):
    """Days the file has spent with each party (the current state's days included)."""

    programme_days = serializers.IntegerField()
    family_days = serializers.IntegerField()
    authority_days = serializers.IntegerField()
    sunarp_days = serializers.IntegerField()
    waiting_on = ChoiceField(
        choices=["programme", "family", "authority", "sunarp"], allow_null=True
    )


class TitleApplicationSerializer(
    PersonalFieldsMixin, serializers.ModelSerializer[TitleApplication]
):
    """A title file with its milestones and SLA clock; pseudonymised (no SUNARP partida, which
    names the owner in the public registry, and no free-text note) where the household's
    consent does not cover the caller (``farmers.consent``)."""

    masked_fields: dict[str, Any] = {"partida_number": "", "note": ""}

    household = serializers.UUIDField(source="household_id", read_only=True)
    plot = serializers.UUIDField(source="plot_id", read_only=True)
    authority = serializers.CharField(source="authority.code", read_only=True)
    program = serializers.CharField(source="program.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    funding_source = serializers.CharField(
        source="funding_source.code", read_only=True, allow_null=True
    )
    overdue = serializers.SerializerMethodField()
    clock = serializers.SerializerMethodField()
    allowed_transitions = serializers.SerializerMethodField()
    missing_documents = serializers.SerializerMethodField()

    # On the lean list path (``registry.api.lean``): the columns each method reads of a row
    # (``missing_documents`` also its ``documents``, the view's ``lean_related``).
    lean_reads = {
        "overdue": ("status", "due_on"),
        "clock": (
            "status",
            "status_since",
            "programme_days",
            "family_days",
            "authority_days",
            "sunarp_days",
        ),
        "allowed_transitions": ("status", "observed_from"),
        "missing_documents": ("procedure", "status", "observed_from"),
    }

    class Meta:
        model = TitleApplication
        fields = [
            "id",
            "household",
            "plot",
            "authority",
            "program",
            "district",
            "procedure",
            "possession_started_on",
            "funding_source",
            "status",
            "status_since",
            "observed_from",
            "allowed_transitions",
            "missing_documents",
            "submitted_on",
            "surveyed_on",
            "legal_review_on",
            "notice_starts_on",
            "notice_ends_on",
            "title_issued_on",
            "sent_to_sunarp_on",
            "registered_on",
            "closed_on",
            "partida_number",
            "registry_zone",
            "rejection_reason",
            "note",
            "due_on",
            "file_due_on",
            "overdue",
            "clock",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_overdue(self, obj: TitleApplication) -> bool:
        return bool(
            obj.status in OPEN_STATUSES
            and obj.due_on is not None
            and obj.due_on < timezone.localdate()
        )

    @extend_schema_field(ClockSerializer)
    def get_clock(self, obj: TitleApplication) -> dict[str, Any]:
        party = STATE_PARTY.get(obj.status)
        clock: dict[str, Any] = {
            "programme_days": obj.programme_days,
            "family_days": obj.family_days,
            "authority_days": obj.authority_days,
            "sunarp_days": obj.sunarp_days,
            "waiting_on": party,
        }
        if party is not None:
            clock[f"{party}_days"] += working_days_between(obj.status_since, timezone.localdate())
        return clock

    @extend_schema_field(serializers.ListField(child=ChoiceField(choices=TitleStatus.choices)))
    def get_allowed_transitions(self, obj: TitleApplication) -> list[str]:
        return next_states(obj)

    @extend_schema_field(
        serializers.ListField(child=ChoiceField(choices=TitleDocumentType.choices))
    )
    def get_missing_documents(self, obj: TitleApplication) -> list[str]:
        """The documents the file's procedure needs for its next steps and does not hold."""
        present = {document.type for document in obj.documents.all()}
        missing: list[str] = []
        for state in next_states(obj):
            for kind in required_documents(obj.procedure, state):
                if kind not in present and kind not in missing:
                    missing.append(kind)
        return missing


class TitleTransitionSerializer(serializers.Serializer[Any]):
    """A workflow move and the fields it may need."""

    to = ChoiceField(choices=TitleStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason = ChoiceField(
        choices=RejectionReason.choices, required=False, allow_blank=True, default=""
    )
    partida_number = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("SUNARP partida number: 8 to 11 digits."),
    )
    registry_zone = serializers.CharField(
        max_length=60, required=False, allow_blank=True, default=""
    )
    registered_on = BoundedDateField(kind="event", required=False, allow_null=True, default=None)
    on = BoundedDateField(
        kind="event",
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "Date of the act the move records (survey, legal report, start of the public "
            "notice, title, dispatch to SUNARP); default today; not before the previous act."
        ),
    )


class TitleStatusChangeSerializer(serializers.ModelSerializer[TitleStatusChange]):
    """One move of a file."""

    from_status = serializers.ChoiceField(choices=[("", "—"), *TitleStatus.choices], read_only=True)
    actor = serializers.SerializerMethodField()

    class Meta:
        model = TitleStatusChange
        fields = ["id", "from_status", "to_status", "actor", "note", "at"]
        read_only_fields = fields

    def get_actor(self, obj: TitleStatusChange) -> str:
        if obj.created_by_key is not None:
            return f"key:{obj.created_by_key.prefix}"
        if obj.created_by is not None:
            return str(obj.created_by.get_username())
        return "system"


class ObjectionSerializer(serializers.ModelSerializer[Objection]):
    """An objection filed during the public notice, with its decision."""

    class Meta:
        model = Objection
        fields = [
            "id",
            "objector_name",
            "grounds",
            "filed_on",
            "decision",
            "decision_note",
            "decided_on",
            "created_at",
        ]
        read_only_fields = fields


class ObjectionCreateSerializer(serializers.Serializer[Any]):
    """File an objection (only while the public notice is open)."""

    objector_name = serializers.CharField(max_length=200)
    grounds = serializers.CharField(max_length=5000)


class ObjectionDecisionSerializer(serializers.Serializer[Any]):
    """Decide an objection."""

    decision = ChoiceField(choices=[ObjectionDecision.UPHELD, ObjectionDecision.DISMISSED])
    note = serializers.CharField(max_length=2000)


class TitleDocumentSerializer(serializers.ModelSerializer[TitleDocument]):
    """A document of the file (download it from ``file/``)."""

    type = serializers.ChoiceField(choices=TitleDocumentType.choices, read_only=True)

    class Meta:
        model = TitleDocument
        fields = ["id", "type", "filename", "size", "content_type", "sha256", "created_at"]
        read_only_fields = fields


class TitleDocumentUploadSerializer(serializers.Serializer[Any]):
    """Upload a document (multipart fields ``type`` and ``file``; PDF, JPEG or PNG, ≤ 10 MB)."""

    type = ChoiceField(choices=TitleDocumentType.choices)
    file = serializers.FileField()


def page_serializer(item: type[serializers.Serializer[Any]], name: str) -> Any:
    """A cursor page of ``item`` for the schema of sub-resource lists."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "__doc__": f"A page of {item.__name__.removesuffix('Serializer')} records.",
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item(many=True),
        },
    )


StatusChangePage = page_serializer(TitleStatusChangeSerializer, "TitleStatusChangePage")
ObjectionPage = page_serializer(ObjectionSerializer, "ObjectionPage")
TitleDocumentPage = page_serializer(TitleDocumentSerializer, "TitleDocumentPage")
