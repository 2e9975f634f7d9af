"""Admin for webhooks: an organization's subscriptions (created, changed and rotated through
``registry.webhooks.services``, the secret shown once) and their deliveries with every attempt,
redelivered by an action. Rows: ``policies.webhook_subscription_q`` (rule 8)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import policies
from ..admin_toolkit import LargeTableAdmin, ReadOnlyInline
from ..choices import WebhookEventType
from ..exceptions import PermissionDenied
from ..models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from ..webhooks import delivery as webhook_delivery
from ..webhooks import services
from .base import NoDeleteAdmin, denied_as_form_error, request_actor


class WebhookSubscriptionForm(forms.ModelForm):
    """Organization (new subscriptions only), URL, description, event types, active."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=WebhookEventType.choices,
        widget=forms.CheckboxSelectMultiple,
    )

    actor: Any = None

    class Meta:
        model = WebhookSubscription
        fields = ["organization", "url", "description", "event_types", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        organization = data.get("organization") or getattr(self.instance, "organization", None)
        if organization is not None:
            try:
                policies.require_webhooks(self.actor, organization)
            except PermissionDenied as exc:
                raise denied_as_form_error(exc, "organization") from exc
        url = data.get("url")
        if url and url != self.instance.url:
            try:
                services.clean_url(url)
            except ValidationError as exc:
                self.add_error("url", exc.message_dict["url"])
        return data


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ["attempted_at", "status_code", "latency_ms", "response_excerpt", "error"]
    verbose_name_plural = _("attempts")
    ordering = ["-attempted_at", "-id"]


def _may_manage_any(request: HttpRequest) -> bool:
    actor = request_actor(request)
    return policies.is_platform_admin(actor) or bool(policies.staff_organization_ids(actor))


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(NoDeleteAdmin):
    """The organizations' webhook subscriptions: deactivate instead of deleting; rotate the
    secret by an action (the new one is shown once)."""

    form = WebhookSubscriptionForm
    list_display = ["url", "organization", "event_type_labels", "is_active", "created_at"]
    list_filter = ["is_active", ("organization", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["organization"]
    search_fields = ["url", "organization__code", "description"]
    actions = ["rotate_secret", "redeliver_last_day"]

    @admin.display(description=_("event types"))
    def event_type_labels(self, obj: WebhookSubscription) -> str:
        return obj.event_type_labels()

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookSubscription]:
        actor = request_actor(request)
        return super().get_queryset(request).filter(policies.webhook_subscription_q(actor))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return _may_manage_any(request)
        return policies.can_manage_webhooks(request_actor(request), obj.organization_id)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and _may_manage_any(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request, obj):
            return False
        if obj is None:
            return _may_manage_any(request)
        return policies.can_manage_webhooks(request_actor(request), obj.organization_id)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["organization"] if obj is not None else []

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request_actor(request)})

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "organization":
            kwargs["queryset"] = policies.manageable_organizations(request_actor(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(
        self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool
    ) -> None:
        actor = request_actor(request)
        data = form.cleaned_data
        if change:
            fresh = services.subscription_update(
                actor=actor,
                subscription=obj,
                values={k: data[k] for k in ("url", "description", "event_types", "is_active")},
                channel="admin",
            )
            obj.version = fresh.version
            return
        created, secret = services.subscription_create(
            actor=actor,
            organization=data["organization"],
            url=data["url"],
            event_types=data["event_types"],
            description=data.get("description") or "",
            channel="admin",
        )
        if not data.get("is_active", True):
            services.subscription_update(
                actor=actor, subscription=created, values={"is_active": False}, channel="admin"
            )
        obj.pk = created.pk
        messages.warning(
            request,
            _("Copy the signing secret now; it will not be shown again: %(secret)s")
            % {"secret": secret},
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing to save: the service wrote the subscription."""

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]) -> None:
        actor = request_actor(request)
        for subscription in queryset:
            try:
                _rotated, secret = services.subscription_rotate_secret(
                    actor=actor, subscription=subscription, channel="admin"
                )
            except PermissionDenied as exc:
                messages.warning(request, f"{subscription}: {exc.detail}")
                continue
            messages.warning(
                request,
                _("New signing secret of %(url)s (shown once): %(secret)s")
                % {"url": subscription.url, "secret": secret},
            )

    @admin.action(
        description=_("Redeliver the events of the last 24 hours"), permissions=["change"]
    )
    def redeliver_last_day(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> None:
        actor = request_actor(request)
        since = timezone.now() - timedelta(days=1)
        total = 0
        for subscription in queryset:
            total += services.redeliver(actor=actor, subscription=subscription, since=since)
        messages.success(request, _("%(count)s deliveries queued again.") % {"count": total})


DELIVERY_FIELDS = (
    "subscription",
    "event_type",
    "event_created_at",
    "status",
    "attempts",
    "last_status_code",
    "last_error",
    "started_at",
    "next_attempt_at",
    "delivered_at",
    "dead_at",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(LargeTableAdmin):
    """Deliveries of the subscriptions the person manages, with every attempt; redeliver by
    the action (dead-lettered ones included)."""

    list_display = [
        "created_at",
        "subscription",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
    ]
    list_filter = ["status"]
    list_select_related = ["subscription__organization", "event"]
    inlines = [WebhookAttemptInline]
    actions = ["redeliver"]
    fields = DELIVERY_FIELDS
    readonly_fields = DELIVERY_FIELDS

    @admin.display(description=_("event"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return str(obj.event.get_type_display())

    @admin.display(description=_("event written at"))
    def event_created_at(self, obj: WebhookDelivery) -> Any:
        return obj.event.created_at

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        actor = request_actor(request)
        allowed = WebhookSubscription.objects.filter(policies.webhook_subscription_q(actor))
        return super().get_queryset(request).filter(subscription__in=allowed.values("pk"))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_view_permission(request, obj):
            return False
        if obj is None:
            return _may_manage_any(request)
        return policies.can_manage_webhooks(
            request_actor(request), obj.subscription.organization_id
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.change_webhookdelivery") and _may_manage_any(request)

    @admin.action(description=_("Redeliver the selected deliveries"), permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        actor = request_actor(request)
        mine = queryset.filter(
            subscription__in=WebhookSubscription.objects.filter(
                policies.webhook_subscription_q(actor)
            ).values("pk")
        )
        count = webhook_delivery.requeue(mine)
        messages.success(request, _("%(count)s deliveries queued again.") % {"count": count})
