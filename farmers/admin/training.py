"""Technical assistance and training in the admin: events with their attendance inline (sex and
age from each member's record) and the practices families adopted. Events are recorded and
attendees added through the services (area, funding and enrolment rules, history)."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from registry.admin import DecimalCommaAdmin, request_actor
from registry.admin_toolkit import ReadOnlyInline
from registry.crypto import PURPOSE_DOCUMENT, blind_index
from registry.funding import funding_resolve

from .. import policies, services
from ..api.serializers.training import age_on
from ..models import Member, PracticeAdoption, TrainingAttendance, TrainingEvent
from .base import ScopedAdminMixin


class AttendanceInline(ReadOnlyInline):
    """Who attended: the member, the household, and the member's sex and age on the day."""

    model = TrainingAttendance
    fields = ["member_name", "household", "sex", "age"]
    readonly_fields = ["member_name", "household", "sex", "age"]
    verbose_name_plural = _("attendees")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TrainingAttendance]:
        return super().get_queryset(request).select_related("member", "household", "event")

    @admin.display(description=_("member"))
    def member_name(self, obj: TrainingAttendance) -> str:
        return f"{obj.member.given_names} {obj.member.surnames}"

    @admin.display(description=_("sex"))
    def sex(self, obj: TrainingAttendance) -> str:
        return str(obj.member.get_sex_display())

    @admin.display(description=_("age"))
    def age(self, obj: TrainingAttendance) -> int:
        return age_on(obj.member.birth_date, obj.event.held_on)


def _documents(text: str) -> list[str]:
    """The ID numbers typed in a box, one per line (or separated by commas or spaces)."""
    return [t for t in re.split(r"[\s,;]+", text or "") if t]


class TrainingEventForm(forms.ModelForm):
    """An event; attendees are added by their ID numbers (DNI or carné), one per line."""

    attendees_add = forms.CharField(
        label=_("add attendees (ID numbers)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("DNI or carné numbers of the household members who attended, one per line."),
    )
    actor: Any = None

    class Meta:
        model = TrainingEvent
        fields = [
            "program",
            "district",
            "held_on",
            "topic",
            "place",
            "facilitator",
            "cost_pen",
            "funding_source",
            "funding_agreement",
            "note",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        adding = self.instance._state.adding
        program = cleaned.get("program") if adding else self.instance.program
        held_on = cleaned.get("held_on") if adding else self.instance.held_on
        if program is None or held_on is None:
            return cleaned
        if adding:
            funding = funding_resolve(
                source=cleaned.get("funding_source"),
                agreement=cleaned.get("funding_agreement"),
                on=held_on,
                program_id=program.pk,
                date_attr="held_on",
            )
            cleaned["funding_source"] = funding.source
        numbers = _documents(cleaned.get("attendees_add", ""))
        # ID numbers are encrypted at rest: found through their blind index (registry.crypto).
        by_index = {blind_index(PURPOSE_DOCUMENT, n.upper()): n for n in numbers}
        found = {
            by_index[index]: pk
            for index, pk in Member.objects.filter(
                policies.member_q(self.actor), document_index__in=list(by_index), is_live=True
            ).values_list("document_index", "pk")
        }
        missing = [n for n in numbers if n not in found]
        if missing:
            raise ValidationError(
                {
                    "attendees_add": _("No member with these ID numbers in your area: %(ids)s")
                    % {"ids": ", ".join(missing)}
                }
            )
        try:
            services.training_members_check(
                actor=self.actor,
                program_id=program.pk,
                held_on=held_on,
                member_ids=[found[n] for n in numbers],
                attr="attendees",
            )
        except ValidationError as exc:
            messages = [
                f"{numbers[int(key.split('.')[1])]}: {message}"
                for key, texts in exc.message_dict.items()
                for message in texts
            ]
            raise ValidationError({"attendees_add": messages}) from exc
        cleaned["attendee_ids"] = [found[n] for n in numbers]
        return cleaned


@admin.register(TrainingEvent)
class TrainingEventAdmin(ScopedAdminMixin, DecimalCommaAdmin):
    """Training and technical-assistance events of the person's area, with their attendance."""

    form = TrainingEventForm
    list_display = [
        "held_on",
        "topic",
        "program",
        "district",
        "facilitator",
        "cost_pen",
        "funding_source",
    ]
    list_filter = [
        "topic",
        "funding_source",
        ("program", admin.RelatedOnlyFieldListFilter),
        ("held_on", admin.DateFieldListFilter),
    ]
    list_select_related = ["program", "district", "funding_source"]
    search_fields = ["place", "facilitator"]
    autocomplete_fields = ["program", "district", "funding_source", "funding_agreement"]
    date_hierarchy = "held_on"
    inlines = [AttendanceInline]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)
        form_class.actor = request_actor(request)  # type: ignore[attr-defined]
        return form_class

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # A recorded event is kept as recorded; only its attendance grows.
        return TrainingEventForm.Meta.fields if obj is not None else []

    def save_model(self, request: HttpRequest, obj: TrainingEvent, form: Any, change: bool) -> None:
        actor = request_actor(request)
        members = form.cleaned_data.get("attendee_ids") or []
        if change:
            services.training_attendees_add(
                actor=actor, event=obj.pk, members=members, channel="admin"
            )
            return
        saved, _created = services.training_event_create(
            actor=actor,
            program=obj.program.code,
            district=obj.district_id,
            date=obj.held_on,
            topic=obj.topic,
            facilitator=obj.facilitator,
            place=obj.place,
            cost_pen=obj.cost_pen,
            funding_source=obj.funding_source.code if obj.funding_source else None,
            funding_agreement=obj.funding_agreement.code if obj.funding_agreement else None,
            note=obj.note,
            attendees=members,
            channel="admin",
        )
        obj.pk = saved.pk
        obj._state.adding = False


@admin.register(PracticeAdoption)
class PracticeAdoptionAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Practices families adopted after technical assistance (recorded through the API and the
    field pages; shown here)."""

    household_prefix = "household__"
    list_display = ["household", "practice", "adopted_on", "event"]
    list_filter = ["practice", ("adopted_on", admin.DateFieldListFilter)]
    list_select_related = ["household", "event"]
    show_full_result_count = False
    readonly_fields = ["household", "member", "event", "practice", "adopted_on", "created_at"]
    fields = ["household", "member", "event", "practice", "adopted_on", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)
