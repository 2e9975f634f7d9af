"""The one scoping mechanism: actors' scopes and areas, by key and by membership."""

import pytest

from registry.actors import ROLE_SCOPES, Actor
from registry.choices import OrganizationKind, Role, Scope
from registry.models import District, Organization, Program
from registry.services import membership_assign
from tests.conftest import KeyMaker
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db


def visible_districts(actor: Actor) -> set[str]:
    q = actor.area_q(district_path="ubigeo", program_path=None)
    return set(District.objects.filter(q).values_list("ubigeo", flat=True))


def visible_programs(actor: Actor) -> set[str]:
    q = actor.area_q(district_path=None, program_path="pk")
    return set(Program.objects.filter(q).values_list("code", flat=True))


def test_key_sees_its_organizations_districts(make_key: KeyMaker) -> None:
    api_key, _raw = make_key()
    actor = Actor.for_api_key(api_key)
    assert visible_districts(actor) == {"080910", "080907"}
    assert visible_programs(actor) == set()  # an area on districts only needs a district


def test_key_of_organization_without_area_sees_nothing(make_key: KeyMaker) -> None:
    funder = OrganizationFactory.create(kind=OrganizationKind.FUNDER)
    api_key, _raw = make_key(org=funder, scopes=[Scope.INDICATORS_READ])
    actor = Actor.for_api_key(api_key)
    assert visible_districts(actor) == set()
    assert visible_programs(actor) == set()


def test_programme_agency_sees_the_programmes_it_runs(make_key: KeyMaker) -> None:
    agency = OrganizationFactory.create(kind=OrganizationKind.PROGRAM_AGENCY)
    ProgramFactory.create(code="suyo", agency=agency)
    ProgramFactory.create(code="ajeno")
    api_key, _raw = make_key(org=agency)
    assert visible_programs(Actor.for_api_key(api_key)) == {"suyo"}


def test_area_needs_both_district_and_programme_inside() -> None:
    org = OrganizationFactory.create(code="mi-org")
    org.districts.set(District.objects.filter(ubigeo__in=["050407", "050408"]))
    program = ProgramFactory.create(code="pirdais")
    org.programs.add(program)
    user = UserFactory.create()
    membership_assign(user=user, organization=org, role=Role.FIELD_OFFICER)
    # Rows carrying a district and a programme: here, other organizations' assignments.
    both = OrganizationFactory.create(code="ambos")
    both.districts.set(District.objects.filter(ubigeo="050407"))
    both.programs.add(program)
    district_only = OrganizationFactory.create(code="solo-distrito")
    district_only.districts.set(District.objects.filter(ubigeo="050408"))
    district_only.programs.add(ProgramFactory.create(code="otro"))
    program_only = OrganizationFactory.create(code="solo-programa")
    program_only.districts.set(District.objects.filter(ubigeo="080910"))
    program_only.programs.add(program)

    q = Actor.for_user(user).area_q(district_path="districts", program_path="programs")
    visible = set(Organization.objects.filter(q).values_list("code", flat=True))
    assert visible == {"mi-org", "ambos"}


def test_membership_districts_narrow_the_organizations() -> None:
    org = OrganizationFactory.create()
    org.districts.set(District.objects.filter(ubigeo__in=["050407", "050408", "050409"]))
    officer = UserFactory.create(username="tecnico")
    membership_assign(
        user=officer, organization=org, role=Role.FIELD_OFFICER, district_ubigeos=["050408"]
    )
    supervisor = UserFactory.create(username="supervisora")
    membership_assign(user=supervisor, organization=org, role=Role.SUPERVISOR)
    assert visible_districts(Actor.for_user(officer)) == {"050408"}
    assert visible_districts(Actor.for_user(supervisor)) == {"050407", "050408", "050409"}


def test_several_memberships_add_up() -> None:
    user = UserFactory.create()
    for codes in (["080910"], ["120606"]):
        org = OrganizationFactory.create()
        org.districts.set(District.objects.filter(ubigeo__in=codes))
        membership_assign(user=user, organization=org, role=Role.FIELD_OFFICER)
    assert visible_districts(Actor.for_user(user)) == {"080910", "120606"}


def test_inactive_membership_grants_nothing() -> None:
    org = OrganizationFactory.create()
    org.districts.set(District.objects.filter(ubigeo__in=["080910"]))
    user = UserFactory.create()
    membership = membership_assign(user=user, organization=org, role=Role.SUPERVISOR)
    membership.is_active = False
    membership.save()
    actor = Actor.for_user(user)
    assert actor.scopes == frozenset()
    assert visible_districts(actor) == set()


def test_superuser_is_unrestricted_and_anonymous_sees_nothing() -> None:
    admin = UserFactory.create(is_superuser=True)
    actor = Actor.for_user(admin)
    assert actor.has_scope(Scope.COCA_READ)
    assert len(visible_districts(actor)) == 1891
    assert visible_districts(Actor.for_user(None)) == set()


@pytest.mark.parametrize(
    ("role", "scope", "allowed"),
    [
        (Role.FIELD_OFFICER, Scope.HOUSEHOLDS_WRITE, True),
        (Role.FIELD_OFFICER, Scope.HOUSEHOLDS_REVIEW, False),
        (Role.FIELD_OFFICER, Scope.COCA_READ, False),
        (Role.SUPERVISOR, Scope.HOUSEHOLDS_REVIEW, True),
        (Role.SUPERVISOR, Scope.COCA_READ, True),
        (Role.SUPERVISOR, Scope.CONTRACTS_WRITE, False),
        (Role.PROGRAM_STAFF, Scope.CONTRACTS_WRITE, True),
        (Role.PROGRAM_STAFF, Scope.COCA_READ, True),
    ],
)
def test_role_scopes(role: str, scope: str, allowed: bool) -> None:
    assert (scope in ROLE_SCOPES[role]) is allowed
    user = UserFactory.create()
    membership_assign(user=user, organization=OrganizationFactory.create(), role=role)
    assert Actor.for_user(user).has_scope(scope) is allowed


def test_key_scopes_always_include_reference_read(make_key: KeyMaker) -> None:
    api_key, _raw = make_key(scopes=[Scope.TITLES_READ])
    actor = Actor.for_api_key(api_key)
    assert actor.has_scope(Scope.REFERENCE_READ)
    assert actor.has_scope(Scope.TITLES_READ)
    assert not actor.has_scope(Scope.TITLES_WRITE)
