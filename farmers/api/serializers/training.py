"""Serializers of technical assistance and training: events with their attendance (each
attendee's sex and age are the member's, computed, never sent) and practices adopted; and of
the support items (what the programme gave, its cost and who paid)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from registry.api.fields import BoundedDateField, ChoiceField, DecimalStringField, funder_code_field

from ...choices import Practice, Sex, TrainingTopic
from ...models import PracticeAdoption, Support, TrainingAttendance, TrainingEvent


def age_on(birth: Any, day: Any) -> int:
    """Age in whole years on ``day``."""
    return int(day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day)))


class AttendeeSerializer(serializers.ModelSerializer[TrainingAttendance]):
    """An attendee: the member, the household, and the member's sex and age on the event's
    date (from the member's record)."""

    member = serializers.UUIDField(source="member_id", read_only=True)
    household = serializers.UUIDField(source="household_id", read_only=True)
    sex = serializers.ChoiceField(choices=Sex.choices, source="member.sex", read_only=True)
    age = serializers.SerializerMethodField(help_text="Age in years on the event's date.")

    class Meta:
        model = TrainingAttendance
        fields = ["member", "household", "sex", "age"]
        read_only_fields = fields

    def get_age(self, attendance: TrainingAttendance) -> int:
        return age_on(attendance.member.birth_date, attendance.event.held_on)


class TrainingEventSerializer(serializers.ModelSerializer[TrainingEvent]):
    """A training or technical-assistance event with its attendance counted by sex."""

    program = serializers.CharField(source="program.code", read_only=True)
    district = serializers.CharField(source="district_id", read_only=True)
    date = serializers.DateField(source="held_on", read_only=True)
    cost_pen = DecimalStringField(max_digits=12, decimal_places=2, read_only=True)
    funding_source = serializers.CharField(
        source="funding_source.code", read_only=True, allow_null=True
    )
    funding_agreement = serializers.CharField(
        source="funding_agreement.code", read_only=True, allow_null=True
    )
    attendees_count = serializers.IntegerField(read_only=True)
    attendees_female = serializers.IntegerField(read_only=True)
    attendees_male = serializers.IntegerField(read_only=True)

    class Meta:
        model = TrainingEvent
        fields = [
            "id",
            "program",
            "district",
            "place",
            "date",
            "topic",
            "facilitator",
            "cost_pen",
            "funding_source",
            "funding_agreement",
            "note",
            "attendees_count",
            "attendees_female",
            "attendees_male",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TrainingEventDetailSerializer(TrainingEventSerializer):
    """An event with its attendees."""

    attendees = AttendeeSerializer(many=True, read_only=True, source="attendances")

    class Meta(TrainingEventSerializer.Meta):
        fields = [*TrainingEventSerializer.Meta.fields, "attendees"]
        read_only_fields = fields


class TrainingEventCreateSerializer(serializers.Serializer[Any]):
    """Record an event (and who attended: member ids). ``cost_pen`` accepts a decimal comma."""

    id = serializers.UUIDField(required=False, help_text="Client-chosen id: retries are safe.")
    program = serializers.SlugField(max_length=50, help_text="Programme code.")
    district = serializers.RegexField(r"^[0-9]{6}$", help_text="District ubigeo (6 digits).")
    place = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    date = BoundedDateField(kind="event")
    topic = ChoiceField(choices=TrainingTopic.choices)
    facilitator = serializers.CharField(max_length=200)
    cost_pen = serializers.CharField(
        max_length=20, required=False, default="0", help_text="PEN, e.g. 1500.00 or 1500,00."
    )
    funding_source = funder_code_field()
    funding_agreement = serializers.SlugField(
        max_length=50,
        required=False,
        allow_null=True,
        default=None,
        help_text="Funding agreement code; its period must hold the date.",
    )
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    attendees = serializers.ListField(
        child=serializers.UUIDField(), required=False, default=list, max_length=500
    )

    def to_internal_value(self, data: Any) -> Any:
        # The field page's outbox posts empty optional inputs as "".
        if hasattr(data, "get"):
            data = {
                **data,
                **{k: None for k in ("funding_source", "funding_agreement") if data.get(k) == ""},
            }
        return super().to_internal_value(data)


class AttendeesAddSerializer(serializers.Serializer[Any]):
    """Members to add to the attendance (those already on it are skipped)."""

    members = serializers.ListField(
        child=serializers.UUIDField(), allow_empty=False, max_length=500
    )


class PracticeAdoptionSerializer(serializers.ModelSerializer[PracticeAdoption]):
    """A practice a family adopted (optionally one member, after a training event)."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    member = serializers.UUIDField(source="member_id", read_only=True, allow_null=True)
    event = serializers.UUIDField(source="event_id", read_only=True, allow_null=True)

    class Meta:
        model = PracticeAdoption
        fields = ["id", "household", "member", "event", "practice", "adopted_on", "created_at"]
        read_only_fields = fields


class PracticeAdoptionCreateSerializer(serializers.Serializer[Any]):
    """Record a practice adopted."""

    id = serializers.UUIDField(required=False)
    household = serializers.UUIDField()
    member = serializers.UUIDField(required=False, allow_null=True, default=None)
    event = serializers.UUIDField(required=False, allow_null=True, default=None)
    practice = ChoiceField(choices=Practice.choices)
    adopted_on = BoundedDateField(kind="event")


class SupportSerializer(serializers.ModelSerializer[Support]):
    """A support item: what the programme gave the family, its cost in PEN and who paid."""

    household = serializers.UUIDField(source="household_id", read_only=True)
    cost_pen = DecimalStringField(max_digits=12, decimal_places=2, read_only=True)
    funding_source = serializers.CharField(
        source="funding_source.code", read_only=True, allow_null=True
    )
    funding_agreement = serializers.CharField(
        source="funding_agreement.code", read_only=True, allow_null=True
    )

    class Meta:
        model = Support
        fields = [
            "id",
            "household",
            "kind",
            "description",
            "cost_pen",
            "funding_source",
            "funding_agreement",
            "given_on",
            "created_at",
        ]
        read_only_fields = fields
