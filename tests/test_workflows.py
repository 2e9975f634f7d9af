"""Every state machine on the workflow kernel, enumerated through the API.

For every machine (title file, contract, delivery, household review, visit review, crop
installation), every (state, target) pair and every party the machine names (plus ``nobody``:
someone who can see the record but holds no party): a move the table does not allow is a 409
``invalid_transition`` with the allowed next states, for each party; an allowed move succeeds for
the parties its ``by`` names (status, version +1, one status-history row where the machine keeps
them, one change record) and is a 403 for everyone else; a refused move changes nothing (status,
version, history rows, change records). A generalisation of tests/titles/test_workflow.py to every
machine.

Adding a machine: give it a builder in ``CASES`` (how to make a record in a state, one API client
per party, its URL and the fields its moves need).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import models
from django.utils import timezone
from rest_framework.test import APIClient

from farmers import services as farmers_services
from farmers.choices import HouseholdStatus, InstallationStatus, VerificationStatus
from farmers.models import Household, Verification
from farmers.services import HOUSEHOLD_FLOW, INSTALLATION_FLOW, VERIFICATION_FLOW
from farmers.workflow import WRITER
from markets.models import ContractStatusChange
from markets.services import CONTRACT_FLOW, DELIVERY_FLOW
from markets.workflow import BUYER, PROGRAMME
from registry.choices import Role, Scope
from registry.exceptions import PermissionDenied
from registry.models import ChangeRecord
from registry.services import membership_assign
from registry.workflow import Flow, Machine, Move
from tests.factories import UserFactory
from tests.farmers.evidence_helpers import PICHARI_FIX, attach_photo, give_plot
from tests.markets.conftest import (
    SYSTEM,
    Market,
    key_client,
    make_contract,
    make_household,
    market,
)
from tests.markets.test_workflow import _delivery_in
from tests.titles.conftest import (
    authority,
    clients,
    make_file,
    officer,
    partner,
    program,
    staff,
)
from titles.models import TitleStatusChange
from titles.services import TITLE_FLOW

__all__ = [  # fixtures imported for the cases below (pytest finds them by name)
    "authority",
    "clients",
    "make_contract",
    "make_file",
    "market",
    "officer",
    "partner",
    "program",
    "staff",
]

NOBODY = "nobody"


@dataclass
class Case:
    """One machine, ready to be driven through the API."""

    flow: Flow[Any]
    make: Callable[[str], models.Model]
    clients: dict[str, APIClient]
    url: Callable[[models.Model], str]
    payload: dict[str, Any]
    history: Callable[[models.Model], int] | None = None
    # The targets the endpoint's serializer accepts (``None``: any); another target is refused
    # there already (400 ``invalid_choice`` on ``to``), before the machine is asked.
    api_targets: frozenset[str] | None = None


def _snapshot(case: Case, record: models.Model) -> tuple[Any, ...]:
    record.refresh_from_db()
    return (
        record.status,  # type: ignore[attr-defined]
        getattr(record, "version", None),
        case.history(record) if case.history is not None else 0,
        ChangeRecord.objects.filter(object_id=str(record.pk)).count(),
    )


# --- the machines --------------------------------------------------------------------------------


def _title_case(request: pytest.FixtureRequest) -> Case:
    title_clients = request.getfixturevalue("clients")
    return Case(
        flow=TITLE_FLOW,
        make=request.getfixturevalue("make_file"),
        clients={
            "officer": title_clients["officer"],
            "programme": title_clients["programme"],
            "authority": title_clients["authority"],
        },
        url=lambda r: f"/api/v1/title-applications/{r.pk}/transition/",
        payload={
            "note": "Nota de prueba",
            "reason": "litigation",
            "partida_number": "11012345",
            "registered_on": date.today().isoformat(),
        },
        history=lambda r: TitleStatusChange.objects.filter(application_id=r.pk).count(),
    )


def _staff_client(world: Market) -> APIClient:
    user = UserFactory.create()
    membership_assign(user=user, organization=world.agency, role=Role.PROGRAM_STAFF)
    client = APIClient()
    client.force_login(user)
    return client


def _market_clients(world: Market) -> dict[str, APIClient]:
    return {
        BUYER: key_client(world.coop, [Scope.CONTRACTS_READ, Scope.CONTRACTS_WRITE]),
        PROGRAMME: _staff_client(world),
        NOBODY: key_client(world.implementer, [Scope.CONTRACTS_READ]),
    }


def _contract_case(request: pytest.FixtureRequest) -> Case:
    world = request.getfixturevalue("market")
    return Case(
        flow=CONTRACT_FLOW,
        make=lambda state: request.getfixturevalue("make_contract")(status=state),
        clients=_market_clients(world),
        url=lambda r: f"/api/v1/contracts/{r.pk}/transition/",
        payload={"reason": "prueba"},
        history=lambda r: ContractStatusChange.objects.filter(contract_id=r.pk).count(),
    )


def _delivery_case(request: pytest.FixtureRequest) -> Case:
    world = request.getfixturevalue("market")
    maker = request.getfixturevalue("make_contract")
    return Case(
        flow=DELIVERY_FLOW,
        make=lambda state: _delivery_in(maker, state),
        clients=_market_clients(world),
        url=lambda r: f"/api/v1/deliveries/{r.pk}/transition/",
        payload={
            "rejection_reason": "fermentation",
            "payment_reference": "TRF-9",
            "paid_on": timezone.localdate().isoformat(),
        },
    )


def _household_in(world: Market, state: str) -> Household:
    household = make_household(world.program, approve=False)
    path: dict[str, list[str]] = {
        HouseholdStatus.PENDING_REVIEW: [],
        HouseholdStatus.ACTIVE: [HouseholdStatus.ACTIVE],
        HouseholdStatus.REJECTED: [HouseholdStatus.REJECTED],
        HouseholdStatus.INACTIVE: [HouseholdStatus.ACTIVE, HouseholdStatus.INACTIVE],
    }
    if state == HouseholdStatus.MERGED:
        Household.objects.filter(pk=household.pk).update(status=state)
        household.refresh_from_db()
        return household
    for to in path[state]:
        household = farmers_services.household_transition(
            actor=SYSTEM, household=household, to=to, reason="prueba", channel="test"
        )
    return household


def _farmers_clients(world: Market) -> dict[str, APIClient]:
    return {
        "reviewer": _staff_client(world),
        NOBODY: key_client(world.implementer, [Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE]),
    }


def _household_case(request: pytest.FixtureRequest) -> Case:
    world = request.getfixturevalue("market")
    return Case(
        flow=HOUSEHOLD_FLOW,
        make=lambda state: _household_in(world, state),
        clients=_farmers_clients(world),
        url=lambda r: f"/api/v1/households/{r.pk}/transition/",
        payload={"reason": "prueba"},
        api_targets=frozenset(
            {HouseholdStatus.ACTIVE, HouseholdStatus.REJECTED, HouseholdStatus.INACTIVE}
        ),
    )


def _visit_in(world: Market, state: str) -> Verification:
    household = make_household(world.program)
    visit, _created = farmers_services.verification_create(
        actor=SYSTEM,
        household=household.pk,
        visited_on=timezone.localdate() - timedelta(days=1),
        method="field_visit",
        coca_ha="0",
        location=PICHARI_FIX,  # a coca-free visit is confirmed with GPS and a photo
        channel="test",
    )
    visit = attach_photo(visit)
    if state != visit.status:
        visit = farmers_services.verification_transition(
            actor=SYSTEM, verification=visit, to=state, reason="prueba"
        )
    return visit


def _visit_case(request: pytest.FixtureRequest) -> Case:
    world = request.getfixturevalue("market")
    return Case(
        flow=VERIFICATION_FLOW,
        make=lambda state: _visit_in(world, state),
        clients=_farmers_clients(world),
        url=lambda r: f"/api/v1/verifications/{r.pk}/transition/",
        payload={"reason": "prueba"},
        api_targets=frozenset({VerificationStatus.CONFIRMED, VerificationStatus.REJECTED}),
    )


def _installation_in(world: Market, state: str) -> Any:
    household = make_household(world.program)
    plot = give_plot(household.pk)
    record, _created = farmers_services.installation_create(
        actor=SYSTEM,
        plot=plot.pk,
        crop="cacao",
        variety="ccn51",
        area_ha="1",
        plants=1000,
        planting_date=date(2019, 1, 1),
        channel="test",
    )
    if state != record.status:
        if state == InstallationStatus.LOST:
            record = farmers_services.installation_transition(
                actor=SYSTEM, installation=record, to=InstallationStatus.PRODUCING
            )
        record = farmers_services.installation_transition(
            actor=SYSTEM, installation=record, to=state, reason="prueba"
        )
    return record


def _installation_case(request: pytest.FixtureRequest) -> Case:
    world = request.getfixturevalue("market")
    return Case(
        flow=INSTALLATION_FLOW,
        make=lambda state: _installation_in(world, state),
        clients={
            WRITER: key_client(world.implementer, [Scope.HOUSEHOLDS_READ, Scope.HOUSEHOLDS_WRITE]),
            NOBODY: key_client(world.implementer, [Scope.HOUSEHOLDS_READ]),
        },
        url=lambda r: f"/api/v1/crop-installations/{r.pk}/transition/",
        payload={"reason": "prueba"},
        api_targets=frozenset({InstallationStatus.PRODUCING, InstallationStatus.LOST}),
    )


CASES: dict[str, Callable[[pytest.FixtureRequest], Case]] = {
    TITLE_FLOW.machine.name: _title_case,
    CONTRACT_FLOW.machine.name: _contract_case,
    DELIVERY_FLOW.machine.name: _delivery_case,
    HOUSEHOLD_FLOW.machine.name: _household_case,
    VERIFICATION_FLOW.machine.name: _visit_case,
    INSTALLATION_FLOW.machine.name: _installation_case,
}
FLOWS: list[Flow[Any]] = [
    TITLE_FLOW,
    CONTRACT_FLOW,
    DELIVERY_FLOW,
    HOUSEHOLD_FLOW,
    VERIFICATION_FLOW,
    INSTALLATION_FLOW,
]
TRIPLES = [
    pytest.param(flow.machine.name, state, target, id=f"{flow.machine.name}:{state}->{target}")
    for flow in FLOWS
    for state, target in itertools.product(flow.machine.states, flow.machine.states)
]


# --- the tests -----------------------------------------------------------------------------------


def test_every_machine_has_a_case_and_its_tables_hold() -> None:
    assert set(CASES) == {flow.machine.name for flow in FLOWS}
    for flow in FLOWS:
        machine = flow.machine
        assert machine.terminal_states(), machine.name
        for state, targets in machine.moves.items():
            assert set(targets) <= set(machine.states)
            for move in targets.values():
                assert move.by and move.by <= machine.parties, (machine.name, state)
                # Every required field has its rule, every guard its callable (the Flow checks
                # it when built; nothing checks a move's fields by hand beside the table).
                assert set(move.requires) <= set(flow.fields)
                assert set(move.guards) <= set(flow.who) | set(flow.guards)


def test_a_flow_refuses_a_table_it_cannot_check() -> None:
    machine = Machine(
        "demo",
        {"a": {"b": Move(frozenset({"x"}), requires=("why",))}, "b": {}},
        parties=frozenset({"x"}),
    )
    with pytest.raises(ValueError, match="no rule for required"):
        Flow(
            machine=machine,
            lock=lambda a, r: r,
            parties=lambda s: (),
            denied=lambda s: PermissionDenied(),
        )
    with pytest.raises(ValueError, match="unknown target"):
        Machine("demo", {"a": {"c": Move(frozenset({"x"}))}}, parties=frozenset({"x"}))
    with pytest.raises(ValueError, match="unknown parties"):
        Machine("demo", {"a": {"a": Move(frozenset({"y"}))}}, parties=frozenset({"x"}))


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "state", "target"), TRIPLES)
def test_every_state_target_party(
    name: str, state: str, target: str, request: pytest.FixtureRequest
) -> None:
    case = CASES[name](request)
    flow = case.flow
    record = case.make(state)
    assert record.status == state  # type: ignore[attr-defined]
    allowed = flow.allowed(record)
    move = flow.machine.move(state, target)
    parties = sorted(flow.machine.parties)
    assert set(parties) <= set(case.clients), "a client per party"
    if target not in allowed:
        for party in parties:
            before = _snapshot(case, record)
            response = case.clients[party].post(
                case.url(record), {"to": target, **case.payload}, format="json"
            )
            error = response.json()["errors"][0]
            if case.api_targets is not None and target not in case.api_targets:
                assert response.status_code == 400, (party, response.json())
                assert (error["code"], error["attr"]) == ("invalid_choice", "to")
            else:
                assert response.status_code == 409, (party, response.json())
                assert error["code"] == "invalid_transition"
                assert error["allowed"] == allowed
            assert _snapshot(case, record) == before
        return
    assert move is not None
    for party in [*parties, NOBODY]:
        if party in move.by or party not in case.clients:
            continue
        before = _snapshot(case, record)
        response = case.clients[party].post(
            case.url(record), {"to": target, **case.payload}, format="json"
        )
        assert response.status_code == 403, (party, response.json())
        assert _snapshot(case, record) == before
    for party in parties:
        if party not in move.by:
            continue
        fresh = case.make(state)
        before = _snapshot(case, fresh)
        response = case.clients[party].post(
            case.url(fresh), {"to": target, **case.payload}, format="json"
        )
        assert response.status_code == 200, (party, response.json())
        assert response.json()["status"] == target
        after = _snapshot(case, fresh)
        assert after[0] == target
        if flow.versioned:
            assert after[1] == before[1] + 1
        if case.history is not None:
            assert after[2] == before[2] + 1
        assert after[3] == before[3] + 1
        record_ = ChangeRecord.objects.filter(object_id=str(fresh.pk)).latest("id")
        assert record_.changes["status"] == [state, target]
