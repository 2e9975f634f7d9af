"""Serializers of households: members, consent, lookups, updates, moves and possible
duplicates."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from farmers import consent
from farmers.choices import (
    ConsentPurpose,
    DocumentType,
    HouseholdStatus,
    Relationship,
    Sex,
)
from farmers.identity import normalize_document
from farmers.models import (
    MEMBER_FIELDS,
    Consent,
    Household,
    Member,
    PossibleDuplicate,
)
from registry.api.fields import BoundedDateField, ChoiceField

from .common import TransitionSerializer, personal_shown, stage_shown


class MemberSerializer(serializers.ModelSerializer[Member]):
    """A household member as returned by the API."""

    class Meta:
        model = Member
        fields = ["id", *MEMBER_FIELDS, "is_head"]
        read_only_fields = fields


class MemberInputSerializer(serializers.Serializer[Any]):
    """A member in a registration request (normalised and checked by the service)."""

    id = serializers.UUIDField(required=False)
    given_names = serializers.CharField(max_length=120)
    surnames = serializers.CharField(max_length=120)
    document_type = ChoiceField(choices=DocumentType.choices, required=False, allow_blank=True)
    document_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    sex = ChoiceField(choices=Sex.choices)
    birth_date = BoundedDateField(kind="birth")
    relationship = ChoiceField(choices=Relationship.choices)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class ConsentInputSerializer(serializers.Serializer[Any]):
    """The family's consent given with the registration."""

    signed_on = BoundedDateField(kind="event")
    purposes = serializers.ListField(
        child=ChoiceField(choices=ConsentPurpose.choices), min_length=1, max_length=10
    )
    notice_version = serializers.CharField(max_length=20, required=False)
    language = serializers.CharField(max_length=10, required=False)


class ConsentSerializer(serializers.ModelSerializer[Consent]):
    """One version of a household's consent: purposes, dates, why it changed, who recorded it
    (``recorded_by_key``: the partner key's prefix, when a key did)."""

    recorded_by_key = serializers.CharField(
        source="created_by_key.prefix", read_only=True, default=None, allow_null=True
    )

    class Meta:
        model = Consent
        fields = [
            "id",
            "signed_on",
            "purposes",
            "notice_version",
            "language",
            "reason",
            "recorded_by_key",
            "created_at",
        ]
        read_only_fields = fields


class ConsentCreateSerializer(serializers.Serializer[Any]):
    """A new version of the family's consent: the purposes it keeps (none: withdrawn)."""

    purposes = serializers.ListField(
        child=ChoiceField(choices=ConsentPurpose.choices),
        allow_empty=True,
        max_length=10,
        help_text=_("The purposes the family now consents to; an empty list withdraws them all."),
    )
    reason = serializers.CharField(max_length=500, help_text=_("Why the consent changes."))
    signed_on = BoundedDateField(kind="event", required=False)
    notice_version = serializers.CharField(max_length=20, required=False)
    language = serializers.CharField(max_length=10, required=False)


class HouseholdCreateSerializer(serializers.Serializer[Any]):
    """Register a household with its members (and consent) in one request."""

    id = serializers.UUIDField(required=False, help_text=_("Client-chosen id: retries are safe."))
    program = serializers.CharField(max_length=50)
    district = serializers.RegexField(r"^[0-9]{6}$", max_length=6)
    community = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    members = serializers.ListField(child=MemberInputSerializer(), min_length=1, max_length=30)
    consent = ConsentInputSerializer(
        help_text=_("The family's signed consent: a registration without it is refused.")
    )


class HouseholdLookupSerializer(serializers.Serializer[Any]):
    """Find households by a member's ID document, sent in the body (never in a URL)."""

    document_type = ChoiceField(choices=DocumentType.choices)
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
    document_type = ChoiceField(choices=DocumentType.choices, required=False, allow_blank=True)
    document_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    sex = ChoiceField(choices=Sex.choices, required=False)
    birth_date = BoundedDateField(kind="birth", required=False)
    relationship = ChoiceField(choices=Relationship.choices, required=False)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class HouseholdUpdateSerializer(serializers.Serializer[Any]):
    """Fields of a household that can be changed with PATCH (members nested)."""

    community = serializers.CharField(max_length=150, required=False, allow_blank=True)
    district = serializers.RegexField(r"^[0-9]{6}$", max_length=6, required=False)
    program = serializers.CharField(max_length=50, required=False)
    members = serializers.ListField(child=MemberPatchSerializer(), required=False, max_length=30)


class HouseholdTransitionSerializer(TransitionSerializer):
    to = ChoiceField(
        choices=[HouseholdStatus.ACTIVE, HouseholdStatus.REJECTED, HouseholdStatus.INACTIVE]
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
    where the caller may see the stage: ``policies.stage_visible``). Pseudonymised
    (``pseudonymised: true``: no head's name, community or members) where the household's
    current consent does not grant the purpose the caller's organization needs
    (``farmers.consent``)."""

    stage_fields = ("stage", "stage_since", "milestones")
    # Fields the lean list path (``registry.api.lean``) leaves to ``household_mask``.
    lean_computed = ("pseudonymised",)
    # Personal data shown (reads by partners are access-logged: ``LoggedReadsMixin``).
    personal_fields = (
        "head_name",
        "members.given_names",
        "members.surnames",
        "members.document_number",
        "members.birth_date",
        "members.phone",
    )

    # What a pseudonymised household shows instead (``farmers.consent``).
    masked_fields: dict[str, Any] = {"head_name": None, "community": None, "members": list}

    program = serializers.CharField(source="program.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    head_name = serializers.CharField(read_only=True, allow_null=True)
    community = serializers.CharField(read_only=True, allow_null=True)
    members = MemberSerializer(many=True, read_only=True, source="live_members")
    pseudonymised = serializers.SerializerMethodField(
        help_text=_(
            "True when the family's consent does not cover sharing with your organization: "
            "names, IDs, phones, community and members are withheld."
        )
    )
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
            "pseudonymised",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_pseudonymised(self, household: Household) -> bool:
        return not personal_shown(self.context, household)

    def to_representation(self, instance: Household) -> Any:
        data = super().to_representation(instance)
        household_mask(self.context, instance, data)
        return data


def household_mask(
    context: dict[str, Any],
    record: Any,
    data: dict[str, Any],
    *,
    stage: bool | None = None,
    personal: bool | None = None,
) -> None:
    """Drop from ``data`` (a household as the API shows it) what the caller may not see of
    ``record`` (a ``Household``, or a row of the lean list path with its ``district_id`` and
    ``program_id``): the stage fields unless ``stage_shown``, and the personal data unless
    ``personal_shown`` (``pseudonymised``). The one masking step of both paths (serializer and
    list rows): per-record rules belong here, fed by the record's
    columns, never by a query. ``stage`` / ``personal``: ``stage_shown`` / ``personal_shown``
    already answered for this record (the list's access log asked them first)."""
    if not (stage_shown(context, record) if stage is None else stage):
        for name in HouseholdSerializer.stage_fields:
            data.pop(name, None)
    # Pseudonymised where the family's current consent does not cover the caller (the row
    # carries the consent's purposes as an annotated column: ``farmers.consent.with_consent``).
    hidden = not (personal_shown(context, record) if personal is None else personal)
    data["pseudonymised"] = hidden
    if hidden:
        consent.mask(data, HouseholdSerializer.masked_fields)


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
