"""Field verification visits: recording, the photo, and review (``workflow.VERIFICATION_MACHINE``
through ``registry.workflow``; maker–checker)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.actors import Actor
from registry.choices import ChangeAction, Scope
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import Conflict, PayloadTooLarge, PermissionDenied, UnsupportedMediaType
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.workflow import Flow, Step, transition

from .. import policies
from ..choices import Crop, VerificationMethod, VerificationStatus
from ..evidence import check_licit_within_plot_area, visit_evidence_guard, visit_plots
from ..models import Verification
from ..transition import recompute_on_commit
from ..workflow import MAKER_CHECKER, VERIFICATION_MACHINE, VISIT_EVIDENCE
from .cleaning import _decimal_signed
from .common import _household_for_write, _may_write, _need_review_reason
from .enrolment import require_not_before_enrolment


@replays_lost_race(Verification)
@transaction.atomic
def verification_create(
    *,
    actor: Actor,
    household: Any,
    visited_on: date,
    method: str,
    coca_ha: Any,
    licit_crops: Any = None,
    location: dict[str, Any] | None = None,
    photo: Any = None,
    plots: Iterable[Any] | None = None,
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Verification, bool]:
    """Record a field verification visit (pending a supervisor's confirmation), with the
    household's plots it saw (``farmers.evidence``)."""
    payload: dict[str, Any] = {
        "household": str(household),
        "visited_on": visited_on,
        "method": method,
        "coca_ha": str(coca_ha),
        "licit_crops": licit_crops,
        "location": location,
    }
    if plots:  # only then: the digest of a visit recorded without plots stays what it was
        payload["plots"] = sorted(str(pk) for pk in plots)
    digest = request_hash(payload)
    existing = replayed(Verification, id, digest, may_see=_may_write(actor))
    if existing is not None:
        return existing, False
    owner = _household_for_write(actor, household)
    errors: dict[str, list[ValidationError]] = {}
    if visited_on > (today or timezone.localdate()):
        errors["visited_on"] = [
            ValidationError(_("The date cannot be in the future."), code="future_date")
        ]
    else:
        try:
            require_not_before_enrolment(owner, visited_on, "visited_on")
        except ValidationError as exc:
            errors.update(exc.error_dict)
    try:
        method = clean_choice(method, VerificationMethod, "method")
    except ValidationError as exc:
        errors.update(exc.error_dict)
    coca = Decimal("0")
    try:
        coca = clean_decimal(coca_ha, "coca_ha", max_value=Decimal("1000"))
    except ValidationError as exc:
        errors.update(exc.error_dict)
    crops: list[dict[str, str]] = []
    for index, item in enumerate(licit_crops or []):
        try:
            crop = clean_choice((item or {}).get("crop"), Crop, f"licit_crops.{index}.crop")
            hectares = clean_decimal(
                (item or {}).get("ha"), f"licit_crops.{index}.ha", max_value=Decimal("1000")
            )
            crops.append({"crop": crop, "ha": str(hectares)})
        except ValidationError as exc:
            errors.update(exc.error_dict)
    seen: list[Any] = []
    for check in (
        lambda: check_licit_within_plot_area(owner, crops),
        lambda: seen.extend(visit_plots(owner, plots)),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    latitude = longitude = None
    if location:
        try:
            latitude = _decimal_signed(location.get("lat"), "location.lat", -18.4, 0.1)
            longitude = _decimal_signed(location.get("lon"), "location.lon", -81.4, -68.6)
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    visit = Verification(
        household=owner,
        visited_on=visited_on,
        method=method,
        coca_ha=coca,
        licit_crops=crops,
        latitude=latitude,
        longitude=longitude,
        **actor.stamp(),
        request_hash=digest,
        **({"id": id} if id is not None else {}),
    )
    if photo is not None:
        sha = hashlib.sha256()
        for chunk in photo.chunks():
            sha.update(chunk)
        visit.photo_sha256 = sha.hexdigest()
        visit.photo = photo
    visit.save(force_insert=True)
    changes: dict[str, Any] = {
        "household": owner.code,
        "visited_on": str(visited_on),
        "method": method,
    }
    if seen:
        visit.plots.set(seen)
        changes["plots"] = sorted(str(plot.pk) for plot in seen)
    change_record(
        instance=visit,
        action=ChangeAction.CREATE,
        actor=actor,
        changes=changes,
        channel=channel,
    )
    return visit, True


PHOTO_MAX_BYTES = 8 * 1024 * 1024


PHOTO_SIGNATURES = {b"\xff\xd8\xff": "jpeg", b"\x89PNG\r\n\x1a\n": "png"}


@transaction.atomic
def verification_attach_photo(
    *, actor: Actor, verification: Verification, photo: Any
) -> Verification:
    """Attach the visit's photo (JPEG or PNG, at most 8 MB) and store its SHA-256, while the
    visit is pending."""
    locked = Verification.objects.select_for_update().get(pk=verification.pk)
    _household_for_write(actor, locked.household_id)
    if locked.status != VerificationStatus.PENDING:
        raise Conflict(
            _("The photo can only be changed while the visit is pending."), code="visit_reviewed"
        )
    if photo.size > PHOTO_MAX_BYTES:
        raise PayloadTooLarge(
            _("The photo is larger than %(max)s MB.") % {"max": PHOTO_MAX_BYTES // 2**20},
            attr="photo",
        )
    head = photo.read(8)
    photo.seek(0)
    if not any(head.startswith(signature) for signature in PHOTO_SIGNATURES):
        raise UnsupportedMediaType(_("Send the photo as JPEG or PNG."), attr="photo")
    sha = hashlib.sha256()
    for chunk in photo.chunks():
        sha.update(chunk)
    photo.seek(0)
    locked.photo_sha256 = sha.hexdigest()
    locked.photo.save(f"{locked.pk}-{locked.photo_sha256[:12]}", photo, save=False)
    locked.save(update_fields=["photo", "photo_sha256"])
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"photo_sha256": locked.photo_sha256},
    )
    return locked


def _verification_lock(actor: Actor, verification: Any) -> Verification:
    """Lock the visit, then its household (404 when the actor cannot see it)."""
    pk = verification.pk if isinstance(verification, Verification) else verification
    locked = Verification.objects.select_for_update().get(pk=pk)
    locked.household = _household_for_write(actor, locked.household_id, scope=Scope.HOUSEHOLDS_READ)
    return locked


def _verification_maker_checker(step: Step[Verification]) -> None:
    visit = step.instance
    if policies.made_by(cast(Actor, step.actor), visit):
        raise PermissionDenied(
            _("You recorded this visit: another person must review it."), code="maker_checker"
        )


def _verification_apply(step: Step[Verification]) -> None:
    visit = step.instance
    visit.reviewed_by = cast(Actor, step.actor).user
    visit.reviewed_at = timezone.now()
    visit.review_note = (step.data.get("reason") or "").strip()


VERIFICATION_FLOW: Flow[Verification] = Flow(
    machine=VERIFICATION_MACHINE,
    lock=_verification_lock,
    parties=lambda step: policies.reviewer_parties(
        cast(Actor, step.actor), step.instance.household, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not review visits."), code="missing_scope"
    ),
    fields={"reason": _need_review_reason},
    who={MAKER_CHECKER: _verification_maker_checker},
    guards={VISIT_EVIDENCE: visit_evidence_guard},
    apply=_verification_apply,
    enqueue=lambda step: recompute_on_commit([step.instance.household_id]),
    versioned=False,
)


def verification_transition(
    *, actor: Actor, verification: Verification, to: str, reason: str = ""
) -> Verification:
    """A supervisor confirms or rejects a visit (``workflow.VERIFICATION_MACHINE``, through the
    kernel's ``registry.workflow.transition``); the officer who made it cannot."""
    return transition(
        VERIFICATION_FLOW,
        actor=actor,
        record=verification,
        to=to,
        data={"reason": reason},
        channel="system",
    )
