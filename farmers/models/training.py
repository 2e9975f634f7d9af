"""Technical assistance and training: events (date, topic, place, facilitator, cost and who paid),
the household members who attended (sex and age are the member's, never retyped) and the good
practices families adopted afterwards."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from registry.models import (
    CreatedByModel,
    IdempotentModel,
    VersionedModel,
    agreement_reference,
    district_column,
    funder_reference,
    program_column,
)

from ..choices import Practice, TrainingTopic
from .households import Household, Member


class TrainingEvent(VersionedModel, IdempotentModel, CreatedByModel):
    """A technical-assistance or training event of a programme: when, on what, where (district
    and place), by whom, what it cost in PEN and who paid (a funder, optionally under a funding
    agreement whose period holds the date)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    program = program_column(db_index=False)
    district = district_column(db_index=False)
    held_on = models.DateField(_("date"))
    topic = models.CharField(_("topic"), max_length=32, choices=TrainingTopic.choices)
    place = models.CharField(_("place"), max_length=200, blank=True)
    facilitator = models.CharField(_("facilitator"), max_length=200)
    cost_pen = models.DecimalField(
        _("cost (PEN)"),
        max_digits=12,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    funding_source = funder_reference(db_index=False)
    funding_agreement = agreement_reference()
    note = models.TextField(_("note"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["-held_on", "id"]
        verbose_name = _("training event")
        verbose_name_plural = _("training events")
        indexes = [
            models.Index(fields=["program", "held_on"], name="training_program_idx"),
            models.Index(fields=["district", "held_on"], name="training_district_idx"),
            models.Index(fields=["funding_source", "held_on"], name="training_funder_idx"),
            models.Index(fields=["held_on"], name="training_held_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="training_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_pen__gte=0),
                name="training_cost_not_negative",
                violation_error_message=_("The cost cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_topic_display()} · {self.held_on:%d/%m/%Y}"


class TrainingAttendance(CreatedByModel):
    """A household member who attended a training event (recorded once per event)."""

    event = models.ForeignKey(
        TrainingEvent,
        on_delete=models.PROTECT,
        related_name="attendances",
        verbose_name=_("training event"),
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="+", verbose_name=_("member")
    )
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="training_attendances",
        verbose_name=_("household"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["event", "created_at", "id"]
        verbose_name = _("attendee")
        verbose_name_plural = _("attendees")
        indexes = [models.Index(fields=["household", "event"], name="attendance_household_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "member"],
                name="attendance_unique_member",
                violation_error_message=_("This person is already on the event's attendance."),
            ),
        ]

    def __str__(self) -> str:
        # The person, by name (an inline's caption): never the two ids.
        return str(self.member)


class PracticeAdoption(IdempotentModel, CreatedByModel):
    """A good practice a family (or one of its members) adopted on a date, optionally after a
    training event."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="practices",
        verbose_name=_("household"),
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        verbose_name=_("member"),
    )
    event = models.ForeignKey(
        TrainingEvent,
        on_delete=models.PROTECT,
        related_name="adoptions",
        null=True,
        blank=True,
        verbose_name=_("after the training event"),
    )
    practice = models.CharField(_("practice"), max_length=32, choices=Practice.choices)
    adopted_on = models.DateField(_("adopted on"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        ordering = ["-adopted_on", "id"]
        verbose_name = _("practice adopted")
        verbose_name_plural = _("practices adopted")
        indexes = [
            models.Index(fields=["household", "practice"], name="practice_household_idx"),
            models.Index(fields=["event", "practice"], name="practice_event_idx"),
            models.Index(fields=["adopted_on"], name="practice_adopted_idx"),
            # The API's keyset pages (created_at, id).
            models.Index(fields=["created_at", "id"], name="practice_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_practice_display()} · {self.adopted_on:%d/%m/%Y}"
