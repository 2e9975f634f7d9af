"""Writes of the markets app: buyers, contracts and their workflow, deliveries and payments,
yield norms. Every write checks who may make it, runs in a transaction and leaves history in it;
changes to a family's market evidence queue a stage recompute after the commit."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from farmers.choices import Crop, HouseholdStatus
from farmers.identity import normalize_phone
from farmers.models import Household
from farmers.transition import recompute_on_commit
from registry import policies
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind, Scope
from registry.exceptions import Conflict, NotFound, PermissionDenied
from registry.history import change_record, diff, snapshot
from registry.idempotency import replays_lost_race
from registry.models import District, Organization
from registry.services import check_version, field_error, organization_upsert
from registry.validators import validate_ruc
from registry.workflow import Flow, Step, transition

from .choices import (
    KG_PER_QUINTAL,
    Certification,
    ContractStatus,
    DeliveryStatus,
    PriceRule,
    QualityGrade,
    RejectionReason,
    forms_for_crop,
)
from .models import (
    BuyerOffer,
    BuyerProfile,
    Contract,
    ContractStatusChange,
    Delivery,
    DeliverySchedule,
    YieldNorm,
)
from .policies import households_offered_to
from .workflow import (
    ACCEPTED_DELIVERY_STATES,
    BUYER,
    CONTRACT_MACHINE,
    DELIVERY_MACHINE,
    PROGRAMME,
    SEASON_OPEN,
)

CENTIMO = Decimal("0.01")
MAX_KG = Decimal("9999999999.99")
MAX_PRICE = Decimal("99999999.99")
MAX_SCHEDULE = 52
# The longest season a contract may cover (a perennial crop's campaign, with margin).
MAX_SEASON_DAYS = 731


# --- money and weights -------------------------------------------------------------------------


def amount_for(weight_kg: Decimal, price_pen_per_kg: Decimal) -> Decimal:
    """What a delivery is worth: kilograms × price, rounded half-up to the céntimo (PEN)."""
    return (Decimal(weight_kg) * Decimal(price_pen_per_kg)).quantize(CENTIMO, ROUND_HALF_UP)


def kilograms(*, kg: Any, qq: Any, attr: str) -> Decimal:
    """A weight given in kilograms or in quintales of 46 kg (coffee), as kilograms (2 places).

    Exactly one of the two must be given; the quintales are converted, never stored.
    """
    if (kg is None) == (qq is None):
        raise field_error(
            f"{attr}_kg",
            _("Give the weight either in kilograms or in quintales (46 kg), not both."),
            "required" if kg is None else "invalid",
        )
    value = _decimal(kg if kg is not None else qq, f"{attr}_kg" if kg is not None else f"{attr}_qq")
    if qq is not None:
        value = value * KG_PER_QUINTAL
    value = value.quantize(CENTIMO, ROUND_HALF_UP)
    if value <= 0:
        raise field_error(
            f"{attr}_kg" if kg is not None else f"{attr}_qq",
            _("Enter a weight above zero."),
            "min_value",
        )
    if value > MAX_KG:
        raise field_error(f"{attr}_kg", _("The weight is too large."), "max_value")
    return value


def _decimal(value: Any, attr: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (ArithmeticError, ValueError, InvalidOperation) as exc:
        raise field_error(attr, _("Enter a number."), "invalid") from exc
    if not number.is_finite() or number < 0:
        raise field_error(attr, _("Enter a number of zero or more."), "min_value")
    return number


def _price(value: Any, attr: str) -> Decimal:
    price = _decimal(value, attr).quantize(CENTIMO, ROUND_HALF_UP)
    if price <= 0:
        raise field_error(attr, _("Enter a price above zero."), "min_value")
    if price > MAX_PRICE:
        raise field_error(attr, _("The price is too large."), "max_value")
    return price


def _choice(value: Any, choices: Any, attr: str) -> str:
    if value not in choices.values:
        raise field_error(
            attr,
            _("Unknown value “%(value)s”. Use one of: %(valid)s.")
            % {"value": value, "valid": ", ".join(choices.values)},
            "invalid_choice",
        )
    return str(value)


def request_hash(payload: dict[str, Any]) -> str:
    """A stable hash of a create request, to tell a retry from a different reuse of an ``id``."""
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


# --- who may ----------------------------------------------------------------------------------


def buyer_of(actor: Actor) -> Organization | None:
    """The buyer organization behind a buyer's API key (``None`` for everybody else)."""
    organization = actor.organization
    if organization is not None and organization.kind == OrganizationKind.BUYER:
        return organization
    return None


def contract_parties(
    actor: Actor, contract: Contract, scope: str = Scope.CONTRACTS_WRITE
) -> set[str]:
    """The workflow parties ``actor`` holds on ``contract`` with ``scope``: ``buyer`` (the
    contract's own buyer's key) or ``programme`` (anyone else whose area covers it)."""
    if not actor.has_scope(scope):
        return set()
    buyer = buyer_of(actor)
    if buyer is not None:
        return {BUYER} if contract.buyer_id == buyer.pk else set()
    if actor.covers(district=contract.district_id, program=contract.program_id, scope=scope):
        return {PROGRAMME}
    return set()


def may_write_contract(actor: Actor, contract: Contract) -> bool:
    """The contract's own buyer, or programme people with contracts:write in its area."""
    return bool(contract_parties(actor, contract))


def contract_scope_q(actor: Actor, prefix: str = "") -> Q:
    """Contracts (or, with ``prefix``, rows pointing at them) the actor may see: a buyer's key
    its own contracts only, everyone else those in their area."""
    buyer = buyer_of(actor)
    if buyer is not None:
        if not actor.has_scope(Scope.CONTRACTS_READ):
            return Q(pk__in=[])
        return Q(**{f"{prefix}buyer_id": buyer.pk})
    return actor.area_q(
        district_path=f"{prefix}district_id",
        program_path=f"{prefix}program_id",
        scope=Scope.CONTRACTS_READ,
    )


# --- buyers -----------------------------------------------------------------------------------


def _buyer_view(organization: Organization, profile: BuyerProfile | None) -> dict[str, Any]:
    return {
        "name": organization.name,
        "ruc": organization.ruc,
        "district": organization.district_id or "",
        "contact_name": profile.contact_name if profile else "",
        "phone": profile.phone if profile else "",
        "email": profile.email if profile else "",
    }


@transaction.atomic
def buyer_register(
    *,
    actor: Actor | None,
    code: str,
    name: str,
    ruc: str,
    district: str | None = None,
    contact_name: str = "",
    phone: str = "",
    email: str = "",
    channel: str = "api",
) -> tuple[Organization, bool]:
    """Register a buyer (an organization of kind buyer with a valid RUC) and its contact details.

    Idempotent on ``code``: the same code with the same details returns the buyer (``created`` is
    False); other details for an existing code, or a code taken by another kind of organization,
    are a 409. A buyer's own key may register only its own organization.
    """
    own = buyer_of(actor) if actor is not None else None
    if own is not None and own.code != code:
        raise PermissionDenied(
            _("A buyer's key may only register its own organization."), code="not_own_buyer"
        )
    errors: dict[str, list[ValidationError]] = {}
    ruc = (ruc or "").strip()
    if not ruc:
        errors["ruc"] = [ValidationError(_("A buyer needs its RUC."), code="required")]
    else:
        try:
            validate_ruc(ruc)
        except ValidationError as exc:
            errors["ruc"] = exc.error_list
    district_obj = None
    if district:
        district_obj = District.objects.filter(ubigeo=district).first()
        if district_obj is None:
            errors["district"] = [
                ValidationError(_("Unknown district ubigeo."), code="unknown_district")
            ]
    clean_phone = ""
    if phone:
        try:
            clean_phone = normalize_phone(phone)
        except ValidationError as exc:
            errors["phone"] = exc.error_list
    if errors:
        raise ValidationError(errors)
    wanted = {
        "name": " ".join(name.split()),
        "ruc": ruc,
        "district": district or "",
        "contact_name": " ".join(contact_name.split()),
        "phone": clean_phone,
        "email": email.strip().lower(),
    }
    existing = Organization.objects.select_for_update().filter(code=code).first()
    if existing is not None:
        if existing.kind != OrganizationKind.BUYER:
            raise Conflict(
                _("This code belongs to an organization that is not a buyer."),
                code="not_a_buyer",
                attr="code",
            )
        profile = BuyerProfile.objects.filter(organization=existing).first()
        if _buyer_view(existing, profile) == wanted:
            return existing, False
        raise Conflict(
            _("A buyer with this code is already registered with other details."),
            code="idempotency_conflict",
            attr="code",
        )
    organization, _created = organization_upsert(
        code=code,
        kind=OrganizationKind.BUYER,
        name=wanted["name"],
        ruc=ruc,
        actor=actor,
        channel=channel,
    )
    if district_obj is not None:
        organization.district = district_obj
        organization.save(update_fields=["district", "updated_at"])
    profile = BuyerProfile(
        organization=organization,
        contact_name=wanted["contact_name"],
        phone=clean_phone,
        email=wanted["email"],
    )
    profile.full_clean()
    profile.save()
    change_record(
        instance=profile,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={k: v for k, v in wanted.items() if k in {"district", "contact_name"}},
        channel=channel,
    )
    return organization, True


@transaction.atomic
def buyer_profile_update(
    *,
    actor: Actor | None,
    organization: Organization,
    contact_name: str,
    phone: str,
    email: str,
    channel: str = "admin",
) -> BuyerProfile:
    """Set a buyer's contact details (creating its profile if it has none); the caller must be
    allowed to manage the buyer (``registry.policies.can_manage_buyer``)."""
    if organization.kind != OrganizationKind.BUYER:
        raise field_error("organization", _("This organization is not a buyer."), "not_a_buyer")
    from .selectors import buyer_program_ids

    if not policies.can_manage_buyer(actor, organization, buyer_program_ids(organization)):
        raise PermissionDenied(_("You may not change this buyer's details."), code="not_your_buyer")
    profile, created = BuyerProfile.objects.select_for_update().get_or_create(
        organization=organization
    )
    before = snapshot(profile)
    profile.contact_name = " ".join(contact_name.split())
    try:
        profile.phone = normalize_phone(phone) if phone else ""
    except ValidationError as exc:
        raise ValidationError({"phone": exc.error_list}) from exc
    profile.email = email.strip().lower()
    profile.full_clean()
    changes = diff(before, snapshot(profile))
    if changes or created:
        if not created:
            profile.version += 1
        profile.save()
        change_record(
            instance=profile,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return profile


# --- offers: the programme links a household to a buyer ----------------------------------------

# Organizations whose keys may offer households to buyers (in their area); people need the
# programme-staff role (``contracts:write``) there.
OFFERING_KINDS = frozenset({OrganizationKind.PROGRAM_AGENCY, OrganizationKind.IMPLEMENTER})


def may_offer(actor: Actor, household: Household) -> bool:
    """Programme staff, or an implementer's or programme agency's key, whose area covers the
    household, with ``contracts:write``. Never a buyer."""
    if buyer_of(actor) is not None:
        return False
    organization = actor.organization
    if organization is not None and organization.kind not in OFFERING_KINDS:
        return False
    return actor.covers(
        district=household.district_id, program=household.program_id, scope=Scope.CONTRACTS_WRITE
    )


def _offer_ensure(
    *, actor: Actor | None, household: Household, buyer: Organization, channel: str
) -> tuple[BuyerOffer, bool]:
    """The live offer of ``household`` to ``buyer``, made now if there is none (no checks)."""
    live = (
        BuyerOffer.objects.select_for_update()
        .filter(household=household, buyer=buyer, withdrawn_at__isnull=True)
        .first()
    )
    if live is not None:
        return live, False
    offer = BuyerOffer.objects.create(
        household=household,
        buyer=buyer,
        district_id=household.district_id,
        program_id=household.program_id,
        offered_by=actor.user if actor is not None else None,
        offered_by_key=actor.api_key if actor is not None else None,
    )
    change_record(
        instance=offer,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={"household": household.code, "buyer": buyer.code},
        channel=channel,
    )
    return offer, True


@transaction.atomic
def offer_create(
    *,
    actor: Actor,
    household: Any,
    buyer: str | Organization,
    note: str = "",
    channel: str = "api",
) -> tuple[BuyerOffer, bool]:
    """Offer a household to a buyer: the buyer may then see the family (code, district) and
    propose contracts to it. Idempotent: a live offer already there is returned (``created``
    False). Programme staff and implementers in their area only; the household must be active."""
    if isinstance(buyer, Organization):
        buyer_org: Organization | None = buyer
    else:
        buyer_org = Organization.objects.filter(code=buyer).first()
    if buyer_org is None or buyer_org.kind != OrganizationKind.BUYER or not buyer_org.is_active:
        raise field_error("buyer", _("Unknown buyer code."), "does_not_exist")
    owner = household if isinstance(household, Household) else None
    if owner is None:
        owner = Household.objects.filter(pk=household).first()
    if owner is None or not actor.covers(district=owner.district_id, program=owner.program_id):
        # Outside the actor's area a household is unknown (the same answer as a wrong id).
        raise field_error("household", _("Unknown household."), "does_not_exist")
    if not may_offer(actor, owner):
        raise PermissionDenied(
            _("Only programme staff and implementers may offer households to buyers."),
            code="missing_scope",
        )
    if owner.status != HouseholdStatus.ACTIVE:
        raise field_error(
            "household",
            _("Only households whose registration was approved can be offered to buyers."),
            "household_not_active",
        )
    offer, created = _offer_ensure(actor=actor, household=owner, buyer=buyer_org, channel=channel)
    if created and note.strip():
        offer.note = note.strip()[:300]
        offer.save(update_fields=["note"])
    return offer, created


@transaction.atomic
def offer_withdraw(
    *, actor: Actor, offer: BuyerOffer, reason: str = "", channel: str = "api"
) -> BuyerOffer:
    """Withdraw an offer: the buyer can no longer propose contracts to the family nor see it in
    its offers (its existing contracts stay its own). Withdrawing twice changes nothing."""
    locked = BuyerOffer.objects.select_for_update().select_related("household").get(pk=offer.pk)
    if not may_offer(actor, locked.household):
        raise PermissionDenied(
            _("Only programme staff and implementers may withdraw offers."), code="missing_scope"
        )
    if locked.withdrawn_at is not None:
        return locked
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_by = actor.user
    locked.withdrawn_by_key = actor.api_key
    locked.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_by_key"])
    change_record(
        instance=locked,
        action=ChangeAction.UPDATE,
        actor=actor,
        changes={"withdrawn_at": [None, locked.withdrawn_at.isoformat()], "reason": reason.strip()},
        channel=channel,
    )
    return locked


# --- contracts --------------------------------------------------------------------------------


def _replayed(model: Any, id: Any, digest: str, actor: Actor) -> Any:
    """The record a retried create already made (same ``id``, same payload), or ``None``; the
    same ``id`` with another payload, or on a record the actor may not write, is a 409."""
    if id is None:
        return None
    existing = model.objects.filter(pk=id).first()
    if existing is None:
        return None
    contract = existing if isinstance(existing, Contract) else existing.contract
    if existing.request_hash == digest and may_write_contract(actor, contract):
        return existing
    raise Conflict(
        _("This id was already used for a different %(record)s.")
        % {"record": model._meta.verbose_name},
        code="idempotency_conflict",
        attr="id",
    )


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
        actor_user=actor.user if actor is not None else None,
        actor_api_key=actor.api_key if actor is not None else None,
    )


@replays_lost_race(Contract)
@transaction.atomic
def contract_create(
    *,
    actor: Actor,
    household: Any,
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
    reference_price_note: str = "",
    quality_terms: str = "",
    certification: str = Certification.NONE,
    schedule: Iterable[dict[str, Any]] = (),
    id: Any = None,
    channel: str = "api",
) -> tuple[Contract, bool]:
    """Record a draft contract between a household and a buyer. Idempotent on ``id``.

    A buyer's key records contracts for itself only; programme people for households in their
    area. The household must be active (reviewed); the product form must suit the crop; a
    fixed-price contract needs its price, a reference-price one its floor.
    """
    schedule = list(schedule)
    payload = {
        "household": str(household),
        "buyer": buyer,
        "crop": crop,
        "product_form": product_form,
        "season": [season_start, season_end],
        "volume": [str(volume_kg), str(volume_qq)],
        "price": [price_rule, str(price_pen_per_kg), str(price_floor_pen_per_kg)],
        "terms": [reference_price_note, quality_terms, certification],
        "schedule": [[str(r.get("due_on")), str(r.get("expected_kg"))] for r in schedule],
    }
    digest = request_hash(payload)
    existing = _replayed(Contract, id, digest, actor)
    if existing is not None:
        return existing, False
    if not actor.has_scope(Scope.CONTRACTS_WRITE):
        raise PermissionDenied(_("Your role may not record contracts."), code="missing_scope")

    own = buyer_of(actor)
    buyer_org = Organization.objects.filter(
        code=buyer, kind=OrganizationKind.BUYER, is_active=True
    ).first()
    if buyer_org is None:
        raise field_error("buyer", _("Unknown buyer code."), "does_not_exist")
    if own is not None and buyer_org.pk != own.pk:
        raise field_error(
            "buyer", _("You can record contracts only for your own organization."), "not_own_buyer"
        )
    if own is not None:
        # A buyer reaches only the households the programme offered it; any other id — existing
        # or not, active or not — gets the same answer as an unknown one.
        owner = households_offered_to(own).filter(pk=household).first()
    else:
        owner = Household.objects.filter(pk=household).first()
    if owner is None or (
        own is None
        and not actor.covers(
            district=owner.district_id, program=owner.program_id, scope=Scope.CONTRACTS_WRITE
        )
    ):
        raise field_error("household", _("Unknown household."), "does_not_exist")
    if owner.status != HouseholdStatus.ACTIVE:
        raise field_error(
            "household",
            _("Contracts can be made only with households whose registration was approved."),
            "household_not_active",
        )
    crop = _choice(crop, Crop, "crop")
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
    price_rule = _choice(price_rule, PriceRule, "price_rule")
    certification = _choice(certification, Certification, "certification")
    price = floor = None
    if price_rule == PriceRule.FIXED:
        if price_pen_per_kg is None:
            raise field_error(
                "price_pen_per_kg", _("A fixed-price contract needs its price."), "required"
            )
        price = _price(price_pen_per_kg, "price_pen_per_kg")
        if price_floor_pen_per_kg is not None:
            floor = _price(price_floor_pen_per_kg, "price_floor_pen_per_kg")
            if floor > price:
                raise field_error(
                    "price_floor_pen_per_kg",
                    _("The floor cannot be above the contract price."),
                    "floor_above_price",
                )
    else:
        if price_floor_pen_per_kg is None:
            raise field_error(
                "price_floor_pen_per_kg",
                _("A reference-price contract needs its floor price."),
                "required",
            )
        floor = _price(price_floor_pen_per_kg, "price_floor_pen_per_kg")
        if price_pen_per_kg is not None:
            price = _price(price_pen_per_kg, "price_pen_per_kg")
            if price < floor:
                raise field_error(
                    "price_pen_per_kg",
                    _("The price cannot be below the floor."),
                    "price_below_floor",
                )
    rows = _clean_schedule(schedule, season_start, season_end)
    now = timezone.now()
    contract = Contract(
        household=owner,
        buyer=buyer_org,
        district_id=owner.district_id,
        program_id=owner.program_id,
        crop=crop,
        product_form=product_form,
        season_start=season_start,
        season_end=season_end,
        volume_kg=volume,
        price_rule=price_rule,
        price_pen_per_kg=price,
        price_floor_pen_per_kg=floor,
        reference_price_note=reference_price_note.strip()[:200],
        quality_terms=quality_terms.strip(),
        certification=certification,
        created_by=actor.user,
        created_by_key=actor.api_key,
        request_hash=digest,
        created_at=now,
        updated_at=now,
        **({"id": id} if id is not None else {}),
    )
    contract.full_clean(exclude=["household", "buyer", "district", "program"])
    contract.save(force_insert=True)
    DeliverySchedule.objects.bulk_create(
        [DeliverySchedule(contract=contract, due_on=d, expected_kg=kg) for d, kg in rows]
    )
    _record_status(contract, actor, "", ContractStatus.DRAFT, "")
    if own is None:
        # Programme people who sign a family with a buyer link them: the buyer may then see and
        # propose contracts to that family (as with an offer made in the admin).
        _offer_ensure(actor=actor, household=owner, buyer=buyer_org, channel=channel)
    change_record(
        instance=contract,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "household": owner.code,
            "buyer": buyer_org.code,
            "crop": crop,
            "product_form": product_form,
            "volume_kg": str(volume),
            "price_rule": price_rule,
        },
        channel=channel,
    )
    return contract, True


def _contract_for_write(actor: Actor, contract_id: Any) -> Contract:
    """Lock a contract the actor can see, or 404."""
    contract = (
        Contract.objects.select_for_update()
        .filter(contract_scope_q(actor))
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


def _contract_apply(step: Step[Contract]) -> None:
    contract, reason = step.instance, step.data.get("reason", "")
    if step.to == ContractStatus.ACTIVE and step.before == ContractStatus.DRAFT:
        contract.activated_on = step.today
    if step.to in (ContractStatus.COMPLETED, ContractStatus.CANCELLED, ContractStatus.TERMINATED):
        contract.closed_on = step.today
    contract.status_reason = reason
    if reason:
        step.changes["reason"] = reason


def _contract_enqueue(step: Step[Contract]) -> None:
    if step.to in (ContractStatus.ACTIVE, ContractStatus.COMPLETED, ContractStatus.TERMINATED) or (
        step.before == ContractStatus.ACTIVE
    ):
        recompute_on_commit([step.instance.household_id])


def _need_reason(step: Step[Any]) -> None:
    if not step.data.get("reason"):
        raise field_error("reason", _("Give the reason."), "required")


CONTRACT_FLOW: Flow[Contract] = Flow(
    machine=CONTRACT_MACHINE,
    lock=lambda actor, contract: _contract_for_write(
        actor, contract.pk if isinstance(contract, Contract) else contract
    ),
    parties=lambda step: contract_parties(cast(Actor, step.actor), step.instance, step.move.scope),
    denied=lambda step: PermissionDenied(
        _("Your role may not change contracts."), code="missing_scope"
    ),
    fields={"reason": _need_reason},
    guards={SEASON_OPEN: _contract_season_open},
    apply=_contract_apply,
    history=lambda step: _record_status(
        step.instance, step.actor, step.before, step.to, step.data.get("reason", "")
    ),
    enqueue=_contract_enqueue,
    version_first=True,
)


def contract_transition(
    *,
    actor: Actor,
    contract: Contract,
    to: str,
    reason: str = "",
    expected_version: int | None = None,
    channel: str = "api",
    today: date | None = None,
) -> Contract:
    """Move a contract through its workflow (DESIGN.md §5, ``workflow.CONTRACT_MACHINE``, through
    the kernel's ``registry.workflow.transition``), with its status ledger."""
    return transition(
        CONTRACT_FLOW,
        actor=actor,
        record=contract,
        to=to,
        data={"reason": reason.strip()},
        expected_version=expected_version,
        channel=channel,
        today=today,
    )


# --- deliveries -------------------------------------------------------------------------------


@replays_lost_race(Delivery)
@transaction.atomic
def delivery_record(
    *,
    actor: Actor,
    contract: Any,
    delivered_on: date,
    quality_grade: str,
    weight_kg: Any = None,
    weight_qq: Any = None,
    price_pen_per_kg: Any = None,
    receipt_reference: str = "",
    note: str = "",
    id: Any = None,
    channel: str = "api",
    today: date | None = None,
) -> tuple[Delivery, bool]:
    """Record a delivery against an active contract, within its season. Idempotent on ``id``.

    The price defaults to the contract's; it may never be below the contract's floor. The amount
    is kg × price rounded to the céntimo. A delivery that takes the contract past its volume is
    recorded but flagged ``exceeds_volume``. A contract that is not active, or a date outside the
    season, is a 409.
    """
    payload = {
        "contract": str(contract),
        "delivered_on": delivered_on,
        "weight": [str(weight_kg), str(weight_qq)],
        "grade": quality_grade,
        "price": str(price_pen_per_kg),
        "receipt": receipt_reference,
        "note": note,
    }
    digest = request_hash(payload)
    existing = _replayed(Delivery, id, digest, actor)
    if existing is not None:
        return existing, False
    locked = _contract_for_write(actor, contract)
    if not may_write_contract(actor, locked):
        raise PermissionDenied(_("Your role may not record deliveries."), code="missing_scope")
    quality_grade = _choice(quality_grade, QualityGrade, "quality_grade")
    if delivered_on > (today or timezone.localdate()):
        raise field_error("delivered_on", _("The date cannot be in the future."), "future_date")
    weight = kilograms(kg=weight_kg, qq=weight_qq, attr="weight")
    if locked.status != ContractStatus.ACTIVE:
        raise Conflict(
            _("Deliveries can be recorded only against an active contract (this one is %(s)s).")
            % {"s": locked.get_status_display()},
            code="contract_not_active",
            attr="contract",
        )
    if not locked.season_start <= delivered_on <= locked.season_end:
        raise Conflict(
            _("The delivery date is outside the contract's season (%(start)s to %(end)s).")
            % {"start": locked.season_start, "end": locked.season_end},
            code="outside_season",
            attr="delivered_on",
        )
    if price_pen_per_kg is None:
        if locked.price_pen_per_kg is None:
            raise field_error(
                "price_pen_per_kg",
                _("This contract follows a reference price: give the price of the day."),
                "required",
            )
        price = locked.price_pen_per_kg
    else:
        price = _price(price_pen_per_kg, "price_pen_per_kg")
    floor = locked.price_floor_pen_per_kg
    if floor is not None and price < floor:
        raise field_error(
            "price_pen_per_kg",
            _("The price is below the contract's floor of %(floor)s PEN/kg.") % {"floor": floor},
            "price_below_floor",
        )
    amount = amount_for(weight, price)
    if amount > Decimal("999999999999.99"):
        raise field_error("weight_kg", _("The amount is too large."), "max_value")
    delivered_total = locked.delivered_kg + weight
    now = timezone.now()
    delivery = Delivery(
        contract=locked,
        household_id=locked.household_id,
        buyer_id=locked.buyer_id,
        district_id=locked.district_id,
        program_id=locked.program_id,
        delivered_on=delivered_on,
        weight_kg=weight,
        quality_grade=quality_grade,
        price_pen_per_kg=price,
        amount_pen=amount,
        receipt_reference=receipt_reference.strip()[:60],
        note=note.strip(),
        exceeds_volume=delivered_total > locked.volume_kg,
        recorded_by=actor.user,
        recorded_by_key=actor.api_key,
        **_confirmation(actor, now),
        request_hash=digest,
        created_at=now,
        updated_at=now,
        **({"id": id} if id is not None else {}),
    )
    delivery.save(force_insert=True)
    locked.delivered_kg = delivered_total
    locked.save(update_fields=["delivered_kg"])
    change_record(
        instance=delivery,
        action=ChangeAction.CREATE,
        actor=actor,
        changes={
            "contract": str(locked.pk),
            "weight_kg": str(weight),
            "price_pen_per_kg": str(price),
            "amount_pen": str(amount),
            "exceeds_volume": delivery.exceeds_volume,
        },
        channel=channel,
    )
    return delivery, True


def _delivery_lock(actor: Actor, delivery: Any) -> Delivery:
    """Lock the delivery's contract (404 when the actor cannot see it), then the delivery."""
    if not isinstance(delivery, Delivery):
        delivery = Delivery.objects.only("contract_id").get(pk=delivery)
    contract = _contract_for_write(actor, delivery.contract_id)
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    locked.contract = contract
    return locked


def _need_rejection_reason(step: Step[Delivery]) -> None:
    value = step.data.get("rejection_reason")
    if not value:
        raise field_error("rejection_reason", _("Give the reason."), "required")
    step.data["rejection_reason"] = _choice(value, RejectionReason, "rejection_reason")


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
    contract = locked.contract
    if to == DeliveryStatus.REJECTED:
        locked.rejection_reason = step.data["rejection_reason"]
        contract.delivered_kg = max(contract.delivered_kg - locked.weight_kg, Decimal("0"))
        changes["rejection_reason"] = locked.rejection_reason
    elif to == DeliveryStatus.ACCEPTED:
        contract.accepted_kg += locked.weight_kg
        contract.accepted_value_pen += locked.amount_pen
        actor = cast(Actor, step.actor)
        if locked.confirmed_at is None and buyer_of(actor) is None:
            # Programme people accepting a buyer's delivery confirm it by doing so.
            for name, value in _confirmation(actor, timezone.now()).items():
                setattr(locked, name, value)
            changes["confirmed"] = True
    elif to == DeliveryStatus.PAID:
        paid_amount_pen = step.data.get("paid_amount_pen")
        paid = (
            locked.amount_pen
            if paid_amount_pen is None
            else _decimal(paid_amount_pen, "paid_amount_pen").quantize(CENTIMO, ROUND_HALF_UP)
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


def _delivery_enqueue(step: Step[Delivery]) -> None:
    if step.to in ACCEPTED_DELIVERY_STATES and step.instance.confirmed_at is not None:
        recompute_on_commit([step.instance.household_id])


DELIVERY_FLOW: Flow[Delivery] = Flow(
    machine=DELIVERY_MACHINE,
    lock=_delivery_lock,
    parties=lambda step: contract_parties(
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
    if buyer_of(actor) is not None:
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
    contract = _contract_for_write(actor, delivery.contract_id)
    locked = Delivery.objects.select_for_update().get(pk=delivery.pk)
    check_version(locked, expected_version)
    if buyer_of(actor) is not None or not may_write_contract(actor, contract):
        raise PermissionDenied(
            _("Only the programme (its staff or an implementer in the area) confirms deliveries."),
            code="not_programme",
        )
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
    for name, value in _confirmation(actor, now).items():
        setattr(locked, name, value)
    locked.version += 1
    locked.updated_at = now
    locked.save()
    change_record(
        instance=locked,
        action=ChangeAction.TRANSITION,
        actor=actor,
        changes={"confirmed_at": [None, now.isoformat()]},
        channel=channel,
    )
    recompute_on_commit([locked.household_id])
    return locked


# --- yield norms ------------------------------------------------------------------------------


@transaction.atomic
def yield_norm_save(
    *,
    actor: Actor | None,
    crop: str,
    product_form: str,
    kg_per_ha_per_season: Any,
    source: str = "",
    channel: str = "admin",
) -> YieldNorm:
    """Set the expected yield of a crop in a product form (programme agencies' staff or platform
    administrators, in the admin: the norms hold for every programme)."""
    if not policies.can_edit_yield_norms(actor):
        raise PermissionDenied(
            _("Only programme agencies' staff change yield norms."), code="not_program_agency"
        )
    crop = _choice(crop, Crop, "crop")
    if product_form not in forms_for_crop(crop):
        raise field_error(
            "product_form", _("This product form does not suit the crop."), "invalid_product_form"
        )
    value = _decimal(kg_per_ha_per_season, "kg_per_ha_per_season").quantize(CENTIMO)
    if value <= 0:
        raise field_error("kg_per_ha_per_season", _("The yield must be above zero."), "min_value")
    norm = (
        YieldNorm.objects.select_for_update().filter(crop=crop, product_form=product_form).first()
    )
    created = norm is None
    before = {} if norm is None else snapshot(norm)
    if norm is None:
        norm = YieldNorm(crop=crop, product_form=product_form)
    norm.kg_per_ha_per_season = value
    norm.source = source.strip()[:300]
    norm.full_clean(validate_constraints=False)
    changes = diff(before, snapshot(norm))
    if created or changes:
        norm.save()
        change_record(
            instance=norm,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return norm


__all__ = [
    "amount_for",
    "buyer_profile_update",
    "buyer_register",
    "contract_create",
    "contract_transition",
    "delivery_confirm",
    "delivery_record",
    "delivery_transition",
    "kilograms",
    "offer_create",
    "offer_withdraw",
    "yield_norm_save",
]
