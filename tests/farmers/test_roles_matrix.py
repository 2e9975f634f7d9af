"""Role × action × scope matrix for people signed in with a session (API.md, DESIGN.md §2,
ROLE_SCOPES): field officer, supervisor and programme staff of the implementer, a member of
another implementer, and a superuser. Every successful write leaves a ChangeRecord naming the
person who made it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from registry.choices import Role
from registry.models import AccessLog, ChangeRecord, Organization
from registry.services import membership_assign
from tests.factories import UserFactory
from tests.farmers.conftest import household_payload

pytestmark = pytest.mark.django_db

HOUSEHOLDS = "/api/v1/households/"
PICHARI, KIMBIRI = "080910", "080907"

# A chacra of about one hectare east of Pichari (lon, lat).
CHACRA = [
    [-73.9799632, -12.5199729],
    [-73.9790431, -12.52],
    [-73.9789603, -12.5194848],
    [-73.9791167, -12.5190147],
    [-73.9796964, -12.5190509],
    [-73.98, -12.5195119],
    [-73.9799632, -12.5199729],
]


def head(given: str, surnames: str, dni: str, sex: str, born: str) -> list[dict[str, Any]]:
    return [
        {
            "given_names": given,
            "surnames": surnames,
            "document_type": "dni",
            "document_number": dni,
            "sex": sex,
            "birth_date": born,
            "relationship": "head",
        }
    ]


@dataclass
class World:
    """What every cell of the matrix acts on: households registered by a field officer."""

    registrar: Any
    pichari: dict[str, Any]  # Juana Quispe's household, Natividad (Pichari)
    kimbiri: dict[str, Any]  # Wilber Condori's household (Kimbiri)
    agreement: dict[str, Any]  # Juana's reduction agreement


def person(
    username: str, organization: Organization | None, role: str | None, districts: list[str]
) -> Any:
    user = UserFactory.create(username=username, first_name="Elmer", last_name="Rojas Palomino")
    if organization is not None and role is not None:
        membership_assign(
            user=user, organization=organization, role=role, district_ubigeos=districts
        )
    return user


def session(user: Any) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


@pytest.fixture
def world(partner: Organization) -> World:
    registrar = person("registrador", partner, Role.FIELD_OFFICER, [PICHARI, KIMBIRI])
    client = session(registrar)
    pichari = client.post(HOUSEHOLDS, household_payload(), format="json")
    kimbiri = client.post(
        HOUSEHOLDS,
        household_payload(
            district=KIMBIRI,
            community="Palmapampa",
            members=head("Wilber", "Condori Apaza", "45678912", "m", "1979-08-03"),
        ),
        format="json",
    )
    assert (pichari.status_code, kimbiri.status_code) == (201, 201), kimbiri.content
    agreement = client.post(
        "/api/v1/agreements/",
        {"household": pichari.json()["id"], "signed_on": "2026-03-01", "coca_ha_committed": "0.75"},
        format="json",
    )
    assert agreement.status_code == 201
    return World(registrar, pichari.json(), kimbiri.json(), agreement.json())


ROLES = ["field_officer", "supervisor", "program_staff", "outsider", "superuser"]


def make_user(role: str, partner: Organization, other_partner: Organization) -> Any:
    """The person acting in a cell: a field officer is assigned Pichari only; the supervisor
    and programme staff cover the implementer's districts (Pichari, Kimbiri); the outsider is
    programme staff of another implementer (Sivia, Llochegua)."""
    if role == "field_officer":
        return person("tecnico", partner, Role.FIELD_OFFICER, [PICHARI])
    if role == "supervisor":
        return person("supervisora", partner, Role.SUPERVISOR, [])
    if role == "program_staff":
        return person("especialista", partner, Role.PROGRAM_STAFF, [])
    if role == "outsider":
        return person("ajeno", other_partner, Role.PROGRAM_STAFF, [])
    user = person("raiz", None, None, [])
    user.is_staff = user.is_superuser = True
    user.save()
    return user


# --- actions: each returns the response and, for writes, the (model, id, action) recorded -----

Written = tuple[str, str, str] | None
ActionFn = Callable[[APIClient, World], tuple[Any, Written]]


def _created(response: Any, model: str) -> Written:
    return (model, response.json()["id"], "create") if response.status_code == 201 else None


def list_households(client: APIClient, world: World) -> tuple[Any, Written]:
    return client.get(f"{HOUSEHOLDS}?district={PICHARI}"), None


def retrieve(client: APIClient, world: World) -> tuple[Any, Written]:
    return client.get(f"{HOUSEHOLDS}{world.pichari['id']}/"), None


def retrieve_kimbiri(client: APIClient, world: World) -> tuple[Any, Written]:
    return client.get(f"{HOUSEHOLDS}{world.kimbiri['id']}/"), None


def register(client: APIClient, world: World) -> tuple[Any, Written]:
    payload = household_payload(
        community="Villa Kintiarina",
        members=head("Rosa", "Ccori Yupanqui", "40123456", "f", "1986-02-14"),
    )
    response = client.post(HOUSEHOLDS, payload, format="json")
    return response, _created(response, "household")


def register_kimbiri(client: APIClient, world: World) -> tuple[Any, Written]:
    payload = household_payload(
        district=KIMBIRI,
        community="Lobo Tahuantinsuyo",
        members=head("Teófilo", "Huamaní Pariona", "43345678", "m", "1972-10-30"),
    )
    response = client.post(HOUSEHOLDS, payload, format="json")
    return response, _created(response, "household")


def patch(client: APIClient, world: World) -> tuple[Any, Written]:
    url = f"{HOUSEHOLDS}{world.pichari['id']}/"
    response = client.patch(url, {"community": "Puerto Ene"}, format="json")
    written = ("household", world.pichari["id"], "update") if response.status_code == 200 else None
    return response, written


def approve(client: APIClient, world: World) -> tuple[Any, Written]:
    url = f"{HOUSEHOLDS}{world.pichari['id']}/transition/"
    response = client.post(url, {"to": "active"}, format="json")
    ok = response.status_code == 200
    return response, ("household", world.pichari["id"], "transition") if ok else None


def create_plot(client: APIClient, world: World) -> tuple[Any, Written]:
    payload = {
        "household": world.pichari["id"],
        "name": "Chacra Alta",
        "tenure": "possession",
        "geometry": {"type": "Polygon", "coordinates": [CHACRA]},
    }
    response = client.post("/api/v1/plots/", payload, format="json")
    return response, _created(response, "plot")


def create_agreement(client: APIClient, world: World) -> tuple[Any, Written]:
    payload = {
        "household": world.pichari["id"],
        "signed_on": "2026-06-01",
        "coca_ha_committed": "0.50",
    }
    response = client.post("/api/v1/agreements/", payload, format="json")
    return response, _created(response, "agreement")


def read_coca(client: APIClient, world: World) -> tuple[Any, Written]:
    return client.get(f"/api/v1/agreements/{world.agreement['id']}/"), None


ACTIONS: dict[str, ActionFn] = {
    "list": list_households,
    "retrieve": retrieve,
    "retrieve_kimbiri": retrieve_kimbiri,
    "register": register,
    "register_kimbiri": register_kimbiri,
    "patch": patch,
    "approve": approve,
    "create_plot": create_plot,
    "create_agreement": create_agreement,
    "read_coca": read_coca,
}

# Outcomes: ok (200), created (201), forbidden (403), not_found (404), out_of_area (400 on
# district), visible / hidden (the household is or is not listed), shown / hidden (coca).
# fmt: off
TABLE: list[tuple[str, str, str, str, str, str]] = [
    # action            field_officer  supervisor  program_staff  outsider       superuser
    ("list",             "visible",     "visible",  "visible",     "hidden",      "visible"),
    ("retrieve",         "ok",          "ok",       "ok",          "not_found",   "ok"),
    ("retrieve_kimbiri", "not_found",   "ok",       "ok",          "not_found",   "ok"),
    ("register",         "created",     "created",  "created",     "out_of_area", "created"),
    ("register_kimbiri", "out_of_area", "created",  "created",     "out_of_area", "created"),
    ("patch",            "ok",          "ok",       "ok",          "not_found",   "ok"),
    ("approve",          "forbidden",   "ok",       "ok",          "not_found",   "ok"),
    ("create_plot",      "created",     "created",  "created",     "not_found",   "created"),
    ("create_agreement", "created",     "created",  "created",     "not_found",   "created"),
    ("read_coca",        "hidden",      "shown",    "shown",       "not_found",   "shown"),
]
# fmt: on
MATRIX = {row[0]: dict(zip(ROLES, row[1:], strict=True)) for row in TABLE}

STATUS = {"ok": 200, "created": 201, "forbidden": 403, "not_found": 404, "out_of_area": 400}
CELLS = [(role, action) for action in ACTIONS for role in ROLES]


@pytest.mark.parametrize(("role", "action"), CELLS, ids=[f"{r}-{a}" for r, a in CELLS])
def test_role_action_matrix(
    partner: Organization, other_partner: Organization, world: World, role: str, action: str
) -> None:
    user = make_user(role, partner, other_partner)
    expected = MATRIX[action][role]
    before = ChangeRecord.objects.count()
    response, written = ACTIONS[action](session(user), world)

    if action == "list":
        assert response.status_code == 200
        ids = [h["id"] for h in response.json()["results"]]
        assert ids == ([world.pichari["id"]] if expected == "visible" else [])
    elif action == "read_coca" and expected in ("shown", "hidden"):
        assert response.status_code == 200, response.content
        body = response.json()
        logged = AccessLog.objects.filter(created_by=user, resource="agreements")
        if expected == "shown":
            assert body["coca_ha_committed"] == "0.7500"
            assert list(logged.values_list("object_ids", flat=True)) == [[world.agreement["id"]]]
        else:
            assert "coca_ha_committed" not in body
            assert not logged.exists()
    else:
        assert response.status_code == STATUS[expected], response.content
        if expected == "out_of_area":
            codes = {(e["attr"], e["code"]) for e in response.json()["errors"]}
            assert codes == {("district", "out_of_area")}

    if written is None:
        assert ChangeRecord.objects.count() == before
    else:
        model, object_id, change = written
        record = ChangeRecord.objects.get(
            content_type__model=model, object_id=object_id, action=change, created_by=user
        )
        assert record.created_by_key is None
        assert record.channel == "api"


def test_matrix_covers_every_role_and_action() -> None:
    assert set(MATRIX) == set(ACTIONS)
    assert all(set(row) == set(ROLES) for row in MATRIX.values())


@pytest.mark.parametrize("role", ["supervisor", "program_staff", "superuser"])
def test_reviewers_cannot_approve_their_own_registration(
    partner: Organization, other_partner: Organization, role: str
) -> None:
    user = make_user(role, partner, other_partner)
    client = session(user)
    created = client.post(HOUSEHOLDS, household_payload(), format="json")
    assert created.status_code == 201, created.content
    url = f"{HOUSEHOLDS}{created.json()['id']}/transition/"
    own = client.post(url, {"to": "active"}, format="json")
    assert own.status_code == 403
    assert {e["code"] for e in own.json()["errors"]} == {"maker_checker"}
    assert client.get(f"{HOUSEHOLDS}{created.json()['id']}/").json()["status"] == "pending_review"
    assert not ChangeRecord.objects.filter(
        object_id=created.json()["id"], action="transition"
    ).exists()


def test_a_role_in_one_organization_grants_nothing_in_another(
    partner: Organization, other_partner: Organization, world: World
) -> None:
    """A field officer of the implementer who is also a supervisor for another implementer
    reviews and reads coca only in the other implementer's area: roles are per organization."""
    user = person("doble.rol", partner, Role.FIELD_OFFICER, [PICHARI])
    membership_assign(user=user, organization=other_partner, role=Role.SUPERVISOR)
    client = session(user)
    assert client.get(f"{HOUSEHOLDS}{world.pichari['id']}/").status_code == 200
    approve_response = client.post(
        f"{HOUSEHOLDS}{world.pichari['id']}/transition/", {"to": "active"}, format="json"
    )
    assert approve_response.status_code == 403, approve_response.content
    coca = client.get(f"/api/v1/agreements/{world.agreement['id']}/").json()
    assert "coca_ha_committed" not in coca
    assert not AccessLog.objects.filter(created_by=user).exists()


def test_people_without_membership_see_nothing(world: World) -> None:
    nobody: AbstractBaseUser = UserFactory.create(username="sin.rol")
    client = session(nobody)
    assert client.get(HOUSEHOLDS).status_code == 403
    assert client.get(f"{HOUSEHOLDS}{world.pichari['id']}/").status_code == 403
    assert client.post(HOUSEHOLDS, household_payload(), format="json").status_code == 403
