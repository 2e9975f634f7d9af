"""Alerts: conditions a person must look at, raised and resolved through ``registry.alerts``."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import (
    LIVE_ALERT_STATUSES,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    Role,
)
from .bases import VersionedModel, district_column, optional_reference, program_column


class Alert(VersionedModel):
    """Something a person must look at: a relapse, a visit due, an overdue title file or delivery.

    Raised by the transition engine, titles and markets through ``registry.alerts``. ``key``
    names the condition (e.g. ``"title:<id>:legal_review"``); at most one live (open or
    acknowledged) alert exists per ``(kind, key)``, so reruns of a periodic task never duplicate
    one. Scoped like households by ``district`` and ``program``; owned by the district's people
    with ``owner_role``. ``household_id`` and ``subject_*`` point at the records concerned without
    a foreign key (the kernel does not depend on the apps above it).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices)
    key = models.CharField(_("condition key"), max_length=200)
    status = models.CharField(
        _("status"), max_length=16, choices=AlertStatus.choices, default=AlertStatus.OPEN
    )
    severity = models.CharField(
        _("severity"), max_length=16, choices=AlertSeverity.choices, default=AlertSeverity.WARNING
    )
    message = models.CharField(_("message"), max_length=300)
    details = models.JSONField(_("details"), default=dict, blank=True)
    # Indexed by alert_district_idx (a plain index: no ``varchar_pattern_ops`` twin).
    district = district_column(db_index=False)
    program = program_column()
    household_id = models.UUIDField(_("household"), null=True, blank=True)
    subject_type = optional_reference(ContentType, _("record type"))
    subject_id = models.CharField(_("record id"), max_length=64, blank=True)
    owner_role = models.CharField(
        _("owner role"), max_length=32, choices=Role.choices, default=Role.FIELD_OFFICER
    )
    assigned_to = optional_reference(settings.AUTH_USER_MODEL, _("assigned to"))
    due_on = models.DateField(_("due on"), null=True, blank=True)
    raised_at = models.DateTimeField(_("raised at"), default=timezone.now)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "key"],
                condition=Q(status__in=LIVE_ALERT_STATUSES),
                name="alert_one_live_per_condition",
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "district", "-raised_at"], name="alert_status_district_idx"
            ),
            models.Index(fields=["kind", "status", "-raised_at"], name="alert_kind_status_idx"),
            models.Index(fields=["household_id", "-raised_at"], name="alert_household_idx"),
            models.Index(fields=["district", "-raised_at"], name="alert_district_idx"),
            # The lists' order (API, admin): a page is read from this index instead of sorting
            # every alert of the area (873 ms → milliseconds at 750,000 alerts).
            models.Index(fields=["-raised_at", "-id"], name="alert_order_idx"),
            # The dashboard's count of overdue titles and deliveries (index-only).
            models.Index(
                fields=["kind", "district", "program"],
                condition=Q(
                    status__in=LIVE_ALERT_STATUSES,
                    kind__in=[AlertKind.TITLE_OVERDUE, AlertKind.DELIVERY_OVERDUE],
                ),
                name="alert_overdue_live_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message}"
