"""Deliveries: recording produce delivered against an active contract (idempotent on its
``id``), its quality check and payment (``workflow.DELIVERY_MACHINE`` through the kernel's
``registry.workflow``: the table's ``requires`` name the fields each move checks, and the rules
below are the only checks of them), and the programme's confirmation that makes an accepted
delivery evidence of a market link."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.models import Household
from farmers.services import suspension_check
from farmers.services.enrolment import require_not_before_enrolment
from farmers.transition import recompute_on_commit
from registry import webhooks
from registry.actors import Actor
from registry.choices import ChangeAction, WebhookEventType
from registry.cleaning import clean_choice, clean_decimal
from registry.exceptions import Conflict, PermissionDenied
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.services import check_version, field_error
from registry.workflow import Flow, Step, transition

from .. import policies, summaries
from ..choices import (
    ContractStatus,
    DeliveryStatus,
    PriceRule,
    PriceUnit,
    QualityGrade,
    RejectionReason,
)
from ..models import Delivery
from ..workflow import ACCEPTED_DELIVERY_STATES, DELIVERY_MACHINE
from .amounts import CENTIMO, amount_for, kilograms, per_kg, per_kg_display, unit_price
from .contracts import contract_lock, contract_reference_price
from .organisations import member_on


@replays_lost_race(Delivery)
@transaction.atomic
def delivery_record(
    *,
    actor: Actor,
    contract: Any,
    delivered_on: date,
    quality_grade: str,
    household: Any = None,
    weight_kg: Any = None,
    weight_qq: Any = None,
    price_pen_per_kg: Any = None,
    price_pen_per_qq: Any = None,
    price_reason: str = "",
    receipt_reference: str = "",
    note: str = "",
    override_reason: str = "",
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Delivery, bool]:
    """Record a delivery against an active contract. Idempotent on ``id``.

    The delivery date falls within the contract's season (``outside_contract_season``) and not
    before its signature (``before_contract_signed``): field errors on ``delivered_on``. The
    price is given per kg or per quintal of 46 kg (kept as given) and defaults to the
    contract's; the amount is the quantity in the price's unit × the price, rounded half-up to
    the céntimo once. A price below the contract's fixed price (or its floor, for a
    reference-price contract) needs a ``price_reason`` (``price_below_contract`` otherwise) and
    is flagged ``price_below_contract``. A delivery that takes the contract past its volume is
    recorded but flagged ``exceeds_volume``. A contract that is not active is a 409; so is a
    relapsed or excluded household (``household_suspended``) unless programme staff give an
    ``override_reason`` (kept on the delivery and in the change record).

    Under a producer organisation's contract, ``household`` names the member household the
    produce came from: it must have been a member on the delivery date (``not_a_member``), and
    the delivery is that family's (its market evidence). Under a household's contract it is
    that household (another one is ``not_the_seller``).
    """
    payload = {
        "contract": str(contract),
        **({"household": str(household)} if household is not None else {}),
        "delivered_on": delivered_on,
        "weight": [str(weight_kg), str(weight_qq)],
        "grade": quality_grade,
        "price": str(price_pen_per_kg),
        "receipt": receipt_reference,
        "note": note,
        **({"price_qq": str(price_pen_per_qq)} if price_pen_per_qq is not None else {}),
        **({"price_reason": price_reason} if price_reason else {}),
    }
    digest = request_hash(payload)
    existing = replayed(
        Delivery, id, digest, may_see=lambda d: policies.delivery_can(actor, d, "record")
    )
    if existing is not None:
        return existing, False
    locked = contract_lock(actor, contract)
    policies.require_delivery(actor, Delivery(contract=locked), "record")
    quality_grade = clean_choice(quality_grade, QualityGrade, "quality_grade")
    if delivered_on > (today or timezone.localdate()):
        raise field_error("delivered_on", _("The date cannot be in the future."), "future_date")
    member = _delivering_household(locked, household, delivered_on)
    require_not_before_enrolment(member, delivered_on, "delivered_on")
    weight = kilograms(kg=weight_kg, qq=weight_qq, attr="weight")
    if locked.status != ContractStatus.ACTIVE:
        raise Conflict(
            _("Deliveries can be recorded only against an active contract (this one is %(s)s).")
            % {"s": locked.get_status_display()},
            code="contract_not_active",
            attr="contract",
        )
    _require_within_contract(locked, delivered_on)
    override = suspension_check(actor, member, override_reason, attr="contract")
    price, unit = _delivery_price(locked, price_pen_per_kg, price_pen_per_qq)
    reference = contract_reference_price(locked)
    below = reference is not None and per_kg(price, unit) < reference
    price_reason = price_reason.strip()
    if below and not price_reason:
        given = (locked.price_pen if locked.price_rule == PriceRule.FIXED else None) or (
            locked.price_floor_pen
        )
        raise field_error(
            "price_pen_per_qq" if price_pen_per_qq is not None else "price_pen_per_kg",
            _(
                "The price is below the contract's %(price)s PEN %(unit)s: give the reason "
                "(price_reason)."
            )
            % {"price": given, "unit": PriceUnit(locked.price_unit).label},
            "price_below_contract",
        )
    amount = amount_for(weight, price, unit)
    if amount > Decimal("999999999999.99"):
        raise field_error("weight_kg", _("The amount is too large."), "max_value")
    delivered_total = locked.delivered_kg + weight
    now = timezone.now()
    delivery = Delivery(
        contract=locked,
        household_id=member.pk,
        buyer_id=locked.buyer_id,
        district_id=locked.district_id,
        program_id=locked.program_id,
        delivered_on=delivered_on,
        weight_kg=weight,
        quality_grade=quality_grade,
        price_pen_per_kg=per_kg_display(price, unit),
        price_unit=unit,
        price_pen=price,
        price_reason=price_reason if below else "",
        price_below_contract=below,
        amount_pen=amount,
        receipt_reference=receipt_reference.strip()[:60],
        note=note.strip(),
        suspension_override=override,
        exceeds_volume=delivered_total > locked.volume_kg,
        **actor.stamp(),
        **_confirmation(actor, now),
        request_hash=digest,
        created_at=now,
        updated_at=now,
        **({"id": id} if id is not None else {}),
    )
    delivery.save(force_insert=True)
    # The dashboard's sales cells, in this transaction (a recorded delivery counts once accepted).
    summaries.changed(summaries.delivery_cells(delivery), {})
    locked.delivered_kg = delivered_total
    locked.save(update_fields=["delivered_kg"])
    change_record(
        instance=delivery,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "contract": str(locked.pk),
            **({"household": member.code} if locked.household_id is None else {}),
            "weight_kg": str(weight),
            "price_unit": unit,
            "price_pen": str(price),
            "amount_pen": str(amount),
            **({"price_reason": price_reason} if below else {}),
            "exceeds_volume": delivery.exceeds_volume,
            **({"override_reason": override} if override else {}),
        },
        channel=channel,
    )
    webhooks.record(
        WebhookEventType.DELIVERY_RECORDED,
        delivery.pk,
        district_id=delivery.district_id,
        program_id=delivery.program_id,
        contract=locked.pk,
        status=delivery.status,
    )
    return delivery, True


def _delivering_household(contract: Any, household: Any, delivered_on: date) -> Household:
    """The family a delivery comes from: the contract's household, or under a producer
    organisation's contract the member named (a member on the delivery date)."""
    if contract.seller_organization_id is None:
        if household is not None and str(household) != str(contract.household_id):
            raise field_error(
                "household",
                _("This contract's seller is another household."),
                "not_the_seller",
            )
        return Household.objects.get(pk=contract.household_id)
    if household is None:
        raise field_error(
            "household",
            _("Name the member household the produce came from."),
            "required",
        )
    member = member_on(contract.seller_organization_id, household, delivered_on)
    if member is None:
        raise field_error(
            "household",
            _("The household was not a member of the selling organisation on %(date)s.")
            % {"date": delivered_on.strftime("%d/%m/%Y")},
            "not_a_member",
        )
    return member


def _require_within_contract(contract: Any, delivered_on: date) -> None:
    """A delivery falls within the contract's season and not before its signature."""
    if not contract.season_start <= delivered_on <= contract.season_end:
        raise field_error(
            "delivered_on",
            _("The delivery date is outside the contract's season (%(start)s to %(end)s).")
            % {
                "start": contract.season_start.strftime("%d/%m/%Y"),
                "end": contract.season_end.strftime("%d/%m/%Y"),
            },
            "outside_contract_season",
        )
    if contract.signed_on is not None and delivered_on < contract.signed_on:
        raise field_error(
            "delivered_on",
            _("The delivery cannot precede the contract's signature on %(date)s.")
            % {"date": contract.signed_on.strftime("%d/%m/%Y")},
            "before_contract_signed",
        )


def _delivery_price(contract: Any, kg: Any, qq: Any) -> tuple[Decimal, str]:
    """The delivery's price and unit: as given, else the contract's (in the contract's unit)."""
    given = unit_price(kg=kg, qq=qq, attr="price")
    if given is not None:
        return given
    if contract.price_pen is None:
        raise field_error(
            "price_pen_per_kg",
            _("This contract follows a reference price: give the price of the day."),
            "required",
        )
    return contract.price_pen, contract.price_unit


def _delivery_lock(actor: Actor, delivery: Any) -> Delivery:
    """Lock the delivery's contract (404 when the actor cannot see it), then the delivery."""
    if not isinstance(delivery, Delivery):
        delivery = Delivery.objects.only("contract_id").get(pk=delivery)
    contract = contract_lock(actor, delivery.contract_id)
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    locked.contract = contract
    return locked


def _need_rejection_reason(step: Step[Delivery]) -> None:
    value = step.data.get("rejection_reason")
    if not value:
        raise field_error("rejection_reason", _("Give the reason."), "required")
    step.data["rejection_reason"] = clean_choice(value, RejectionReason, "rejection_reason")


def _need_payment_reference(step: Step[Delivery]) -> None:
    reference = (step.data.get("payment_reference") or "").strip()
    if not reference:
        raise field_error("payment_reference", _("Give the payment reference."), "required")
    step.data["payment_reference"] = reference


def _need_paid_on(step: Step[Delivery]) -> None:
    paid_on = step.data.get("paid_on")
    if paid_on is None:
        raise field_error("paid_on", _("Give the payment date."), "required")
    if paid_on < step.instance.delivered_on:
        raise field_error(
            "paid_on", _("The payment cannot precede the delivery."), "before_delivery"
        )
    if paid_on > step.today:
        raise field_error("paid_on", _("The date cannot be in the future."), "future_date")


def _delivery_apply(step: Step[Delivery]) -> None:
    locked, to, changes = step.instance, step.to, step.changes
    # The delivery's dashboard cells before the move.
    step.context["summary"] = summaries.delivery_cells(locked, status=step.before)
    contract = locked.contract
    if to == DeliveryStatus.REJECTED:
        locked.rejection_reason = step.data["rejection_reason"]
        contract.delivered_kg = max(contract.delivered_kg - locked.weight_kg, Decimal("0"))
        changes["rejection_reason"] = locked.rejection_reason
    elif to == DeliveryStatus.ACCEPTED:
        contract.accepted_kg += locked.weight_kg
        contract.accepted_value_pen += locked.amount_pen
        actor = cast(Actor, step.actor)
        if locked.confirmed_at is None and policies.vouches_for_deliveries(actor):
            # Programme people accepting a buyer's delivery confirm it by doing so.
            for name, value in _confirmation(actor, timezone.now()).items():
                setattr(locked, name, value)
            changes["confirmed"] = True
    elif to == DeliveryStatus.PAID:
        paid_amount_pen = step.data.get("paid_amount_pen")
        paid = (
            locked.amount_pen
            if paid_amount_pen is None
            else clean_decimal(paid_amount_pen, "paid_amount_pen").quantize(CENTIMO, ROUND_HALF_UP)
        )
        if paid > locked.amount_pen:
            raise field_error(
                "paid_amount_pen",
                _("The payment cannot exceed the delivery's amount of %(amount)s PEN.")
                % {"amount": locked.amount_pen},
                "above_amount",
            )
        reference = step.data["payment_reference"]
        locked.payment_reference = reference[:60]
        locked.paid_on = step.data["paid_on"]
        locked.paid_amount_pen = paid
        changes.update(
            {
                "payment_reference": reference,
                "paid_on": str(locked.paid_on),
                "paid_amount_pen": str(paid),
            }
        )
    note = step.data.get("note", "").strip()
    if note:
        locked.note = note
        changes["note"] = locked.note


def _delivery_after(step: Step[Delivery]) -> None:
    step.instance.contract.save(update_fields=["delivered_kg", "accepted_kg", "accepted_value_pen"])
    # The dashboard's sales cells, in the move's transaction.
    summaries.changed(summaries.delivery_cells(step.instance), step.context["summary"])


def _delivery_enqueue(step: Step[Delivery]) -> None:
    if step.to in ACCEPTED_DELIVERY_STATES and step.instance.confirmed_at is not None:
        recompute_on_commit([step.instance.household_id])


DELIVERY_FLOW: Flow[Delivery] = Flow(
    machine=DELIVERY_MACHINE,
    lock=_delivery_lock,
    parties=lambda step: policies.contract_parties(
        cast(Actor, step.actor), step.instance.contract, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not change deliveries."), code="missing_scope"
    ),
    fields={
        "rejection_reason": _need_rejection_reason,
        "payment_reference": _need_payment_reference,
        "paid_on": _need_paid_on,
    },
    apply=_delivery_apply,
    after=_delivery_after,
    enqueue=_delivery_enqueue,
    version_first=True,
    event=WebhookEventType.DELIVERY_STATUS_CHANGED,
)


def delivery_transition(
    *,
    actor: Actor,
    delivery: Delivery,
    to: str,
    rejection_reason: str = "",
    note: str = "",
    payment_reference: str = "",
    paid_on: date | None = None,
    paid_amount_pen: Any = None,
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> Delivery:
    """Accept or reject a recorded delivery (quality check), or record its payment
    (``workflow.DELIVERY_MACHINE``: its ``requires`` name the fields each move checks)."""
    return transition(
        DELIVERY_FLOW,
        actor=actor,
        record=delivery,
        to=to,
        data={
            "rejection_reason": rejection_reason,
            "note": note,
            "payment_reference": payment_reference,
            "paid_on": paid_on,
            "paid_amount_pen": paid_amount_pen,
        },
        expected_version=expected_version,
        channel=channel,
        today=today,
    )


def _confirmation(actor: Actor, now: Any) -> dict[str, Any]:
    """The confirmation fields a write by ``actor`` sets: programme people (any non-buyer with
    the right to write the contract) vouch for a delivery; a buyer's key never does."""
    if not policies.vouches_for_deliveries(actor):
        return {}
    return {"confirmed_at": now, "confirmed_by": actor.user, "confirmed_by_key": actor.api_key}


@transaction.atomic
def delivery_confirm(
    *,
    actor: Actor,
    delivery: Delivery,
    expected_version: int | None = None,
    channel: str = "api",
) -> Delivery:
    """The programme confirms a delivery a buyer recorded and accepted: only then is it evidence
    of a market link for the transition engine (a buyer cannot manufacture one by accepting its
    own deliveries). Programme staff, or an implementer's key, whose area covers the household;
    never a buyer. The delivery must be accepted or paid; confirming twice changes nothing."""
    locked = _delivery_lock(actor, delivery)
    check_version(locked, expected_version)
    policies.require_delivery(actor, locked, "confirm")
    if locked.confirmed_at is not None:
        return locked
    if locked.status not in ACCEPTED_DELIVERY_STATES:
        raise Conflict(
            _("Only an accepted or paid delivery can be confirmed (this one is %(s)s).")
            % {"s": locked.get_status_display()},
            code="delivery_not_accepted",
            attr="status",
        )
    now = timezone.now()
    confirmation = _confirmation(actor, now)
    for name, value in confirmation.items():
        setattr(locked, name, value)
    locked.touch(*confirmation)
    change_record(
        instance=locked,
        action=ChangeAction.TRANSITION,
        actor=actor,
        changes={"confirmed_at": [None, now.isoformat()]},
        channel=channel,
    )
    recompute_on_commit([locked.household_id])
    return locked
