"""Buyers: registering a buyer organization with its contact details, and editing them."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from farmers.identity import normalize_phone
from registry.actors import Actor
from registry.choices import ChangeAction, OrganizationKind
from registry.exceptions import Conflict
from registry.history import change_record, diff, snapshot
from registry.models import District, Organization
from registry.services import field_error, organization_upsert
from registry.validators import validate_ruc

from .. import policies
from ..models import BuyerProfile


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
    policies.require_buyer(actor, code, "register")
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
    allowed to manage the buyer (``markets.policies.buyer_can``)."""
    if organization.kind != OrganizationKind.BUYER:
        raise field_error("organization", _("This organization is not a buyer."), "not_a_buyer")
    policies.require_buyer(actor, organization, "manage")
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
        if created:
            profile.save()
        else:
            profile.touch("contact_name", "phone", "email")
        change_record(
            instance=profile,
            action=ChangeAction.CREATE if created else ChangeAction.UPDATE,
            actor=actor,
            changes=changes,
            channel=channel,
        )
    return profile
