"""``alerts/``: the alerts of the caller's area, and their workflow (``open → acknowledged →
resolved``) through ``POST alerts/{id}/transition/``.

Alerts are raised by the system (the transition engine, titles and markets), never created
through the API: the only write is the transition.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from registry import selectors
from registry.alerts import alert_transition
from registry.choices import AlertStatus, Scope
from registry.filters import AlertFilterSet
from registry.models import Alert

from .base import RegistryViewSet


class AlertSerializer(serializers.ModelSerializer[Alert]):
    """An alert: what, where, for whom, and where it stands in its workflow."""

    district: serializers.CharField = serializers.CharField(source="district_id", read_only=True)
    program: serializers.CharField = serializers.CharField(source="program.code", read_only=True)
    household = serializers.UUIDField(source="household_id", read_only=True, allow_null=True)
    subject_type = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "status",
            "severity",
            "message",
            "details",
            "district",
            "program",
            "household",
            "subject_type",
            "subject_id",
            "owner_role",
            "due_on",
            "raised_at",
            "acknowledged_at",
            "resolved_at",
            "resolution_note",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {"type": "string", "nullable": True, "description": "`app.model` of the record concerned"}
    )
    def get_subject_type(self, alert: Alert) -> str | None:
        if alert.subject_type is None:
            return None
        return f"{alert.subject_type.app_label}.{alert.subject_type.model}"


class AlertTransitionSerializer(serializers.Serializer[Any]):
    """A move of the alert's workflow, with an optional note (kept when resolving)."""

    to = serializers.ChoiceField(choices=[AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED])
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text=_("Note")
    )


class AlertViewSet(RegistryViewSet):
    """Alerts of the caller's area: relapses, visits due, overdue title files and deliveries."""

    serializer_class = AlertSerializer
    detail_serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    read_scope = Scope.HOUSEHOLDS_READ
    action_scopes = {"transition": Scope.HOUSEHOLDS_WRITE}
    ordering = ("-raised_at", "-id")
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Alert]:
        return selectors.alert_list(actor=self.actor)

    def get_object(self) -> Alert:
        return selectors.alert_get(actor=self.actor, alert_id=self.kwargs["pk"])

    def get_serializer_class(self) -> Any:
        return AlertTransitionSerializer if self.action == "transition" else AlertSerializer

    @extend_schema(request=AlertTransitionSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Acknowledge (``{"to": "acknowledged"}``) or resolve (``{"to": "resolved", "note":
        ...}``) an alert; ``If-Match`` with the alert's ETag refuses a stale copy (412)."""
        alert = self.get_object()
        body = self.validated(AlertTransitionSerializer)
        moved = alert_transition(
            actor=self.actor,
            alert=alert,
            to=body["to"],
            note=body["note"],
            expected_version=self.if_match(alert),
        )
        return self.respond(selectors.alert_get(actor=self.actor, alert_id=moved.pk))
