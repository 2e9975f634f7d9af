"""The audit trail: record history (``ChangeRecord``) and sensitive-data reads (``AccessLog``)."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import (
    ChangeAction,
)
from .bases import CreatedByModel, optional_reference
from .organizations import Organization


class ChangeRecord(CreatedByModel):
    """One entry of a record's history: who changed what, when, through which channel."""

    content_type = models.ForeignKey(
        ContentType, on_delete=models.PROTECT, related_name="+", verbose_name=_("record type")
    )
    object_id = models.CharField(_("record id"), max_length=64)
    object_repr = models.CharField(_("record"), max_length=200)
    action = models.CharField(_("action"), max_length=16, choices=ChangeAction.choices)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=16, default="system")
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("change record")
        verbose_name_plural = _("change records")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"], name="change_object_idx"),
            models.Index(fields=["-at"], name="change_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.object_repr}"


class AccessLog(CreatedByModel):
    """A read of sensitive data (coca) by a partner or a person: who, what, when."""

    at = models.DateTimeField(_("at"), default=timezone.now)
    organization = optional_reference(Organization, _("organization"))
    resource = models.CharField(_("resource"), max_length=50)
    object_ids = models.JSONField(_("records"), default=list)
    fields = models.JSONField(_("fields"), default=list)
    path = models.CharField(_("request"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("sensitive-data read")
        verbose_name_plural = _("sensitive-data reads")
        indexes = [
            models.Index(fields=["-at"], name="access_at_idx"),
            models.Index(fields=["organization", "-at"], name="access_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} · {self.resource}"
