"""Webhooks: organizations' subscriptions, the events written with each change, one delivery per
(event, subscription) and every HTTP attempt (``registry.webhooks``)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..choices import WebhookDeliveryStatus, WebhookEventType
from .bases import CreatedByModel, VersionedModel
from .organizations import Organization


class WebhookSubscription(VersionedModel, CreatedByModel):
    """An organization's HTTPS endpoint and the event types it receives.

    ``secret`` signs every delivery (HMAC-SHA256). It is stored as is, not hashed, because the
    registry must sign with it at every send; it is shown once (on create and on rotation) and
    never again by the API or the admin. ``previous_secret`` keeps signing for
    ``WEBHOOK_SECRET_ROTATION_GRACE`` seconds after a rotation (a second ``v1=`` signature), so a
    receiver can switch without dropping deliveries.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="webhook_subscriptions",
        verbose_name=_("organization"),
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)
    secret = models.CharField(_("signing secret"), max_length=100, editable=False)
    previous_secret = models.CharField(
        _("previous signing secret"), max_length=100, blank=True, editable=False
    )
    previous_secret_until = models.DateTimeField(
        _("previous secret valid until"), null=True, blank=True, editable=False
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["organization_id", "created_at", "id"]
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        indexes = [
            models.Index(fields=["organization", "created_at"], name="webhook_sub_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.organization.code} → {self.url}"

    def event_type_labels(self) -> str:
        """The subscribed event types, in words."""
        labels = dict(WebhookEventType.choices)
        return ", ".join(str(labels.get(t, t)) for t in self.event_types)


class WebhookEvent(models.Model):
    """Something that happened, written in the same transaction as the change itself.

    ``subject_id`` names the record (a household, title application, contract, delivery or
    alert); ``payload`` holds only what the change was (statuses, stages, ids), never personal
    data: the ``data`` a subscriber receives is built at delivery time, for what its keys may
    see. ``district`` and ``program`` are the record's, for scoping and support."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(_("type"), max_length=64, choices=WebhookEventType.choices)
    subject_id = models.CharField(_("subject"), max_length=64)
    district_id = models.CharField(_("district"), max_length=6, blank=True)
    program_id = models.BigIntegerField(_("programme"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        indexes = [models.Index(fields=["created_at"], name="webhook_event_created_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.subject_id}"


class WebhookDelivery(models.Model):
    """One event to one subscription: pending until a 2xx answer (``delivered``), retried with
    backoff and jitter until ``WEBHOOK_RETRY_WINDOW`` has passed since ``started_at`` (then
    ``dead``); ``skipped`` when the subscriber may not see the record at send time. A
    redelivery puts it back to ``pending`` with a fresh ``started_at``."""

    id = models.BigAutoField(primary_key=True)
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("subscription"),
    )
    event = models.ForeignKey(
        WebhookEvent, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=WebhookDeliveryStatus.choices,
        default=WebhookDeliveryStatus.PENDING,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    started_at = models.DateTimeField(_("retries counted from"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    dead_at = models.DateTimeField(_("dead-lettered at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "event"], name="webhook_delivery_unique"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status=WebhookDeliveryStatus.PENDING),
                name="webhook_delivery_due_idx",
            ),
            models.Index(
                fields=["subscription", "-created_at", "-id"], name="webhook_delivery_sub_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_status_display()}"


class WebhookAttempt(models.Model):
    """One HTTP attempt of a delivery: when, the answer's status code (none on a network
    error), how long it took, up to 500 characters of the answer and the error."""

    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery,
        on_delete=models.CASCADE,
        related_name="attempt_log",
        verbose_name=_("delivery"),
    )
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), default=0)
    response_excerpt = models.CharField(_("response excerpt"), max_length=500, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")
        indexes = [
            models.Index(fields=["delivery", "-attempted_at", "-id"], name="webhook_attempt_idx")
        ]

    def __str__(self) -> str:
        return f"{self.status_code or self.error[:40]}"
