"""A partner's key, organization and area resolved once and cached (issue 19): no query for
them on the next request, and every change to the key, the organization, its districts or
programmes, or a programme's agency seen on the very next request."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from registry import credentials, degraded
from registry.actors import Actor
from registry.choices import OrganizationKind, Scope
from registry.models import ApiKey, Organization, Program
from registry.services import (
    api_key_authenticate,
    api_key_revoke,
    organization_areas_set,
    organization_update,
    program_upsert,
)
from tests.conftest import KeyMaker
from tests.factories import OrganizationFactory, ProgramFactory, UserFactory

pytestmark = pytest.mark.django_db

DISTRICTS = "/api/v1/districts/"


def resolve(raw: str) -> tuple[ApiKey, Actor, int]:
    """Authenticate ``raw`` and build its actor's areas; the number of queries it took."""
    with CaptureQueriesContext(connection) as queries:
        api_key = api_key_authenticate(raw)
        actor = Actor.for_api_key(api_key)
        assert actor.areas is not None
    return api_key, actor, len(queries.captured_queries)


def districts_of(actor: Actor) -> set[str]:
    return {d for area in actor.areas for d in (area.districts or ())}


def programs_of(actor: Actor) -> set[int]:
    return {p for area in actor.areas for p in (area.programs or ())}


@pytest.fixture
def admin() -> Actor:
    return Actor.for_user(UserFactory.create(username="plataforma", is_superuser=True))


def test_second_request_spends_no_query_on_the_key(make_key: KeyMaker) -> None:
    _api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    _key, actor, first = resolve(raw)
    assert first >= 3  # key + organization, its districts, its programmes (+ last used)
    assert districts_of(actor) == {"080910", "080907"}
    _key, again, queries = resolve(raw)
    assert queries == 0
    assert districts_of(again) == {"080910", "080907"}
    assert again.has_scope(Scope.HOUSEHOLDS_READ)


def test_districts_changed_by_the_service_are_seen_at_once(
    make_key: KeyMaker, organization: Organization, admin: Actor
) -> None:
    _api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    resolve(raw)
    organization_areas_set(
        organization=organization, district_ubigeos=["080910"], program_ids=[], actor=admin
    )
    _key, actor, queries = resolve(raw)
    assert queries > 0
    assert districts_of(actor) == {"080910"}
    assert resolve(raw)[2] == 0


def test_programmes_assigned_or_run_are_seen_at_once(
    make_key: KeyMaker, organization: Organization, admin: Actor
) -> None:
    _api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    assert programs_of(resolve(raw)[1]) == set()
    program = ProgramFactory.create(code="pirdais-x")
    organization_areas_set(
        organization=organization,
        district_ubigeos=["080910", "080907"],
        program_ids=[program.pk],
        actor=admin,
    )
    assert programs_of(resolve(raw)[1]) == {program.pk}
    # A programme the organization comes to run (its agency) is in its area too.
    other = OrganizationFactory.create(code="otra-agencia", kind=OrganizationKind.PROGRAM_AGENCY)
    run, _created = program_upsert(
        code="propio", name="Propio", agency_code=other.code, actor=admin
    )
    assert programs_of(resolve(raw)[1]) == {program.pk}
    program_upsert(code="propio", name="Propio", agency_code=organization.code, actor=admin)
    assert programs_of(resolve(raw)[1]) == {program.pk, run.pk}
    organization.programs.remove(program)
    assert programs_of(resolve(raw)[1]) == {run.pk}
    Program.objects.get(pk=run.pk).delete()
    assert programs_of(resolve(raw)[1]) == set()


def test_revoked_key_is_refused_on_its_next_request(
    api_client: APIClient, make_key: KeyMaker
) -> None:
    api_key, raw = make_key()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS).status_code == 200
    assert api_client.get(DISTRICTS).status_code == 200
    api_key_revoke(api_key=api_key)
    response = api_client.get(DISTRICTS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "revoked_api_key"


def test_deactivated_organization_is_refused_on_its_next_request(
    api_client: APIClient, make_key: KeyMaker, organization: Organization, admin: Actor
) -> None:
    _api_key, raw = make_key()
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS).status_code == 200
    organization_update(
        organization=organization, data={"is_active": False}, expected_version=None, actor=admin
    )
    response = api_client.get(DISTRICTS)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "inactive_organization"


def test_changed_scopes_are_seen_at_once(make_key: KeyMaker) -> None:
    api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    assert not resolve(raw)[1].has_scope(Scope.COCA_READ)
    api_key.scopes = [*api_key.scopes, Scope.COCA_READ]
    api_key.save(update_fields=["scopes"])
    assert resolve(raw)[1].has_scope(Scope.COCA_READ)


def test_the_commit_forgets_what_was_read_before_it(
    make_key: KeyMaker,
    organization: Organization,
    admin: Actor,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A request that read the area between the change and its commit cached the old one: the
    commit sets a new generation again, so that entry no longer counts."""
    _api_key, raw = make_key(scopes=[Scope.HOUSEHOLDS_READ])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        organization_areas_set(
            organization=organization, district_ubigeos=["080910"], program_ids=[], actor=admin
        )
        before_commit = cache.get(credentials.GENERATION_KEY)
        resolve(raw)  # as if another request read it now
    assert callbacks
    assert cache.get(credentials.GENERATION_KEY) != before_commit
    assert resolve(raw)[2] > 0


def test_a_lost_generation_reloads_the_key(make_key: KeyMaker) -> None:
    _api_key, raw = make_key()
    resolve(raw)
    cache.delete(credentials.GENERATION_KEY)
    assert resolve(raw)[2] > 0
    assert resolve(raw)[2] == 0


def test_without_the_cache_keys_come_from_the_database(
    api_client: APIClient, make_key: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    api_key, raw = make_key()

    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache down")

    monkeypatch.setattr(cache, "get_many", down)
    # On Redis the read goes in one pipeline with the throttle's count: that fails too.
    monkeypatch.setattr(credentials, "_round_trip", down)
    api_client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert api_client.get(DISTRICTS).status_code == 200
    assert degraded.is_down("cache")
    api_key_revoke(api_key=api_key)
    assert api_client.get(DISTRICTS).status_code == 401


def test_a_new_key_or_organization_keeps_the_others_cached(make_key: KeyMaker) -> None:
    _api_key, raw = make_key()
    resolve(raw)
    make_key(scopes=[Scope.HOUSEHOLDS_READ])
    OrganizationFactory.create(code="recien-llegada")
    assert resolve(raw)[2] == 0
