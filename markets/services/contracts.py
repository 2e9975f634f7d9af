"""Contracts: recording a draft contract (idempotent on its ``id``) and moving it through its
workflow (``workflow.CONTRACT_MACHINE`` through the kernel's ``registry.workflow``), with its
status ledger; moves that change a family's market evidence queue a stage recompute."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.choices import Crop, HouseholdStatus
from farmers.models import Household
from farmers.services import suspension_check
from farmers.services.enrolment import require_not_before_enrolment
from farmers.transition import recompute_on_commit
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind, Scope, WebhookEventType
from registry.cleaning import clean_choice
from registry.exceptions import Conflict, NotFound, PermissionDenied
from registry.funding import funder_resolve
from registry.history import change_record
from registry.idempotency import replayed, replays_lost_race, request_hash
from registry.models import Organization, Program
from registry.services import field_error
from registry.workflow import Flow, Step, transition

from .. import policies, summaries
from ..choices import Certification, ContractStatus, PriceRule, PriceUnit, forms_for_crop
from ..models import Contract, ContractStatusChange, DeliverySchedule
from ..workflow import CONTRACT_MACHINE, NOT_SUSPENDED, SEASON_OPEN
from .amounts import MAX_SCHEDULE, MAX_SEASON_DAYS, kilograms, per_kg, per_kg_display, unit_price
from .offers import offer_ensure
from .organisations import member_on, producer_organization


def _clean_schedule(
    schedule: Iterable[dict[str, Any]], season_start: date, season_end: date
) -> list[tuple[date, Decimal]]:
    rows = list(schedule)
    if len(rows) > MAX_SCHEDULE:
        raise field_error(
            "schedule",
            _("At most %(max)s scheduled deliveries.") % {"max": MAX_SCHEDULE},
            "max_length",
        )
    errors: dict[str, list[ValidationError]] = {}
    cleaned: list[tuple[date, Decimal]] = []
    seen: set[date] = set()
    for index, row in enumerate(rows):
        due_on = row.get("due_on")
        if not isinstance(due_on, date) or not season_start <= due_on <= season_end:
            errors.setdefault(f"schedule.{index}.due_on", []).append(
                ValidationError(_("The date must fall within the season."), code="outside_season")
            )
            continue
        if due_on in seen:
            errors.setdefault(f"schedule.{index}.due_on", []).append(
                ValidationError(_("Two scheduled deliveries on the same day."), code="duplicate")
            )
            continue
        seen.add(due_on)
        try:
            expected = kilograms(kg=row.get("expected_kg"), qq=None, attr="expected")
        except ValidationError as exc:
            errors.setdefault(f"schedule.{index}.expected_kg", []).extend(
                e for errs in exc.error_dict.values() for e in errs
            )
            continue
        cleaned.append((due_on, expected))
    if errors:
        raise ValidationError(errors)
    return sorted(cleaned)


def _record_status(
    contract: Contract, actor: Actor | None, before: str, to: str, reason: str
) -> None:
    ContractStatusChange.objects.create(
        contract=contract,
        from_status=before,
        to_status=to,
        reason=reason,
        **(actor.stamp() if actor is not None else {}),
    )


def _contract_prices(
    rule: str, price: tuple[Decimal, str] | None, floor: tuple[Decimal, str] | None
) -> tuple[Decimal | None, Decimal | None, str]:
    """The contract's price and floor in their common unit: a fixed-price contract needs its
    price, a reference-price one its floor; the floor is never above the price."""
    if rule == PriceRule.FIXED and price is None:
        raise field_error(
            "price_pen_per_kg", _("A fixed-price contract needs its price."), "required"
        )
    if rule == PriceRule.REFERENCE and floor is None:
        raise field_error(
            "price_floor_pen_per_kg",
            _("A reference-price contract needs its floor price."),
            "required",
        )
    if price is not None and floor is not None:
        if price[1] != floor[1]:
            raise field_error(
                "price_floor_pen_per_kg",
                _("Give the price and the floor in the same unit (per kg or per quintal)."),
                "price_unit_mismatch",
            )
        if floor[0] > price[0]:
            attr = "price_floor_pen_per_kg" if rule == PriceRule.FIXED else "price_pen_per_kg"
            raise field_error(
                attr,
                _("The floor cannot be above the contract price.")
                if rule == PriceRule.FIXED
                else _("The price cannot be below the floor."),
                "floor_above_price" if rule == PriceRule.FIXED else "price_below_floor",
            )
    unit = (price or floor or (Decimal("0"), PriceUnit.KG))[1]
    return (
        None if price is None else price[0],
        None if floor is None else floor[0],
        unit,
    )


def contract_reference_price(contract: Contract) -> Decimal | None:
    """The exact per-kg price a delivery should not go below: the fixed price, else the floor."""
    given = contract.price_pen if contract.price_rule == PriceRule.FIXED else None
    given = given if given is not None else contract.price_floor_pen
    return None if given is None else per_kg(given, contract.price_unit)


@replays_lost_race(Contract)
@transaction.atomic
def contract_create(
    *,
    actor: Actor,
    household: Any = None,
    seller_organization: str | None = None,
    program: str | None = None,
    buyer: str,
    crop: str,
    product_form: str,
    season_start: date,
    season_end: date,
    volume_kg: Any = None,
    volume_qq: Any = None,
    price_rule: str = PriceRule.FIXED,
    price_pen_per_kg: Any = None,
    price_floor_pen_per_kg: Any = None,
    price_pen_per_qq: Any = None,
    price_floor_pen_per_qq: Any = None,
    reference_price_note: str = "",
    quality_terms: str = "",
    certification: str = Certification.NONE,
    schedule: Iterable[dict[str, Any]] = (),
    override_reason: str = "",
    funding_source: str | None = None,
    id: Any = None,
    channel: str = "api",
) -> tuple[Contract, bool]:
    """Record a draft contract between a seller and a buyer. Idempotent on ``id``.
    ``funding_source``: the funder organization of the programme's support to it.

    The seller is a household or (``seller_organization``, a code) a producer organisation
    selling its members' produce: exactly one (``seller_required`` / ``one_seller``). An
    organisation's contract is scoped to the organisation's district and ``program`` (a code;
    default the organisation's only assigned programme). The buyer is a buyer, or a producer
    organisation buying from a household that is its open member (``not_a_member``).
    A buyer's (or producer organisation's) key records contracts for itself only; programme
    people in their area. The household must be active (reviewed); the product form must suit
    the crop; a
    fixed-price contract needs its price, a reference-price one its floor, each per kg or per
    quintal of 46 kg (both in the same unit; kept as given). A relapsed or
    excluded household is suspended (409 ``household_suspended``) unless programme staff give
    an ``override_reason`` (kept on the contract and in the change record).
    """
    schedule = list(schedule)
    payload = {
        "household": str(household),
        **({"seller_organization": seller_organization} if seller_organization else {}),
        **({"program": program} if program else {}),
        "buyer": buyer,
        "crop": crop,
        "product_form": product_form,
        "season": [season_start, season_end],
        "volume": [str(volume_kg), str(volume_qq)],
        "price": [price_rule, str(price_pen_per_kg), str(price_floor_pen_per_kg)],
        **(
            {"price_qq": [str(price_pen_per_qq), str(price_floor_pen_per_qq)]}
            if price_pen_per_qq is not None or price_floor_pen_per_qq is not None
            else {}
        ),
        "terms": [reference_price_note, quality_terms, certification],
        "schedule": [[str(r.get("due_on")), str(r.get("expected_kg"))] for r in schedule],
        **({"funding_source": funding_source} if funding_source else {}),
    }
    digest = request_hash(payload)
    existing = replayed(
        Contract, id, digest, may_see=lambda c: policies.contract_can(actor, c, "write")
    )
    if existing is not None:
        return existing, False
    policies.require_contract_create(actor)

    own = policies.buyer_of(actor)
    buyer_org = Organization.objects.filter(
        code=buyer, kind__in=policies.TRADING_KINDS, is_active=True
    ).first()
    if buyer_org is None:
        raise field_error("buyer", _("Unknown buyer code."), "does_not_exist")
    if (household is None) == (not seller_organization):
        raise field_error(
            "household",
            _("Give the seller: a household or a producer organisation (one of them).")
            if household is None
            else _("A contract has one seller: a household or a producer organisation."),
            "seller_required" if household is None else "one_seller",
        )
    owner: Household | None = None
    seller_org: Organization | None = None
    override = ""
    if seller_organization:
        seller_org = producer_organization(seller_organization, "seller_organization")
        if seller_org.pk == buyer_org.pk:
            raise field_error(
                "buyer", _("An organisation cannot sell to itself."), "same_organization"
            )
        if own is not None and own.pk not in (buyer_org.pk, seller_org.pk):
            raise field_error(
                "buyer",
                _("You can record contracts only for your own organization."),
                "not_own_buyer",
            )
        district_id, program_id = _organization_scope(actor, seller_org, program, own)
    else:
        if own is not None and buyer_org.pk != own.pk:
            raise field_error(
                "buyer",
                _("You can record contracts only for your own organization."),
                "not_own_buyer",
            )
        owner = policies.contract_household(actor, household)
        if owner is None:
            raise field_error("household", _("Unknown household."), "does_not_exist")
        if owner.status != HouseholdStatus.ACTIVE:
            raise field_error(
                "household",
                _("Contracts can be made only with households whose registration was approved."),
                "household_not_active",
            )
        if buyer_org.kind == OrganizationKind.PRODUCER_ORG and not member_on(
            buyer_org.pk, owner.pk, timezone.localdate()
        ):
            raise field_error(
                "household",
                _("A producer organisation buys only from its members."),
                "not_a_member",
            )
        override = suspension_check(actor, owner, override_reason, attr="household")
        district_id, program_id = owner.district_id, owner.program_id
    crop = clean_choice(crop, Crop, "crop")
    allowed_forms = forms_for_crop(crop)
    if product_form not in allowed_forms:
        raise field_error(
            "product_form",
            _("For this crop use one of: %(valid)s.") % {"valid": ", ".join(allowed_forms)},
            "invalid_product_form",
        )
    if season_end < season_start:
        raise field_error(
            "season_end", _("The season cannot end before it starts."), "season_order"
        )
    if (season_end - season_start).days > MAX_SEASON_DAYS:
        raise field_error("season_end", _("A season lasts at most two years."), "season_too_long")
    volume = kilograms(kg=volume_kg, qq=volume_qq, attr="volume")
    price_rule = clean_choice(price_rule, PriceRule, "price_rule")
    certification = clean_choice(certification, Certification, "certification")
    funder = funder_resolve(funding_source)
    price, floor, unit = _contract_prices(
        price_rule,
        unit_price(kg=price_pen_per_kg, qq=price_pen_per_qq, attr="price"),
        unit_price(kg=price_floor_pen_per_kg, qq=price_floor_pen_per_qq, attr="price_floor"),
    )
    rows = _clean_schedule(schedule, season_start, season_end)
    now = timezone.now()
    contract = Contract(
        household=owner,
        seller_organization=seller_org,
        buyer=buyer_org,
        district_id=district_id,
        program_id=program_id,
        crop=crop,
        product_form=product_form,
        season_start=season_start,
        season_end=season_end,
        volume_kg=volume,
        price_rule=price_rule,
        price_unit=unit,
        price_pen=price,
        price_floor_pen=floor,
        price_pen_per_kg=None if price is None else per_kg_display(price, unit),
        price_floor_pen_per_kg=None if floor is None else per_kg_display(floor, unit),
        reference_price_note=reference_price_note.strip()[:200],
        quality_terms=quality_terms.strip(),
        certification=certification,
        funding_source=funder,
        suspension_override=override,
        **actor.stamp(),
        request_hash=digest,
        created_at=now,
        updated_at=now,
        **({"id": id} if id is not None else {}),
    )
    contract.full_clean(
        exclude=["household", "seller_organization", "buyer", "district", "program"]
    )
    contract.save(force_insert=True)
    # The dashboard's contract cells, in this transaction (a draft counts nowhere yet).
    summaries.changed(summaries.contract_cells(contract), {})
    DeliverySchedule.objects.bulk_create(
        [DeliverySchedule(contract=contract, due_on=d, expected_kg=kg) for d, kg in rows]
    )
    _record_status(contract, actor, "", ContractStatus.DRAFT, "")
    if own is None and owner is not None and buyer_org.kind == OrganizationKind.BUYER:
        # Programme people who sign a family with a buyer link them: the buyer may then see and
        # propose contracts to that family (as with an offer made in the admin).
        offer_ensure(actor=actor, household=owner, buyer=buyer_org, channel=channel)
    change_record(
        instance=contract,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            **({"household": owner.code} if owner is not None else {}),
            **({"seller_organization": seller_org.code} if seller_org is not None else {}),
            "buyer": buyer_org.code,
            "crop": crop,
            "product_form": product_form,
            "volume_kg": str(volume),
            "price_rule": price_rule,
            "price_unit": unit,
            "price_pen": None if price is None else str(price),
            "price_floor_pen": None if floor is None else str(floor),
            **({"override_reason": override} if override else {}),
        },
        channel=channel,
    )
    return contract, True


def _organization_scope(
    actor: Actor, seller: Organization, program: str | None, own: Organization | None
) -> tuple[str, int]:
    """The district and programme an organisation's contract is scoped to: the organisation's
    address district and ``program`` (default its only assigned programme); programme people
    must cover them (else the organisation is unknown to them)."""
    if seller.district_id is None:
        raise field_error(
            "seller_organization",
            _("Record the organisation's district first."),
            "organization_without_district",
        )
    programs = seller.programs.all()
    if program:
        chosen = Program.objects.filter(code=program).first()
        if chosen is None:
            raise field_error("program", _("Unknown programme."), "does_not_exist")
    else:
        assigned = list(programs[:2])
        if len(assigned) != 1:
            raise field_error(
                "program",
                _("Give the programme: the organisation is not assigned exactly one."),
                "required",
            )
        chosen = assigned[0]
    if own is None and not actor.covers(
        district=seller.district_id, program=chosen.pk, scope=Scope.CONTRACTS_WRITE
    ):
        raise field_error(
            "seller_organization", _("Unknown producer organisation."), "does_not_exist"
        )
    return seller.district_id, chosen.pk


def contract_lock(actor: Actor, contract_id: Any) -> Contract:
    """Lock a contract the actor can see, or 404."""
    contract = (
        Contract.objects.select_for_update()
        .filter(policies.contract_q(actor))
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise NotFound()
    return contract


def _contract_season_open(step: Step[Contract]) -> None:
    if step.instance.season_end < step.today:
        raise Conflict(
            _("The season of this contract is over: it cannot start."),
            code="season_over",
            attr="to",
        )


def _contract_not_suspended(step: Step[Contract]) -> None:
    if step.instance.household_id is None:  # an organisation's: its members are checked
        return
    override = suspension_check(
        step.actor,
        Household.objects.get(pk=step.instance.household_id),
        step.data.get("override_reason", ""),
        attr="to",
    )
    if override:
        step.instance.suspension_override = override
        step.changes["override_reason"] = override


def _signature_day(step: Step[Contract]) -> date:
    """The day the draft was signed: given (not in the future, nor before the family's
    enrolment; the season is still open, the workflow's guard says), or today."""
    signed_on = step.data.get("signed_on")
    if signed_on is None:
        return step.today
    if signed_on > step.today:
        raise field_error("signed_on", _("The date cannot be in the future."), "future_date")
    if step.instance.household_id is None:
        return signed_on
    require_not_before_enrolment(
        Household.objects.get(pk=step.instance.household_id), signed_on, "signed_on"
    )
    return signed_on


def _contract_apply(step: Step[Contract]) -> None:
    contract, reason = step.instance, step.data.get("reason", "")
    # The contract's dashboard cells before the move.
    step.context["summary"] = summaries.contract_cells(contract, status=step.before)
    signing = step.to == ContractStatus.ACTIVE and step.before == ContractStatus.DRAFT
    if step.data.get("signed_on") is not None and not signing:
        raise field_error(
            "signed_on", _("A signature date is given only when signing a draft."), "not_signing"
        )
    if signing:
        contract.activated_on = step.today
        contract.signed_on = _signature_day(step)
        step.changes["signed_on"] = contract.signed_on.isoformat()
    if step.to in (ContractStatus.COMPLETED, ContractStatus.CANCELLED, ContractStatus.TERMINATED):
        contract.closed_on = step.today
    contract.status_reason = reason
    if reason:
        step.changes["reason"] = reason


def _contract_after(step: Step[Contract]) -> None:
    # The dashboard's contract cells, in the move's transaction.
    summaries.changed(summaries.contract_cells(step.instance), step.context["summary"])


def _contract_enqueue(step: Step[Contract]) -> None:
    if step.instance.household_id is None:
        return  # an organisation's contract: its members' deliveries queue their recomputes
    if step.to in (ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED) or (
        step.before == ContractStatus.ACTIVE
    ):
        recompute_on_commit([step.instance.household_id])


def _need_reason(step: Step[Any]) -> None:
    if not step.data.get("reason"):
        raise field_error("reason", _("Give the reason."), "required")


CONTRACT_FLOW: Flow[Contract] = Flow(
    machine=CONTRACT_MACHINE,
    lock=lambda actor, contract: contract_lock(
        actor, contract.pk if isinstance(contract, Contract) else contract
    ),
    parties=lambda step: policies.contract_parties(
        cast(Actor, step.actor), step.instance, step.move.scope
    ),
    denied=lambda step: PermissionDenied(
        _("Your role may not change contracts."), code="missing_scope"
    ),
    fields={"reason": _need_reason},
    guards={SEASON_OPEN: _contract_season_open, NOT_SUSPENDED: _contract_not_suspended},
    apply=_contract_apply,
    history=lambda step: _record_status(
        step.instance, step.actor, step.before, step.to, step.data.get("reason", "")
    ),
    after=_contract_after,
    enqueue=_contract_enqueue,
    version_first=True,
    event=WebhookEventType.CONTRACT_STATUS_CHANGED,
)


def contract_transition(
    *,
    actor: Actor,
    contract: Contract,
    to: str,
    reason: str = "",
    override_reason: str = "",
    signed_on: date | None = None,
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> Contract:
    """Move a contract through its workflow (DESIGN.md §5, ``workflow.CONTRACT_MACHINE``, through
    the kernel's ``registry.workflow.transition``), with its status ledger. Signing a draft for
    a relapsed or excluded household needs programme staff's ``override_reason``; signing
    records ``signed_on`` (today unless given: a paper contract signed earlier), and no delivery
    may precede it."""
    return transition(
        CONTRACT_FLOW,
        actor=actor,
        record=contract,
        to=to,
        data={
            "reason": reason.strip(),
            "override_reason": override_reason,
            "signed_on": signed_on,
        },
        expected_version=expected_version,
        channel=channel,
        today=today,
    )
