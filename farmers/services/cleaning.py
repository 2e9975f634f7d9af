"""Input cleaning shared by the farmers services: members, consent, crops, coordinates (every
problem reported on its field, e.g. ``members.2.birth_date``); plain numbers and choices are
cleaned by ``registry.cleaning``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from registry.cleaning import choice_message, clean_choice, is_choice, parse_decimal
from registry.display import choice_options
from registry.services import field_error

from ..choices import ConsentPurpose, Crop, DocumentType, Relationship, Sex
from ..identity import normalize_document, normalize_phone, validate_birth_date

MAX_MEMBERS = 30


def _collect(errors: dict[str, list[ValidationError]], attr: str, exc: ValidationError) -> None:
    for error in exc.error_list:
        errors.setdefault(attr, []).append(error)


def _clean_members(
    members: list[dict[str, Any]], *, today: date | None = None
) -> list[dict[str, Any]]:
    """Validate and normalise members; every problem is reported with its ``members.N.`` path."""
    errors: dict[str, list[ValidationError]] = {}
    if not members:
        raise field_error("members", _("Register at least one member."), "required")
    if len(members) > MAX_MEMBERS:
        raise field_error(
            "members",
            _("A household has at most %(max)s members.") % {"max": MAX_MEMBERS},
            "max_length",
        )
    cleaned: list[dict[str, Any]] = []
    seen_documents: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(members):
        prefix = f"members.{index}."
        member: dict[str, Any] = {}
        for name in ("given_names", "surnames"):
            value = " ".join(str(raw.get(name) or "").split())
            if not value:
                errors.setdefault(prefix + name, []).append(
                    ValidationError(_("This field is required."), code="required")
                )
            member[name] = value
        try:
            member["sex"] = clean_choice(raw.get("sex"), Sex, prefix + "sex")
        except ValidationError as exc:
            errors.setdefault(prefix + "sex", []).extend(exc.error_dict[prefix + "sex"])
        try:
            member["relationship"] = clean_choice(
                raw.get("relationship"), Relationship, prefix + "relationship"
            )
        except ValidationError as exc:
            errors.setdefault(prefix + "relationship", []).extend(
                exc.error_dict[prefix + "relationship"]
            )
        birth = raw.get("birth_date")
        if not isinstance(birth, date):
            errors.setdefault(prefix + "birth_date", []).append(
                ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
            )
        else:
            try:
                member["birth_date"] = validate_birth_date(birth, today=today)
            except ValidationError as exc:
                _collect(errors, prefix + "birth_date", exc)
        document_type = raw.get("document_type") or ""
        number = str(raw.get("document_number") or "").strip()
        member["document_type"] = ""
        member["document_number"] = ""
        if document_type or number:
            if not is_choice(document_type, DocumentType):
                errors.setdefault(prefix + "document_type", []).append(
                    ValidationError(choice_message(DocumentType), code="invalid_choice")
                )
            elif not number:
                errors.setdefault(prefix + "document_number", []).append(
                    ValidationError(_("Enter the document number."), code="required")
                )
            else:
                try:
                    member["document_number"] = normalize_document(document_type, number)
                    member["document_type"] = document_type
                    key = (document_type, member["document_number"])
                    if raw.get("is_active", True) and key in seen_documents:
                        errors.setdefault(prefix + "document_number", []).append(
                            ValidationError(
                                _("The same ID is given for member %(other)s.")
                                % {"other": seen_documents[key]},
                                code="duplicate_in_request",
                            )
                        )
                    if raw.get("is_active", True):
                        seen_documents[key] = index
                except ValidationError as exc:
                    _collect(errors, prefix + "document_number", exc)
        phone = str(raw.get("phone") or "").strip()
        member["phone"] = ""
        if phone:
            try:
                member["phone"] = normalize_phone(phone)
            except ValidationError as exc:
                _collect(errors, prefix + "phone", exc)
        member["id"] = raw.get("id")
        member["is_active"] = bool(raw.get("is_active", True))
        cleaned.append(member)
    if not any(m["is_active"] for m in cleaned):
        errors.setdefault("members", []).append(
            ValidationError(_("A household keeps at least one active member."), code="required")
        )
    heads = [
        i
        for i, m in enumerate(cleaned)
        if m["is_active"] and m.get("relationship") == Relationship.HEAD
    ]
    if len(heads) != 1 and not errors:
        errors.setdefault("members", []).append(
            ValidationError(
                _("Exactly one member must have the relationship “%(head)s”.")
                % {"head": Relationship.HEAD.label},
                code="one_head",
            )
        )
    if errors:
        raise ValidationError(errors)
    head = cleaned[heads[0]]
    if head.get("document_type") == "":
        raise field_error(
            f"members.{heads[0]}.document_number",
            _("The head of household needs an identity document."),
            "required",
        )
    return cleaned


def _clean_consent(
    consent: dict[str, Any], errors: dict[str, list[ValidationError]], today: date | None
) -> dict[str, Any] | None:
    signed_on = consent.get("signed_on")
    purposes = consent.get("purposes") or []
    if not isinstance(signed_on, date):
        errors.setdefault("consent.signed_on", []).append(
            ValidationError(_("Enter a date as YYYY-MM-DD."), code="invalid")
        )
    elif signed_on > (today or timezone.localdate()):
        errors.setdefault("consent.signed_on", []).append(
            ValidationError(_("The date cannot be in the future."), code="future_date")
        )
    unknown = [p for p in purposes if not is_choice(p, ConsentPurpose)]
    if unknown or not purposes:
        errors.setdefault("consent.purposes", []).append(
            ValidationError(
                _("Give at least one purpose among: %(valid)s.")
                % {"valid": choice_options(ConsentPurpose)},
                code="invalid_choice",
            )
        )
    if ConsentPurpose.REGISTRY not in purposes and not unknown and purposes:
        errors.setdefault("consent.purposes", []).append(
            ValidationError(
                _("Consent to the purpose “%(purpose)s” is needed to register.")
                % {"purpose": ConsentPurpose.REGISTRY.label},
                code="registry_required",
            )
        )
    return {
        "signed_on": signed_on,
        "purposes": sorted(set(purposes)),
        "notice_version": str(consent.get("notice_version") or "2025-1")[:20],
        "language": str(consent.get("language") or "es")[:10],
    }


def _clean_crops(crops: Any, attr: str = "crops") -> list[str]:
    if crops in (None, ""):
        return []
    if not isinstance(crops, list):
        raise field_error(attr, _("Give a list of crops."), "invalid")
    for index, crop in enumerate(crops):
        if crop not in Crop.values:
            raise field_error(f"{attr}.{index}", choice_message(Crop), "invalid_choice")
    return sorted(set(crops))


def _decimal_signed(value: Any, attr: str, low: float, high: float) -> Decimal:
    number = parse_decimal(value, attr)
    if not number.is_finite() or not Decimal(str(low)) <= number <= Decimal(str(high)):
        raise field_error(
            attr,
            _("The point must be in Peru (between %(low)s and %(high)s).")
            % {"low": low, "high": high},
            "outside_peru",
        )
    return number.quantize(Decimal("0.000001"))
