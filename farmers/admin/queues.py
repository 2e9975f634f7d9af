"""The review queues: possible duplicates (dismiss or merge), verification visits (confirm) and
eradication records (verify); maker–checker in the services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from registry.admin import request_actor
from registry.admin.exports import ExportActionsMixin
from registry.admin_toolkit import evidence_file
from registry.display import choice_labels, number
from registry.exceptions import RegistryError

from .. import policies, services
from ..choices import DuplicateStatus, EradicationStatus, VerificationStatus
from ..models import (
    Eradication,
    PossibleDuplicate,
    Verification,
)
from .base import MASK, ScopedAdminMixin, coca_allowed
from .inlines import licit_crops_text, visit_photo_link

DUPLICATE_REASONS = [
    ("similar_name", _("Similar name")),
    ("same_phone", _("Same phone")),
    ("close_birth_date", _("Close birth date")),
    ("same_district", _("Same district")),
    ("same_document", _("Same ID document")),
]


@admin.register(PossibleDuplicate)
class PossibleDuplicateAdmin(admin.ModelAdmin):
    """The duplicate queue: dismiss a pair, or merge the newer household into the older one."""

    list_display = ["household", "candidate", "score", "reasons_shown", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["household", "candidate"]
    show_full_result_count = False
    readonly_fields = [
        "household",
        "candidate",
        "score",
        "reasons_shown",
        "status",
        "resolved_by",
        "resolved_at",
        "created_at",
    ]
    actions = ["dismiss", "merge"]
    fields = [
        "household",
        "candidate",
        "score",
        "reasons_shown",
        "status",
        "resolved_by",
        "resolved_at",
        "created_at",
    ]

    @admin.display(description=_("reasons"))
    def reasons_shown(self, obj: PossibleDuplicate) -> str:
        """Why the pair looks like one family, in words."""
        return choice_labels(obj.reasons, DUPLICATE_REASONS)

    def get_queryset(self, request: HttpRequest) -> QuerySet[PossibleDuplicate]:
        """Pairs whose two households are both in the person's area (the candidate may be
        another programme's family: its name is not shown to who may not see it)."""
        return super().get_queryset(request).filter(policies.duplicate_q(request_actor(request)))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Not the same family: dismiss"), permissions=["change"])
    def dismiss(self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]) -> None:
        actor = request_actor(request)
        for row in queryset.filter(status=DuplicateStatus.OPEN):
            services.duplicate_dismiss(actor=actor, duplicate=row)
        messages.success(request, _("Dismissed."))

    @admin.action(
        description=_("Same family: merge the newer household into the older one"),
        permissions=["change"],
    )
    def merge(self, request: HttpRequest, queryset: QuerySet[PossibleDuplicate]) -> None:
        actor = request_actor(request)
        for row in queryset.filter(status=DuplicateStatus.OPEN).select_related(
            "household", "candidate"
        ):
            older, newer = sorted([row.household, row.candidate], key=lambda h: h.created_at)
            try:
                services.household_merge(actor=actor, source=newer, target=older)
                messages.success(
                    request,
                    _("%(new)s merged into %(old)s.") % {"new": newer.code, "old": older.code},
                )
            except RegistryError as exc:
                messages.warning(request, f"{row}: {exc.detail}")


@admin.register(Verification)
class VerificationAdmin(ExportActionsMixin, ScopedAdminMixin, admin.ModelAdmin):
    """The visit review queue (maker–checker)."""

    household_prefix = "household__"
    list_display = ["household", "visited_on", "method", "status", "created_by"]
    list_filter = ["status", "method"]
    list_select_related = ["household", "created_by"]
    show_full_result_count = False
    exclude = ["coca_ha", "request_hash", "photo", "licit_crops"]
    base_readonly_fields = [
        "household",
        "visited_on",
        "method",
        "licit_shown",
        "latitude",
        "longitude",
        "photo_link",
        "photo_sha256",
        "plots",
        "status",
        "created_by",
        "reviewed_by",
        "reviewed_at",
        "review_note",
    ]
    actions = ["confirm"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Decided per request (the admin object is shared between requests and threads).
        shown = obj is not None and coca_allowed(request, obj.household)
        return [*self.base_readonly_fields, "coca_observed" if shown else "coca_masked"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("coca observed (ha)"))
    def coca_observed(self, obj: Verification) -> str:
        return number(obj.coca_ha)

    @admin.display(description=_("licit crops (ha)"))
    def licit_shown(self, obj: Verification) -> str:
        return licit_crops_text(obj.licit_crops)

    @admin.display(description=_("photo"))
    def photo_link(self, obj: Verification) -> str:
        return visit_photo_link(obj)

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<uuid:object_id>/photo/",
                self.admin_site.admin_view(self.photo_view),
                name="farmers_verification_photo",
            ),
            *super().get_urls(),
        ]

    def photo_view(self, request: HttpRequest, object_id: Any) -> FileResponse:
        """The visit's photo, to whoever may see the visit (its household in their area): the
        file is not under a public URL."""
        visit = self.get_queryset(request).filter(pk=object_id).first()
        if visit is None or not visit.photo or not self.has_view_permission(request, visit):
            raise Http404
        return evidence_file(visit.photo, f"visita-{visit.visited_on:%Y%m%d}")

    @admin.display(description=_("coca observed (ha)"))
    def coca_masked(self, obj: Verification) -> str:
        return MASK

    @admin.action(description=_("Confirm selected visits"))
    def confirm(self, request: HttpRequest, queryset: QuerySet[Verification]) -> None:
        actor = request_actor(request)
        for visit in queryset.filter(status=VerificationStatus.PENDING)[:500]:
            try:
                services.verification_transition(
                    actor=actor, verification=visit, to=VerificationStatus.CONFIRMED
                )
            except RegistryError as exc:
                messages.warning(request, f"{visit}: {exc.detail}")


@admin.register(Eradication)
class EradicationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The eradication queue: a second person verifies voluntary records (maker–checker in the
    service). Kind and hectares are coca data: masked without coca:read in the area."""

    household_prefix = "household__"
    list_display = ["household", "plot", "eradicated_on", "status", "created_by", "verified_by"]
    list_filter = ["status"]
    list_select_related = ["household", "plot", "created_by", "verified_by"]
    date_hierarchy = "eradicated_on"
    show_full_result_count = False
    exclude = ["kind", "hectares", "request_hash"]
    base_readonly_fields = [
        "household",
        "plot",
        "eradicated_on",
        "status",
        "created_by",
        "created_by_key",
        "verified_by",
        "verified_by_key",
        "verified_at",
        "review_note",
    ]
    actions = ["verify"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        # Decided per request (the admin object is shared between requests and threads).
        shown = obj is not None and coca_allowed(request, obj.household)
        return [*self.base_readonly_fields, *(("kind", "hectares") if shown else ("coca_masked",))]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    @admin.display(description=_("kind and hectares"))
    def coca_masked(self, obj: Eradication) -> str:
        return MASK

    @admin.action(description=_("Verify selected eradications"))
    def verify(self, request: HttpRequest, queryset: QuerySet[Eradication]) -> None:
        actor = request_actor(request)
        for record in queryset.filter(status=EradicationStatus.PENDING)[:500]:
            try:
                services.eradication_transition(
                    actor=actor, eradication=record, to=EradicationStatus.VERIFIED, channel="admin"
                )
            except RegistryError as exc:
                messages.warning(request, f"{record}: {exc.detail}")
