"""Regression tests for the admin takeover (issue 13, Critical and Medium): each reproduction, in
the admin and in the service that the admin calls (``registry.policies`` decides both)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from markets import services as markets_services
from markets.models import BuyerProfile, YieldNorm
from registry.actors import Actor
from registry.choices import Role, Scope
from registry.exceptions import PermissionDenied
from registry.models import ApiKey, Membership, Program
from registry.services import (
    api_key_create,
    api_key_revoke,
    membership_assign,
    membership_update,
    organization_areas_set,
    organization_upsert,
    program_upsert,
)
from tests.factories import UserFactory
from tests.registry.test_admin_matrix import SIVIA, World, client_for, form_data, world
from titles import services as titles_services
from titles.models import TitleSettings

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # the fixture


def actor_of(world: World, role: str) -> Actor:
    return Actor.for_user(world.users[role])


def test_staff_cannot_mint_a_key_for_another_agency(world: World) -> None:
    org_b = world.org_b
    assert org_b is not None
    response = client_for(world, "staff").post(
        reverse("admin:registry_apikey_add"),
        {"organization": org_b.pk, "name": "robada", "scopes": ["coca:read", "households:read"]},
    )
    assert response.status_code == 200
    assert "organization" in response.context["adminform"].form.errors
    assert not ApiKey.objects.filter(name="robada").exists()
    with pytest.raises(PermissionDenied) as refused:
        api_key_create(organization=org_b, scopes=[Scope.COCA_READ], actor=actor_of(world, "staff"))
    assert refused.value.code == "not_your_organization"
    # Their own organization: allowed, with the scopes their role holds there.
    own, _raw = api_key_create(
        organization=world.org_a,  # type: ignore[arg-type]
        scopes=[Scope.COCA_READ],
        actor=actor_of(world, "staff"),
    )
    assert own.scopes == ["coca:read", "reference:read"]


def test_keys_carry_no_scope_beyond_the_issuers_role(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Were programme staff to hold fewer scopes, they could grant only those.
    from registry.actors import ROLE_SCOPES

    monkeypatch.setitem(
        ROLE_SCOPES, Role.PROGRAM_STAFF, frozenset({Scope.REFERENCE_READ, Scope.HOUSEHOLDS_READ})
    )
    with pytest.raises(PermissionDenied) as refused:
        api_key_create(
            organization=world.org_a,  # type: ignore[arg-type]
            scopes=[Scope.HOUSEHOLDS_READ, Scope.COCA_READ],
            actor=actor_of(world, "staff"),
        )
    assert refused.value.code == "scope_not_grantable"
    response = client_for(world, "staff").post(
        reverse("admin:registry_apikey_add"),
        {"organization": world.org_a.pk, "name": "ancha", "scopes": ["coca:read"]},  # type: ignore[union-attr]
    )
    assert "scopes" in response.context["adminform"].form.errors
    assert not ApiKey.objects.filter(name="ancha").exists()


def test_supervisor_and_officer_manage_no_keys(world: World) -> None:
    for role in ("officer", "supervisor"):
        with pytest.raises(PermissionDenied):
            api_key_create(
                organization=world.org_a,  # type: ignore[arg-type]
                scopes=[Scope.HOUSEHOLDS_READ],
                actor=actor_of(world, role),
            )
        assert client_for(world, role).get(reverse("admin:registry_apikey_add")).status_code == 403


def test_staff_cannot_add_themselves_to_another_organization(world: World) -> None:
    staff = world.users["staff"]
    org_b = world.org_b
    assert org_b is not None
    response = client_for(world, "staff").post(
        reverse("admin:registry_membership_add"),
        {"user": staff.pk, "organization": org_b.pk, "role": Role.PROGRAM_STAFF, "is_active": "on"},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(user=staff, organization=org_b).exists()
    with pytest.raises(PermissionDenied):
        membership_assign(
            user=staff, organization=org_b, role=Role.FIELD_OFFICER, actor=actor_of(world, "staff")
        )


def test_nobody_gives_themselves_a_second_membership_or_an_area(world: World) -> None:
    staff = world.users["staff"]
    with pytest.raises(PermissionDenied) as refused:
        membership_assign(
            user=staff,
            organization=world.org_a,  # type: ignore[arg-type]
            role=Role.FIELD_OFFICER,
            district_ubigeos=[SIVIA],
            actor=actor_of(world, "staff"),
        )
    assert refused.value.code == "own_membership"
    # An administrator may not either.
    admin = world.users["administrator"]
    with pytest.raises(PermissionDenied):
        membership_assign(
            user=admin,
            organization=world.org_b,  # type: ignore[arg-type]
            role=Role.PROGRAM_STAFF,
            actor=actor_of(world, "administrator"),
        )
    assert Membership.objects.filter(user__in=[staff, admin]).count() == 2


def test_membership_districts_stay_inside_the_organization(world: World) -> None:
    newcomer = UserFactory.create(username="nuevo.tecnico", is_staff=True)
    with pytest.raises(PermissionDenied) as refused:
        membership_assign(
            user=newcomer,
            organization=world.org_a,  # type: ignore[arg-type]
            role=Role.FIELD_OFFICER,
            district_ubigeos=[SIVIA],
            actor=actor_of(world, "staff"),
        )
    assert refused.value.code == "district_outside_area"


def test_staff_cannot_grant_the_administrator_role(world: World) -> None:
    newcomer = UserFactory.create(username="nuevo.admin", is_staff=True)
    with pytest.raises(PermissionDenied) as refused:
        membership_assign(
            user=newcomer,
            organization=world.org_a,  # type: ignore[arg-type]
            role=Role.ADMINISTRATOR,
            actor=actor_of(world, "staff"),
        )
    assert refused.value.code == "role_not_grantable"


@pytest.mark.parametrize("role", ["supervisor", "staff"])
def test_nobody_promotes_their_own_membership(world: World, role: str) -> None:
    own = Membership.objects.get(user=world.users[role])
    url = reverse("admin:registry_membership_change", args=[own.pk])
    data = {**form_data(world, "membership", own), "role": Role.PROGRAM_STAFF}
    if role == "staff":
        data["role"] = Role.ADMINISTRATOR
    response = client_for(world, role).post(url, data)
    assert response.status_code in (302, 403)
    own.refresh_from_db()
    assert own.role == (Role.SUPERVISOR if role == "supervisor" else Role.PROGRAM_STAFF)
    with pytest.raises(PermissionDenied):
        membership_update(
            membership=own,
            role=Role.PROGRAM_STAFF,
            district_ubigeos=[],
            is_active=True,
            actor=actor_of(world, role),
        )


def test_staff_cannot_widen_their_organization(world: World) -> None:
    org_a, org_b = world.org_a, world.org_b
    assert org_a is not None and org_b is not None
    program_b = Program.objects.get(code="prog-b")
    url = reverse("admin:registry_organization_change", args=[org_a.pk])
    data = form_data(world, "organization", org_a)
    data["districts"] = [*data["districts"], SIVIA]
    data["programs"] = [program_b.pk]
    for role in ("supervisor", "staff"):
        assert client_for(world, role).post(url, data).status_code == 403
    assert set(org_a.districts.values_list("ubigeo", flat=True)) == {"080907", "080910"}
    assert not org_a.programs.exists()
    for call in (
        lambda actor: organization_areas_set(
            organization=org_a, district_ubigeos=[SIVIA], program_ids=[program_b.pk], actor=actor
        ),
        lambda actor: organization_upsert(
            code=org_a.code, kind=org_a.kind, name=org_a.name, district_ubigeos=[SIVIA], actor=actor
        ),
        lambda actor: program_upsert(
            code="nuevo", name="Nuevo", agency_code="agencia-a", actor=actor
        ),
    ):
        with pytest.raises(PermissionDenied):
            call(actor_of(world, "staff"))
    # An administrator may, through the admin, and it leaves history.
    assert client_for(world, "administrator").post(url, data).status_code == 302
    assert SIVIA in set(org_a.districts.values_list("ubigeo", flat=True))
    assert list(org_a.programs.all()) == [program_b]


def test_staff_cannot_revoke_another_organizations_key(world: World) -> None:
    key_b = world.objects["apikey"]["b"]
    assert isinstance(key_b, ApiKey)
    client_for(world, "staff").post(
        reverse("admin:registry_apikey_changelist"),
        {"action": "revoke", "_selected_action": [str(key_b.pk)]},
    )
    key_b.refresh_from_db()
    assert key_b.revoked_at is None
    with pytest.raises(PermissionDenied):
        api_key_revoke(api_key=key_b, actor=actor_of(world, "staff"))
    with pytest.raises(PermissionDenied):
        api_key_revoke(api_key=key_b, actor=actor_of(world, "supervisor"))
    api_key_revoke(api_key=key_b, actor=actor_of(world, "administrator"))
    key_b.refresh_from_db()
    assert key_b.revoked_at is not None


def test_other_agencies_thresholds_settings_norms_and_buyers_are_not_editable(
    world: World,
) -> None:
    program_b = Program.objects.get(code="prog-b")
    url = reverse("admin:registry_program_change", args=[program_b.pk])
    data = {**form_data(world, "program", program_b), "licit_min_ha": "9.00"}
    for role in ("supervisor", "staff"):
        client_for(world, role).post(url, data)
    program_b.refresh_from_db()
    assert program_b.licit_min_ha == Decimal("1.00")

    settings_b = TitleSettings.objects.get(program=program_b)
    settings_b.submitted_days = 1
    with pytest.raises(PermissionDenied):
        titles_services.title_settings_save(actor=actor_of(world, "staff"), settings_obj=settings_b)
    # A supervisor of the agency itself may not change its own programme's settings either.
    settings_a = TitleSettings.objects.get(program__code="prog-a")
    with pytest.raises(PermissionDenied):
        titles_services.title_settings_save(
            actor=actor_of(world, "supervisor"), settings_obj=settings_a
        )

    buyer_b = BuyerProfile.objects.get(organization__code="coop-b").organization
    with pytest.raises(PermissionDenied):
        markets_services.buyer_profile_update(
            actor=actor_of(world, "staff"),
            organization=buyer_b,
            contact_name="Otro",
            phone="",
            email="",
        )
    with pytest.raises(PermissionDenied):
        markets_services.yield_norm_save(
            actor=actor_of(world, "supervisor"),
            crop="cacao",
            product_form="cacao_dry",
            kg_per_ha_per_season="1",
        )
    assert YieldNorm.objects.get(crop="cacao", product_form="cacao_dry").kg_per_ha_per_season != 1


def test_changelists_leak_no_other_programmes_names_or_keys(world: World) -> None:
    client = client_for(world, "staff")
    records = client.get(reverse("admin:registry_changerecord_changelist")).content.decode()
    assert "Juana Quispe" in records
    assert "Benedicta" not in records
    assert "tecnico.b" not in records
    keys = client.get(reverse("admin:registry_apikey_changelist")).content.decode()
    key_b = world.objects["apikey"]["b"]
    assert isinstance(key_b, ApiKey)
    assert key_b.prefix not in keys
    memberships = client.get(reverse("admin:registry_membership_changelist")).content.decode()
    assert "tecnico.b" not in memberships
    assert "tecnico.a" in memberships
    logs = client.get(reverse("admin:registry_accesslog_changelist")).content.decode()
    assert "agencia-b" not in logs and key_b.prefix not in logs
    duplicates = client.get(reverse("admin:farmers_possibleduplicate_changelist"))
    assert "Benedicta" not in duplicates.content.decode()


def test_staff_manage_their_own_people(world: World) -> None:
    officer_membership = Membership.objects.get(user=world.users["officer"])
    membership_update(
        membership=officer_membership,
        role=Role.SUPERVISOR,
        district_ubigeos=["080910"],
        is_active=True,
        actor=actor_of(world, "staff"),
    )
    officer_membership.refresh_from_db()
    assert officer_membership.role == Role.SUPERVISOR
    assert list(officer_membership.districts.values_list("ubigeo", flat=True)) == ["080910"]


def test_management_commands_act_as_the_system(world: World) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_api_key", organization="agencia-b", scopes="coca:read", stdout=out)
    assert ApiKey.objects.filter(organization__code="agencia-b").count() == 2


def test_a_pair_with_another_programmes_family_is_not_dismissed_by_the_service(
    world: World,
) -> None:
    from farmers import services as farmers_services
    from farmers.models import PossibleDuplicate

    cross = world.objects["possibleduplicate"]["b"]
    assert isinstance(cross, PossibleDuplicate)
    with pytest.raises(PermissionDenied):
        farmers_services.duplicate_dismiss(actor=actor_of(world, "staff"), duplicate=cross)
    inside = world.objects["possibleduplicate"]["a"]
    assert isinstance(inside, PossibleDuplicate)
    farmers_services.duplicate_dismiss(actor=actor_of(world, "staff"), duplicate=inside)
    assert PossibleDuplicate.objects.get(pk=cross.pk).status == "open"


def test_the_administrator_role_opens_no_families(world: World) -> None:
    admin = world.users["administrator"]
    membership_assign(user=admin, organization=world.org_a, role=Role.ADMINISTRATOR)  # type: ignore[arg-type]
    actor = Actor.for_user(admin)
    assert actor.areas == ()
    response = client_for(world, "administrator").get(reverse("admin:farmers_household_changelist"))
    assert list(response.context["cl"].result_list) == []
    # …yet it manages agency A's keys.
    key, _raw = api_key_create(organization=world.org_a, scopes=[], actor=actor)  # type: ignore[arg-type]
    assert key.organization == world.org_a


def test_staff_cannot_make_another_agencys_family_a_member(world: World) -> None:
    """Issue 16: in the admin (not offered, refused on the field) and in the service it calls."""
    from datetime import date

    from django.core.exceptions import ValidationError

    from markets.models import ProducerMembership
    from registry.models import Organization

    family_b = world.objects["household"]["b"]
    coop = Organization.objects.get(code="asoc-nueva")
    url = reverse("admin:markets_producermembership_add")
    client = client_for(world, "staff")
    offered = client.get(url).context["adminform"].form.fields["household"].queryset
    assert not offered.filter(pk=family_b.pk).exists()
    response = client.post(
        url,
        {
            "organization": coop.pk,
            "household": family_b.pk,
            "role": "member",
            "joined_on": "01/02/2026",
        },
    )
    assert "household" in response.context["adminform"].form.errors
    with pytest.raises(ValidationError) as refused:
        markets_services.membership_create(
            actor=actor_of(world, "staff"),
            organization=coop,
            household=family_b,
            joined_on=date(2026, 2, 1),
        )
    assert refused.value.message_dict.keys() == {"household"}
    assert not ProducerMembership.objects.filter(organization=coop).exists()
