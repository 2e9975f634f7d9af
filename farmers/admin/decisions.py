"""The decisions about people: the queue of exclusions the engine proposed, confirmed or
dismissed by programme staff through ``farmers.services.exclusion_transition`` (the policy and
the history are the service's)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.exceptions import RegistryError

from .. import policies, services
from ..choices import ExclusionStatus
from ..models import ExclusionProposal


class DecisionActionForm(ActionForm):
    """The admin action bar with the decision note (a dismissal needs one)."""

    note = forms.CharField(label=_("decision note"), required=False)


@admin.register(ExclusionProposal)
class ExclusionProposalAdmin(admin.ModelAdmin):
    """Proposed exclusions (coca data: coca:read in the area) with the evidence behind each;
    programme staff confirm or dismiss them."""

    list_display = ["household", "relapse_on", "status", "decided_by", "decided_at", "created_at"]
    list_filter = ["status"]
    list_select_related = ["household", "decided_by"]
    show_full_result_count = False
    search_fields = ["=household__code"]
    readonly_fields = [
        "household",
        "relapse_on",
        "status",
        "evidence",
        "decided_by",
        "decided_by_key",
        "decided_at",
        "decision_note",
        "version",
        "created_at",
    ]
    action_form = DecisionActionForm
    actions = ["confirm", "dismiss"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExclusionProposal]:
        return super().get_queryset(request).filter(policies.exclusion_q(request_actor(request)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposed by the engine

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def _decide(self, request: HttpRequest, queryset: QuerySet[ExclusionProposal], to: str) -> None:
        actor = request_actor(request)
        note = request.POST.get("note", "")
        for proposal in queryset.filter(status=ExclusionStatus.PROPOSED)[:500]:
            try:
                services.exclusion_transition(
                    actor=actor, proposal=proposal, to=to, note=note, channel="admin"
                )
            except RegistryError as exc:
                messages.warning(request, f"{proposal}: {exc.detail}")
            except ValidationError as exc:
                messages.warning(request, f"{proposal}: {' '.join(exc.messages)}")
            else:
                messages.success(request, f"{proposal.household}: {ExclusionStatus(to).label}")

    @admin.action(description=_("Confirm the exclusion"), permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[ExclusionProposal]) -> None:
        self._decide(request, queryset, ExclusionStatus.CONFIRMED)

    @admin.action(description=_("Dismiss (give the note)"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[ExclusionProposal]) -> None:
        self._decide(request, queryset, ExclusionStatus.DISMISSED)
