"""The transactional outbox (``registry.outbox``)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class OutboxMessage(models.Model):
    """A message to publish once the transaction that wrote it commits (transactional outbox).

    Services write the row in the same transaction as their business change
    (``registry.outbox.publish_on_commit``); after the commit the project hands it to its handler
    at once and stamps ``sent_at``. A row whose hand-off failed (the broker down, a worker error)
    stays pending and the relay (``registry.outbox.relay``: a beat task every minute and
    ``manage.py relay_outbox``) retries it from ``available_at`` on, with backoff. ``topic`` names
    a handler registered with ``registry.outbox.register`` (a Celery task today, partners'
    webhooks later); handlers are idempotent, so a row sent twice is harmless.
    """

    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(_("topic"), max_length=100)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    available_at = models.DateTimeField(_("available at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            # The relay's and /healthz's only reads: pending rows by due time.
            models.Index(
                fields=["available_at", "id"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            ),
            # Pruning sent rows by age.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent_idx"
            ),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.topic} #{self.pk} ({state})"
