"""``stage-reviews/``: the partner contract's one resource over the two kinds of review of a
household's stage (coca data), over the existing models and services (no model of its own):

- ``exclusion``: an ``ExclusionProposal`` the transition engine opened (never filed here);
- ``appeal``: an ``Appeal`` the family files (``POST``, through ``services.appeal_file``).

Both are decided by programme staff through ``{id}/transition/`` (``exclusion_transition`` /
``appeal_transition``: same parties, errors and ``If-Match``). The list merges both scoped lists
(``selectors.exclusion_list`` / ``appeal_list``) newest first: ``MergedCursorPagination`` runs
the project's keyset cursor on each and merges the pages (a UNION cannot be filtered after the
fact, which the keyset cursor needs), two queries per page whatever its size.
``exclusion-proposals/`` and ``appeals/`` stay as they were."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from farmers import selectors, services
from farmers.choices import AppealKind, AppealStatus, ExclusionStatus
from farmers.models import Appeal, ExclusionProposal
from farmers.transition.rules import Reason
from registry.api.fields import ChoiceField
from registry.api.lean import model_rows
from registry.api.pagination import CursorPagination
from registry.choices import Scope
from registry.exceptions import Conflict, NotFound

from .serializers import AppealTransitionSerializer, ExclusionTransitionSerializer
from .views import FarmersViewSet

EXCLUSION = "exclusion"
APPEAL = "appeal"
KINDS = [(EXCLUSION, _("exclusion proposal")), (APPEAL, _("appeal"))]
STATUSES = [*ExclusionStatus.choices, *AppealStatus.choices]

Review = ExclusionProposal | Appeal


class StageReviewSerializer(serializers.Serializer[Any]):
    """One review of a household's stage: an exclusion the engine proposed (``reason`` is the
    engine's ``excluded_after_relapses``, ``evidence`` its evidence summary) or the family's
    appeal (``reason``: its grounds; ``appealed``: the relapse or the exclusion; ``proposal``: the
    exclusion appealed), with programme staff's decision. Fields a kind lacks are ``null``."""

    id = serializers.UUIDField(read_only=True)
    household = serializers.UUIDField(read_only=True)
    household_code = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=KINDS, read_only=True)
    status = serializers.ChoiceField(choices=STATUSES, read_only=True)
    reason = serializers.CharField(read_only=True)
    appealed = serializers.ChoiceField(choices=AppealKind.choices, read_only=True, allow_null=True)
    relapse_on = serializers.DateField(read_only=True)
    evidence = serializers.JSONField(read_only=True, allow_null=True)
    evidence_note = serializers.CharField(read_only=True, allow_null=True)
    proposal = serializers.UUIDField(read_only=True, allow_null=True)
    filed_by = serializers.IntegerField(read_only=True, allow_null=True)
    decided_by = serializers.IntegerField(read_only=True, allow_null=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decision_note = serializers.CharField(read_only=True)
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, instance: Review) -> Any:
        return super().to_representation(self.lean_record(instance))

    @classmethod
    def lean_record(cls, record: Any) -> dict[str, Any]:
        """What the fields read of ``record``: an exclusion proposal or an appeal, or a row of
        either on the lean list path (``review_rows``: its model's columns, ``row._meta``)."""
        row: dict[str, Any] = {
            "id": record.pk,
            "household": record.household_id,
            "household_code": record.household.code,
            "status": record.status,
            "relapse_on": record.relapse_on,
            "decided_by": record.decided_by_id,
            "decided_at": record.decided_at,
            "decision_note": record.decision_note,
            "version": record.version,
            "created_at": record.created_at,
        }
        if record._meta.model is ExclusionProposal:
            row |= {
                "kind": EXCLUSION,
                "reason": Reason.EXCLUDED,
                "appealed": None,
                "evidence": record.evidence,
                "evidence_note": None,
                "proposal": None,
                "filed_by": None,
            }
        else:
            row |= {
                "kind": APPEAL,
                "reason": record.grounds,
                "appealed": record.kind,
                "evidence": None,
                "evidence_note": record.evidence_note,
                "proposal": record.proposal_id,
                "filed_by": record.created_by_id,
            }
        return row


# The columns ``lean_record`` reads of each kind's rows (the lean list path).
REVIEW_COLUMNS = (
    "id",
    "household_id",
    "household__code",
    "status",
    "relapse_on",
    "decided_by_id",
    "decided_at",
    "decision_note",
    "version",
    "created_at",
)
KIND_COLUMNS: dict[type[Any], tuple[str, ...]] = {
    ExclusionProposal: ("evidence",),
    Appeal: ("grounds", "kind", "evidence_note", "proposal_id", "created_by_id"),
}


def review_rows(queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset`` (exclusion proposals or appeals) as the rows ``lean_record`` reads."""
    rows = queryset.values(*REVIEW_COLUMNS, *KIND_COLUMNS[queryset.model])
    rows._iterable_class = model_rows(queryset.model)
    return rows


class StageReviewFilterSerializer(serializers.Serializer[Any]):
    """The list's filters: ``kind``, ``status``, ``household`` (a bad value is a 400)."""

    kind = serializers.ChoiceField(choices=KINDS, required=False)
    status = serializers.ChoiceField(choices=STATUSES, required=False)
    household = serializers.UUIDField(required=False)


class StageReviewCreateSerializer(serializers.Serializer[Any]):
    """File the family's appeal: ``{"household", "kind": "appeal", "reason"}``, optionally
    ``appealed`` (``relapse``|``exclusion``; default: what the household is in now) and
    ``evidence_note``. Exclusions are proposed by the engine only: another ``kind`` is a 400."""

    household = serializers.UUIDField()
    kind = ChoiceField(choices=[(APPEAL, _("appeal"))])
    reason = serializers.CharField(max_length=4000)
    appealed = ChoiceField(choices=AppealKind.choices, required=False)
    evidence_note = serializers.CharField(
        max_length=4000, required=False, allow_blank=True, default=""
    )


class StageReviewTransitionSerializer(serializers.Serializer[Any]):
    """``{"to", "note"}``: ``confirmed``|``dismissed`` for an exclusion, ``upheld``|``rejected``
    for an appeal (the other kind's states are a 400 ``invalid_choice`` on ``to``)."""

    to = ChoiceField(choices=STATUSES)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class MergedCursorPagination(CursorPagination):
    """The project's keyset cursor over several querysets of models sharing the ordering's
    fields (here ``created_at``, ``id``): each is paged with the same cursor (one query each),
    the pages are merged in the ordering and cut to the page size. Links and cursors are the
    project's own (signed, ``{"next", "previous", "results"}``)."""

    def paginate_querysets(
        self, querysets: list[QuerySet[Any]], request: Request, view: Any = None
    ) -> list[Any]:
        rows: list[Any] = []
        flags: list[tuple[Any, Any]] = []
        for queryset in querysets:
            rows += super().paginate_queryset(queryset, request, view) or []
            flags.append((self.has_previous, self.has_next))
        cursor = self._decode(request)
        reverse, position = cursor if cursor is not None else (False, None)
        rows.sort(
            key=lambda row: tuple(self._position_of(row)),
            reverse=self.ordering[0].startswith("-"),
        )
        # More rows on the far side of the page: some queryset had more, or the merge did.
        more = len(rows) > self.page_size or any(flag[not reverse] for flag in flags)
        if reverse:
            # The rows just before the position: the end of the merged run.
            self.page = rows[-self.page_size :] if rows else []
            self.has_previous, self.has_next = more, True
        else:
            self.page = rows[: self.page_size]
            self.has_previous, self.has_next = position is not None, more
        self.display_page_controls = self.has_next or self.has_previous
        return self.page


class StageReviewViewSet(FarmersViewSet):
    """Reviews of a household's stage (coca data): the exclusions the engine proposed and the
    family's appeals in one list, newest first; appeals filed here (households:write in the
    area), both decided by programme staff of the programme's agency."""

    read_scope = Scope.COCA_READ
    ordering = ("-created_at", "-id")
    pagination_class = MergedCursorPagination
    serializer_class = StageReviewSerializer
    detail_serializer_class = StageReviewSerializer
    http_method_names = ["get", "post", "head", "options"]
    action_scopes = {"create": Scope.HOUSEHOLDS_WRITE, "transition": Scope.COCA_READ}

    def get_queryset(self) -> QuerySet[Any]:
        return selectors.appeal_list(actor=self.actor)

    def get_serializer_class(self) -> Any:
        return {
            "create": StageReviewCreateSerializer,
            "transition": StageReviewTransitionSerializer,
        }.get(self.action, StageReviewSerializer)

    def querysets(self, filters: dict[str, Any]) -> list[QuerySet[Any]]:
        """The scoped lists of the kinds asked for, filtered by ``status`` / ``household``."""
        lists = {
            EXCLUSION: selectors.exclusion_list(actor=self.actor),
            APPEAL: selectors.appeal_list(actor=self.actor),
        }
        conditions = {k: filters[k] for k in ("status", "household") if k in filters}
        return [
            queryset.filter(**conditions)
            for kind, queryset in lists.items()
            if filters.get("kind", kind) == kind
        ]

    def get_object(self) -> Review:
        """An exclusion proposal or an appeal by its id, within the actor's scope (404)."""
        try:
            pk = uuid.UUID(str(self.kwargs["pk"]))
        except ValueError:
            raise NotFound() from None
        for queryset in self.querysets({}):
            record = queryset.filter(pk=pk).first()
            if record is not None:
                self.check_object_permissions(self.request, record)
                return record
        raise NotFound()

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", enum=[k for k, _label in KINDS]),
            OpenApiParameter("status", enum=[s for s, _label in STATUSES]),
            OpenApiParameter("household", type=uuid.UUID),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filters = StageReviewFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.paginator
        assert isinstance(paginator, MergedCursorPagination)
        querysets = self.querysets(filters.validated_data)
        plan = self.lean_plan()
        if plan is not None:  # rows, each mapped and rendered as the serializer does
            querysets = [review_rows(queryset) for queryset in querysets]
        page = paginator.paginate_querysets(querysets, request, self)
        self.log_reads(page)
        if plan is None:
            return self.get_paginated_response(self.get_serializer(page, many=True).data)
        render = plan.renderer()
        record = StageReviewSerializer.lean_record
        return self.get_paginated_response([render(record(row), {}) for row in page])

    @extend_schema(request=StageReviewCreateSerializer, responses={201: StageReviewSerializer})
    def create(self, request: Request) -> Response:
        """File the family's appeal (``kind`` must be ``appeal``: the engine proposes
        exclusions); ``appealed`` defaults to what the household is in now."""
        data = self.validated(StageReviewCreateSerializer)
        try:
            appeal = services.appeal_file_now(
                actor=self.actor,
                household=data["household"],
                kind=data.get("appealed"),
                grounds=data["reason"],
                evidence_note=data["evidence_note"],
            )
        except Conflict as exc:
            if exc.attr == "kind":  # ``kind`` is ``appealed`` in this body
                exc.attr = "appealed"
            raise
        return self.respond(appeal, created=True)

    @extend_schema(request=StageReviewTransitionSerializer, responses=StageReviewSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Programme staff decide: ``confirmed``/``dismissed`` an exclusion, ``upheld``/
        ``rejected`` an appeal, with the ``note`` (required where the existing endpoints need
        it); ``If-Match`` is the ETag of this resource's representation."""
        record = self.get_object()
        is_exclusion = isinstance(record, ExclusionProposal)
        data = self.validated(
            ExclusionTransitionSerializer if is_exclusion else AppealTransitionSerializer
        )
        record_version = self.if_match(record)
        if isinstance(record, ExclusionProposal):
            record = services.exclusion_transition(
                actor=self.actor,
                proposal=record,
                to=data["to"],
                note=data["note"],
                expected_version=record_version,
            )
        else:
            record = services.appeal_transition(
                actor=self.actor,
                appeal=record,
                to=data["to"],
                note=data["note"],
                expected_version=record_version,
            )
        return self.respond(record)
