"""The decisions about people: the queues of exclusions the engine proposed (confirm or
dismiss) and of families' appeals (uphold or reject), decided by programme staff through
``farmers.services.exclusion_transition`` / ``appeal_transition`` (the policy and the history
are the services')."""

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
from ..choices import AppealStatus, CorrectionStatus, ExclusionStatus
from ..models import Appeal, ExclusionProposal, VisitCorrection


class DecisionActionForm(ActionForm):
    """The admin action bar with the decision note (a dismissal needs one)."""

    note = forms.CharField(label=_("decision note"), required=False)


class DecisionQueueAdmin(admin.ModelAdmin):
    """A queue of decisions about people: coca data (coca:read in the area), never added,
    changed or deleted here; the actions call ``decide`` (a service) with the note."""

    action_form = DecisionActionForm
    show_full_result_count = False
    search_fields = ["=household__code"]
    open_status = ""

    def decide(self, actor: Any, record: Any, to: str, note: str) -> Any:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).filter(policies.decision_q(request_actor(request)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def _decide(self, request: HttpRequest, queryset: QuerySet[Any], to: str) -> None:
        actor = request_actor(request)
        note = request.POST.get("note", "")
        for record in queryset.filter(status=self.open_status)[:500]:
            try:
                self.decide(actor, record, to, note)
            except RegistryError as exc:
                messages.warning(request, f"{record}: {exc.detail}")
            except ValidationError as exc:
                messages.warning(request, f"{record}: {' '.join(exc.messages)}")
            else:
                messages.success(request, f"{record.household}: {to}")


@admin.register(ExclusionProposal)
class ExclusionProposalAdmin(DecisionQueueAdmin):
    """Proposed exclusions (coca data: coca:read in the area) with the evidence behind each;
    programme staff confirm or dismiss them."""

    list_display = ["household", "relapse_on", "status", "decided_by", "decided_at", "created_at"]
    list_filter = ["status"]
    list_select_related = ["household", "decided_by"]
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
    actions = ["confirm", "dismiss"]
    open_status = ExclusionStatus.PROPOSED

    def decide(self, actor: Any, record: Any, to: str, note: str) -> Any:
        return services.exclusion_transition(
            actor=actor, proposal=record, to=to, note=note, channel="admin"
        )

    @admin.action(description=_("Confirm the exclusion"), permissions=["change"])
    def confirm(self, request: HttpRequest, queryset: QuerySet[ExclusionProposal]) -> None:
        self._decide(request, queryset, ExclusionStatus.CONFIRMED)

    @admin.action(description=_("Dismiss (give the note)"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[ExclusionProposal]) -> None:
        self._decide(request, queryset, ExclusionStatus.DISMISSED)


@admin.register(Appeal)
class AppealAdmin(DecisionQueueAdmin):
    """Families' appeals of a relapse or an exclusion, with their grounds and evidence (and the
    stage change or proposal appealed); programme staff uphold or reject them with a note."""

    list_display = ["household", "kind", "relapse_on", "status", "created_by", "created_at"]
    list_filter = ["status", "kind"]
    list_select_related = ["household", "created_by"]
    readonly_fields = [
        "household",
        "kind",
        "relapse_on",
        "stage_change",
        "proposal",
        "grounds",
        "evidence_note",
        "status",
        "created_by",
        "created_by_key",
        "decided_by",
        "decided_by_key",
        "decided_at",
        "decision_note",
        "version",
        "created_at",
    ]
    actions = ["uphold", "reject"]
    open_status = AppealStatus.FILED

    def decide(self, actor: Any, record: Any, to: str, note: str) -> Any:
        return services.appeal_transition(
            actor=actor, appeal=record, to=to, note=note, channel="admin"
        )

    @admin.action(description=_("Uphold the appeal (give the note)"), permissions=["change"])
    def uphold(self, request: HttpRequest, queryset: QuerySet[Appeal]) -> None:
        self._decide(request, queryset, AppealStatus.UPHELD)

    @admin.action(description=_("Reject the appeal (give the note)"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[Appeal]) -> None:
        self._decide(request, queryset, AppealStatus.REJECTED)


@admin.register(VisitCorrection)
class VisitCorrectionAdmin(DecisionQueueAdmin):
    """Corrections of confirmed visits (field, old → new, why, who proposed): a second person
    approves (applied to the visit, recomputed) or rejects (with the note as the reason)."""

    list_display = ["verification", "field", "old_value", "new_value", "status", "created_by"]
    list_filter = ["status", "field"]
    list_select_related = ["household", "created_by"]
    readonly_fields = [
        "verification",
        "household",
        "field",
        "old_value",
        "new_value",
        "reason",
        "status",
        "created_by",
        "created_by_key",
        "decided_by",
        "decided_by_key",
        "decided_at",
        "decision_note",
        "version",
        "created_at",
    ]
    actions = ["approve", "reject"]
    open_status = CorrectionStatus.PROPOSED

    def decide(self, actor: Any, record: Any, to: str, note: str) -> Any:
        return services.correction_transition(
            actor=actor, correction=record, to=to, reason=note, channel="admin"
        )

    @admin.action(description=_("Approve the correction"), permissions=["change"])
    def approve(self, request: HttpRequest, queryset: QuerySet[VisitCorrection]) -> None:
        self._decide(request, queryset, CorrectionStatus.APPROVED)

    @admin.action(description=_("Reject the correction (give the note)"), permissions=["change"])
    def reject(self, request: HttpRequest, queryset: QuerySet[VisitCorrection]) -> None:
        self._decide(request, queryset, CorrectionStatus.REJECTED)
