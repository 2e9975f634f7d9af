"""Reviewing registrations in the admin: approve or reject one household from its page, and
reject the selected ones from the list, always with a reason and always through the workflow
(``services.household_transition``: area, maker–checker, history)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.exceptions import RegistryError

from .. import services
from ..choices import HouseholdStatus
from ..models import Household

ACTION_LIMIT = 500


class ReviewForm(forms.Form):
    """The decision on one registration; a rejection needs its reason."""

    decision = forms.ChoiceField(
        label=_("decision"),
        choices=[("approve", _("Approve")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed to reject: the family and the officer will read it."),
    )

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the registration is rejected."))
        return data


class RejectForm(forms.Form):
    """The reason for rejecting the selected registrations."""

    reason = forms.CharField(
        label=_("reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=1000
    )


def review_one(model_admin: Any, request: HttpRequest, object_id: Any) -> HttpResponse:
    """Approve or reject one registration (the buttons of its page)."""
    household = model_admin.get_object(request, str(object_id))
    if household is None:
        raise Http404
    if not model_admin.has_change_permission(request, household):
        raise PermissionDenied
    initial = {"decision": request.GET.get("decision", "approve")}
    form = ReviewForm(request.POST or None, initial=initial)
    page = reverse("admin:farmers_household_change", args=[household.pk])
    if request.method == "POST" and form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            services.household_transition(
                actor=request_actor(request),
                household=household,
                to=HouseholdStatus.ACTIVE if approve else HouseholdStatus.REJECTED,
                reason=form.cleaned_data["reason"].strip(),
                channel="admin",
            )
        except RegistryError as exc:
            form.add_error(None, exc.detail)
        else:
            done = _("Registration approved.") if approve else _("Registration rejected.")
            messages.success(request, done)
            return HttpResponseRedirect(page)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": household,
        "form": form,
        "page": page,
        "title": _("Review the registration of %(code)s") % {"code": household.code},
    }
    return TemplateResponse(request, "admin/farmers/household/review.html", context)


def reject_many(
    model_admin: Any, request: HttpRequest, queryset: QuerySet[Household]
) -> HttpResponse | None:
    """The list's "reject" action: a page asking for the reason, then each pending registration
    rejected through the workflow (refusals listed as warnings)."""
    pending = queryset.filter(status=HouseholdStatus.PENDING_REVIEW)
    form = RejectForm(request.POST if "apply" in request.POST else None)
    if form.is_bound and form.is_valid():
        actor = request_actor(request)
        done, refused = 0, []
        for household in pending[:ACTION_LIMIT]:
            try:
                services.household_transition(
                    actor=actor,
                    household=household,
                    to=HouseholdStatus.REJECTED,
                    reason=form.cleaned_data["reason"].strip(),
                    channel="admin",
                )
                done += 1
            except RegistryError as exc:
                refused.append(f"{household.code}: {exc.detail}")
        if done:
            messages.success(request, _("%(n)s registrations rejected.") % {"n": done})
        for line in refused[:20]:
            messages.warning(request, line)
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "form": form,
        "households": list(
            pending.select_related(None).only("pk", "code", "head_name")[:ACTION_LIMIT]
        ),
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
        "select_across": request.POST.get("select_across", "0"),
        "title": _("Reject registrations"),
    }
    return TemplateResponse(request, "admin/farmers/household/reject.html", context)
