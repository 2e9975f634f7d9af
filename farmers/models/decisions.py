"""Decisions about people taken by programme staff: exclusion proposals, appeals and
corrections of confirmed visits."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from registry.models import (
    CreatedByModel,
    VersionedModel,
    by_column,
    by_key_column,
)

from ..choices import (
    AppealKind,
    AppealStatus,
    CorrectableField,
    CorrectionStatus,
    ExclusionStatus,
)
from .households import Household
from .records import Verification
from .transition import StageChange


class DecidedModel(models.Model):
    """A decision about people taken by programme staff: who (the ``decided_by`` pair), when,
    and the note (``farmers.services.common._record_decision`` fills them)."""

    decided_by = by_column(_("decided by"))
    decided_by_key = by_key_column(_("decided with key"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True


class ExclusionProposal(VersionedModel, DecidedModel):
    """An exclusion the transition engine proposes when a household relapses the programme's
    ``relapses_before_exclusion``-th time: the household stays ``relapsed`` until programme staff
    confirm it (then the engine reads the confirmation as a fact and excludes the household) or
    dismiss it. ``relapse_on`` is the day of the relapse that triggered it; ``evidence`` the
    engine's evidence summary at that moment (shown to whoever decides)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="exclusion_proposals",
        verbose_name=_("household"),
    )
    relapse_on = models.DateField(_("relapse on"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=ExclusionStatus.choices,
        default=ExclusionStatus.PROPOSED,
    )
    evidence = models.JSONField(_("evidence summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exclusion proposal")
        verbose_name_plural = _("exclusion proposals")
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="exclusion_queue_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "relapse_on"], name="exclusion_once_per_relapse"
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.relapse_on} · {self.get_status_display()}"


class Appeal(VersionedModel, CreatedByModel, DecidedModel):
    """A family's appeal of its relapse or of an exclusion, filed for it by programme people
    (``created_by`` pair: who filed it), with its grounds and evidence, decided by programme
    staff with a note. An upheld appeal is a fact the engine reads
    (``farmers.transition.decisions``): a relapse appeal overturns the relapse of
    ``relapse_on`` (the stage it interrupted comes back), an exclusion appeal dismisses the
    exclusion proposed at that relapse."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("household")
    )
    kind = models.CharField(_("appealed"), max_length=12, choices=AppealKind.choices)
    relapse_on = models.DateField(_("relapse on"))
    stage_change = models.ForeignKey(
        StageChange,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stage change appealed"),
    )
    proposal = models.ForeignKey(
        ExclusionProposal,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="appeals",
        verbose_name=_("exclusion appealed"),
    )
    grounds = models.TextField(_("grounds"))
    evidence_note = models.TextField(_("evidence"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=AppealStatus.choices, default=AppealStatus.FILED
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("appeal")
        verbose_name_plural = _("appeals")
        indexes = [models.Index(fields=["status", "-created_at", "-id"], name="appeal_queue_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "kind", "relapse_on"],
                condition=Q(status="filed"),
                name="appeal_one_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_kind_display()} · {self.get_status_display()}"


class VisitCorrection(VersionedModel, CreatedByModel, DecidedModel):
    """A correction of a confirmed visit: which field, old → new, why, who proposed it
    (``created_by`` pair) and the second person who approved or rejected it (``decided_by``
    pair, maker–checker). Only an approved correction changes the visit (through
    ``farmers.services.corrections``, with a change record), and the engine recomputes."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    verification = models.ForeignKey(
        Verification,
        on_delete=models.PROTECT,
        related_name="corrections",
        verbose_name=_("verification visit"),
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household")
    )
    field = models.CharField(_("field"), max_length=20, choices=CorrectableField.choices)
    old_value = models.CharField(_("old value"), max_length=40)
    new_value = models.CharField(_("new value"), max_length=40)
    reason = models.TextField(_("reason"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=CorrectionStatus.choices,
        default=CorrectionStatus.PROPOSED,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("visit correction")
        verbose_name_plural = _("visit corrections")
        indexes = [
            models.Index(fields=["status", "-created_at", "-id"], name="correction_queue_idx"),
            models.Index(fields=["verification", "-created_at"], name="correction_visit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_field_display()}: {self.old_value} → {self.new_value}"
