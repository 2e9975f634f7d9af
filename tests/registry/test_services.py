"""Kernel services: RUC validation, idempotent upserts with history, keys."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from registry.choices import OrganizationKind, Scope
from registry.models import ApiKey, ChangeRecord, Organization
from registry.services import (
    api_key_create,
    api_key_revoke,
    organization_upsert,
    program_upsert,
    validate_scopes,
)
from registry.validators import validate_ruc

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "ruc",
    ["20131312955", "20100047218", "20512333797", "10101174102", "20000003001", "20000006000"],
)
def test_valid_rucs(ruc: str) -> None:
    validate_ruc(ruc)


@pytest.mark.parametrize(
    ("ruc", "code"),
    [
        ("20131312954", "invalid_checksum"),
        ("20131312956", "invalid_checksum"),
        ("2013131295", "invalid_length"),
        ("201313129551", "invalid_length"),
        ("2013131295A", "invalid_format"),
        ("ABCDEFGHIJK", "invalid_format"),
        ("30131312955", "invalid_component"),
    ],
)
def test_invalid_rucs(ruc: str, code: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_ruc(ruc)
    assert info.value.code == code


def test_organization_upsert_is_idempotent_and_keeps_history() -> None:
    org, created = organization_upsert(
        code="coop", kind=OrganizationKind.BUYER, name="Coop", ruc="20131312955"
    )
    assert created and org.version == 1
    again, created = organization_upsert(
        code="coop", kind=OrganizationKind.BUYER, name="Coop", ruc="20131312955"
    )
    assert not created and again.version == 1
    renamed, _ = organization_upsert(
        code="coop", kind=OrganizationKind.BUYER, name="Cooperativa", ruc="20131312955"
    )
    assert renamed.version == 2
    history = list(
        ChangeRecord.objects.filter(object_id=str(org.pk))
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert history == ["create", "update"]
    assert Organization.objects.filter(code="coop").count() == 1


def test_organization_bad_ruc_and_unknown_district_write_nothing() -> None:
    with pytest.raises(ValidationError) as info:
        organization_upsert(code="x", kind=OrganizationKind.BUYER, name="X", ruc="20131312954")
    assert "ruc" in info.value.message_dict
    with pytest.raises(ValidationError) as info:
        organization_upsert(
            code="x", kind=OrganizationKind.BUYER, name="X", district_ubigeos=["999999"]
        )
    assert "999999" in str(info.value.message_dict["districts"])
    assert not Organization.objects.filter(code="x").exists()
    assert not ChangeRecord.objects.exists()


def test_ruc_is_unique_among_organizations() -> None:
    organization_upsert(code="a", kind=OrganizationKind.BUYER, name="A", ruc="20131312955")
    with pytest.raises(ValidationError) as info:
        organization_upsert(code="b", kind=OrganizationKind.BUYER, name="B", ruc="20131312955")
    assert [e.code for e in info.value.error_dict["ruc"]] == ["duplicate"]


def test_program_upsert() -> None:
    organization_upsert(code="devida", kind=OrganizationKind.PROGRAM_AGENCY, name="DEVIDA")
    program, created = program_upsert(
        code="pirdais", name="PIRDAIS", agency_code="devida", budget_pen=Decimal("100.50")
    )
    assert created and program.budget_pen == Decimal("100.50")
    with pytest.raises(ValidationError) as info:
        program_upsert(code="p2", name="P2", agency_code="nadie")
    assert "agency" in info.value.message_dict
    with pytest.raises(ValidationError):
        program_upsert(code="p3", name="P3", agency_code="devida", budget_pen=Decimal("-1"))


def test_scopes_are_validated() -> None:
    assert validate_scopes(["households:read"]) == ["households:read", "reference:read"]
    with pytest.raises(ValidationError) as info:
        validate_scopes(["households:read", "everything"])
    assert "everything" in str(info.value.message_dict["scopes"])


def test_funder_keys_only_read_indicators() -> None:
    funder, _ = organization_upsert(code="f", kind=OrganizationKind.FUNDER, name="F")
    api_key_create(organization=funder, scopes=[Scope.INDICATORS_READ])
    with pytest.raises(ValidationError):
        api_key_create(organization=funder, scopes=[Scope.HOUSEHOLDS_READ])
    assert ApiKey.objects.filter(organization=funder).count() == 1


def test_revoke_is_idempotent() -> None:
    org, _ = organization_upsert(code="o", kind=OrganizationKind.IMPLEMENTER, name="O")
    api_key, _raw = api_key_create(organization=org, scopes=[])
    api_key_revoke(api_key=api_key)
    first = api_key.revoked_at
    api_key_revoke(api_key=api_key)
    assert api_key.revoked_at == first
    assert not api_key.is_active
    assert ChangeRecord.objects.filter(object_id=str(api_key.pk), action="deactivate").count() == 1
