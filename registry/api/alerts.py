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

from registry import policies, selectors
from registry.alerts import alert_transition
from registry.choices import AlertStatus, Scope
from registry.filters import AlertFilterSet
from registry.models import Alert

from .base import RegistryViewSet
from .fields import ChoiceField
from .logged import LoggedReadsMixin


def alert_read_logged(context: dict[str, Any], alert: Alert) -> bool:
    """Whether this response is a logged coca read of ``alert``: a relapse or exclusion alert,
    or the stage named in an engine alert's details, shown by virtue of coca:read in its area
    (not to the programme's own people without it)."""
    actor = context.get("actor")
    if actor is None or not actor.covers(
        district=alert.district_id, program=alert.program_id, scope=Scope.COCA_READ
    ):
        return False
    details = alert.details or {}
    return alert.kind in policies.COCA_ALERT_KINDS or any(
        key in details for key in policies.STAGE_DETAIL_KEYS
    )


class AlertSerializer(serializers.ModelSerializer[Alert]):
    """An alert: what, where, for whom, and where it stands in its workflow (the stage named in
    its ``details`` only for who may see the household's stage: ``registry.policies``)."""

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

    # Set by ``lean_row_mask`` on the lean list path (``registry.api.lean``).
    lean_computed = ("subject_type",)

    @extend_schema_field(
        {"type": "string", "nullable": True, "description": "`app.model` of the record concerned"}
    )
    def get_subject_type(self, alert: Alert) -> str | None:
        return subject_type_name(alert)

    def to_representation(self, instance: Alert) -> Any:
        data = super().to_representation(instance)
        self.lean_row_mask(self.context, instance, data)
        return data

    @classmethod
    def lean_row_mask(cls, context: dict[str, Any], record: Any, data: dict[str, Any]) -> None:
        """The subject's type of ``record`` (an alert, or a row of the lean list path), and its
        stage details dropped unless the caller may see them."""
        data["subject_type"] = subject_type_name(record)
        if not policies.alert_stage_visible(context.get("actor"), record):
            details = data.get("details") or {}
            if isinstance(details, dict):
                data["details"] = {
                    k: v for k, v in details.items() if k not in policies.STAGE_DETAIL_KEYS
                }


def subject_type_name(alert: Any) -> str | None:
    """``app.model`` of the record ``alert`` concerns (an alert, or a row: its columns
    ``subject_type__app_label`` and ``subject_type__model``), ``None`` without one."""
    subject = alert.subject_type
    if subject is None or subject.model is None:
        return None
    return f"{subject.app_label}.{subject.model}"


class AlertTransitionSerializer(serializers.Serializer[Any]):
    """A move of the alert's workflow, with an optional note (kept when resolving)."""

    to = ChoiceField(choices=[AlertStatus.ACKNOWLEDGED, AlertStatus.RESOLVED])
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text=_("Note")
    )


class AlertViewSet(LoggedReadsMixin, RegistryViewSet):
    """Alerts of the caller's area: relapses, visits due, overdue title files and deliveries.
    Relapse and exclusion alerts are coca data: listed only where the caller sees stages
    (coca:read, or the programme's own people), every read of them with coca:read logged."""

    serializer_class = AlertSerializer
    detail_serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    read_scope = Scope.HOUSEHOLDS_READ
    action_scopes = {"transition": Scope.HOUSEHOLDS_WRITE}
    ordering = ("-raised_at", "-id")
    http_method_names = ["get", "post", "head", "options"]
    logged_resource = "alerts"
    coca_fields = ("kind", "message", "details.stage", "details.reason")

    def coca_shown(self, context: dict[str, Any], record: Any) -> bool:
        return alert_read_logged(context, record)

    def lean_columns(self) -> list[str]:
        # What the stage policy and the access log read, and the subject's type.
        return ["program_id", "subject_type__app_label", "subject_type__model"]

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
        fresh = selectors.alert_get(actor=self.actor, alert_id=moved.pk)
        response = self.respond(fresh)
        self.log_reads([fresh])
        return response
