"""Data-subject requests (Law 29733 and its regulation, DS 016-2024-JUS): the register of what
people asked about their own data and how and when the programme answered."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from registry.models import CreatedByModel, VersionedModel

from ..choices import RequestChannel, RequestKind, RequestStatus
from .decisions import DecidedModel
from .households import Household, Member


class DataSubjectRequest(VersionedModel, CreatedByModel, DecidedModel):
    """A request of a person (a member, or the household as a whole) to access, rectify, cancel
    or oppose the processing of their data (``created_by`` pair: who registered it).

    ``due_on`` is ``received_on`` plus the programme's working days for the kind
    (``farmers.services.rights``); an extension (once, with its reason) moves it. The answer or
    the refusal reason is the ``decided_*`` note; what a rectification, cancellation or
    opposition changed is in the change records, which name the request."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    household = models.ForeignKey(
        Household,
        on_delete=models.PROTECT,
        related_name="data_subject_requests",
        verbose_name=_("household"),
    )
    member = models.ForeignKey(
        Member,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="data_subject_requests",
        verbose_name=_("person"),
    )
    kind = models.CharField(_("right"), max_length=16, choices=RequestKind.choices)
    received_on = models.DateField(_("received on"))
    channel = models.CharField(_("channel"), max_length=16, choices=RequestChannel.choices)
    identity_check = models.TextField(
        _("identity check"), help_text=_("How the requester's identity was checked.")
    )
    details = models.TextField(_("what is asked"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    due_on = models.DateField(_("due on"))
    extension_reason = models.TextField(_("extension reason"), blank=True)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("data-subject request")
        verbose_name_plural = _("data-subject requests")
        indexes = [models.Index(fields=["status", "due_on", "id"], name="dsr_queue_idx")]

    def __str__(self) -> str:
        return f"{self.household} · {self.get_kind_display()} · {self.get_status_display()}"
