"""``webhooks/``: an organization's webhook subscriptions (``webhooks:manage``), their
deliveries and attempts, secret rotation and redelivery (docs/webhooks.md).

A key manages its own organization's subscriptions only; a person (session) those of the
organizations they manage (``registry.policies``, rule 8). The secret is in the response to
the create and to ``rotate-secret/`` only.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from registry import policies
from registry.choices import Scope, WebhookDeliveryStatus, WebhookEventType
from registry.models import (
    Organization,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from registry.webhooks import services

from .base import RegistryViewSet
from .fields import ChoiceField
from .pagination import CursorPagination


class WebhookSubscriptionSerializer(serializers.ModelSerializer[WebhookSubscription]):
    """A subscription: where, what, whether active (never the secret)."""

    organization: serializers.CharField = serializers.CharField(
        source="organization.code", read_only=True
    )
    event_types = serializers.ListField(child=ChoiceField(choices=WebhookEventType.choices))

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "organization",
            "url",
            "description",
            "event_types",
            "is_active",
            "created_at",
            "updated_at",
            "version",
        ]
        read_only_fields = fields


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    """A subscription with its signing secret: the answer to a create or a rotation only."""

    secret = serializers.SerializerMethodField()

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = [*WebhookSubscriptionSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    def get_secret(self, subscription: WebhookSubscription) -> str:
        return str(self.context.get("secret", ""))


class WebhookSubscriptionCreateSerializer(serializers.Serializer[Any]):
    """Subscribe a URL to event types (``organization``: only for people managing several;
    a key subscribes its own organization)."""

    url = serializers.URLField(max_length=500)
    event_types = serializers.ListField(
        child=ChoiceField(choices=WebhookEventType.choices),
        min_length=1,
        max_length=len(WebhookEventType.values),
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    organization = serializers.SlugField(
        max_length=50, required=False, help_text=_("Organization code (people only).")
    )


class WebhookSubscriptionUpdateSerializer(serializers.Serializer[Any]):
    """Change a subscription (every field optional)."""

    url = serializers.URLField(max_length=500, required=False)
    event_types = serializers.ListField(
        child=ChoiceField(choices=WebhookEventType.choices),
        min_length=1,
        max_length=len(WebhookEventType.values),
        required=False,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(required=False)


class WebhookAttemptSerializer(serializers.ModelSerializer[WebhookAttempt]):
    """One HTTP attempt of a delivery."""

    class Meta:
        model = WebhookAttempt
        fields = [
            "id",
            "attempted_at",
            "status_code",
            "latency_ms",
            "response_excerpt",
            "error",
            "succeeded",
        ]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer[WebhookDelivery]):
    """One event's delivery to the subscription."""

    event = serializers.UUIDField(source="event_id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    event_created_at = serializers.DateTimeField(source="event.created_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_type",
            "event_created_at",
            "status",
            "attempts",
            "last_status_code",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
            "dead_at",
        ]
        read_only_fields = fields


class RedeliverSinceSerializer(serializers.Serializer[Any]):
    """Send again every delivery of events since a time."""

    since = serializers.DateTimeField()


class RedeliveredSerializer(serializers.Serializer[Any]):
    """How many deliveries were queued again."""

    redelivered = serializers.IntegerField()


class NewestFirst(CursorPagination):
    """Deliveries and attempts, newest first."""

    def get_ordering(self, request: Request, queryset: Any, view: Any) -> tuple[str, ...]:
        field = "attempted_at" if queryset.model is WebhookAttempt else "created_at"
        return (f"-{field}", "-id")


DELIVERY_ID = OpenApiParameter("delivery_id", int, OpenApiParameter.PATH)
STATUS_FILTER = OpenApiParameter(
    "status", str, enum=WebhookDeliveryStatus.values, description="Only deliveries in this status"
)


class WebhookSubscriptionViewSet(RegistryViewSet):
    """The organization's webhook subscriptions (``webhooks:manage``); see docs/webhooks.md."""

    serializer_class = WebhookSubscriptionSerializer
    read_scope = Scope.WEBHOOKS_MANAGE
    write_scope = Scope.WEBHOOKS_MANAGE
    ordering = ("created_at", "id")
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        return (
            WebhookSubscription.objects.filter(policies.webhook_subscription_q(self.actor))
            .select_related("organization")
            .order_by("created_at", "id")
        )

    def _deliveries(self, subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
        return WebhookDelivery.objects.filter(subscription=subscription).select_related("event")

    def _organization(self, code: str | None) -> Organization:
        actor = self.actor
        if actor.api_key is not None:
            organization = actor.api_key.organization
            if code and code != organization.code:
                raise serializers.ValidationError(
                    {"organization": [_("A key subscribes its own organization only.")]},
                    code="invalid",
                )
            return organization
        if not code:
            raise serializers.ValidationError(
                {"organization": [_("Give the code of the organization.")]}, code="required"
            )
        found = Organization.objects.filter(code=code).first()
        if found is None:
            raise serializers.ValidationError(
                {"organization": [_("Unknown organization.")]}, code="does_not_exist"
            )
        return found

    def _with_secret(self, subscription: WebhookSubscription, secret: str, **kw: Any) -> Response:
        context = {**self.get_serializer_context(), "secret": secret}
        data = WebhookSubscriptionWithSecretSerializer(subscription, context=context).data
        return self.respond(subscription, data=data, **kw)

    @extend_schema(
        request=WebhookSubscriptionCreateSerializer,
        responses={201: WebhookSubscriptionWithSecretSerializer},
    )
    def create(self, request: Request) -> Response:
        """Subscribe a URL (HTTPS, public address) to event types; the answer carries the
        signing ``secret``, shown this once."""
        body = self.validated(WebhookSubscriptionCreateSerializer)
        subscription, secret = services.subscription_create(
            actor=self.actor,
            organization=self._organization(body.get("organization")),
            url=body["url"],
            event_types=body["event_types"],
            description=body.get("description", ""),
        )
        fresh = self.get_queryset().get(pk=subscription.pk)
        return self._with_secret(fresh, secret, created=True)

    @extend_schema(
        request=WebhookSubscriptionUpdateSerializer, responses=WebhookSubscriptionSerializer
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Change the URL, description, event types or ``is_active`` (``If-Match``)."""
        subscription = self.get_object()
        body = self.validated(WebhookSubscriptionUpdateSerializer)
        services.subscription_update(
            actor=self.actor,
            subscription=subscription,
            values=body,
            expected_version=self.if_match(subscription),
        )
        return self.respond(self.get_queryset().get(pk=subscription.pk))

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Delete the subscription, its deliveries and their attempts (``If-Match``)."""
        subscription = self.get_object()
        services.subscription_delete(
            actor=self.actor,
            subscription=subscription,
            expected_version=self.if_match(subscription),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=WebhookSubscriptionWithSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        """A new signing secret, shown this once; the previous one keeps signing (a second
        ``v1=``) for ``WEBHOOK_SECRET_ROTATION_GRACE`` seconds."""
        subscription = self.get_object()
        rotated, secret = services.subscription_rotate_secret(
            actor=self.actor,
            subscription=subscription,
            expected_version=self.if_match(subscription),
        )
        return self._with_secret(self.get_queryset().get(pk=rotated.pk), secret)

    @extend_schema(request=RedeliverSinceSerializer, responses={202: RedeliveredSerializer})
    @action(detail=True, methods=["post"])
    def redeliver(self, request: Request, pk: str) -> Response:
        """Send again every delivery of events since ``since`` (whatever their status)."""
        subscription = self.get_object()
        body = self.validated(RedeliverSinceSerializer)
        count = services.redeliver(actor=self.actor, subscription=subscription, since=body["since"])
        return Response({"redelivered": count}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=WebhookDeliverySerializer(many=True), parameters=[STATUS_FILTER])
    @action(detail=True, methods=["get"], pagination_class=NewestFirst)
    def deliveries(self, request: Request, pk: str) -> Response:
        """The subscription's deliveries, newest first (``?status=`` filters)."""
        rows = self._deliveries(self.get_object())
        wanted = request.query_params.get("status")
        if wanted:
            if wanted not in WebhookDeliveryStatus.values:
                raise serializers.ValidationError(
                    {
                        "status": [
                            _("Use one of: %(valid)s.")
                            % {"valid": ", ".join(WebhookDeliveryStatus.values)}
                        ]
                    },
                    code="invalid_choice",
                )
            rows = rows.filter(status=wanted)
        page = self.paginate_queryset(rows)
        assert page is not None
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    def _delivery(self, pk: str, delivery_id: str) -> tuple[WebhookSubscription, WebhookDelivery]:
        subscription = self.get_object()
        found = get_object_or_404(self._deliveries(subscription), pk=delivery_id)
        return subscription, found

    @extend_schema(responses=WebhookDeliverySerializer, parameters=[DELIVERY_ID])
    @action(detail=True, methods=["get"], url_path=r"deliveries/(?P<delivery_id>\d+)")
    def delivery(self, request: Request, pk: str, delivery_id: str) -> Response:
        """One delivery."""
        _subscription, found = self._delivery(pk, delivery_id)
        return Response(WebhookDeliverySerializer(found).data)

    @extend_schema(
        responses=WebhookAttemptSerializer(many=True), parameters=[DELIVERY_ID], filters=False
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/attempts",
        pagination_class=NewestFirst,
    )
    def attempts(self, request: Request, pk: str, delivery_id: str) -> Response:
        """Every attempt of one delivery, newest first."""
        _subscription, found = self._delivery(pk, delivery_id)
        page = self.paginate_queryset(WebhookAttempt.objects.filter(delivery=found))
        assert page is not None
        return self.get_paginated_response(WebhookAttemptSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: RedeliveredSerializer}, parameters=[DELIVERY_ID])
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<delivery_id>\d+)/redeliver",
    )
    def redeliver_one(self, request: Request, pk: str, delivery_id: str) -> Response:
        """Send one delivery again (whatever its status)."""
        subscription, found = self._delivery(pk, delivery_id)
        count = services.redeliver(
            actor=self.actor, subscription=subscription, delivery_id=found.pk
        )
        return Response({"redelivered": count}, status=status.HTTP_202_ACCEPTED)
