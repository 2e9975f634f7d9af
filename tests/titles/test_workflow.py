"""The title workflow, enumerated: every (state, target) pair through the API, for each party.

Allowed moves succeed for the parties the table names and give 403 to the others; every other
pair gives 409 ``invalid_transition`` with the allowed next states. A refused move changes
nothing (status, version, history).
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from registry.models import ChangeRecord
from titles.choices import TitleStatus
from titles.models import TitleApplication, TitleStatusChange
from titles.services import next_states
from titles.workflow import (
    ACTOR_PARTIES,
    REQUIRED_DOCUMENTS,
    STATE_PARTY,
    TITLE_TRANSITIONS,
    allowed_moves,
    terminal_states,
)

from .conftest import FileMaker

S = TitleStatus
PAYLOAD: dict[str, Any] = {
    "note": "Nota de prueba",
    "reason": "litigation",
    "partida_number": "11012345",
    "registered_on": date.today().isoformat(),
}


def test_table_covers_every_state_and_only_known_states() -> None:
    assert set(TITLE_TRANSITIONS) == set(S.values)
    assert set(STATE_PARTY) == set(S.values)
    for moves in TITLE_TRANSITIONS.values():
        assert set(moves) <= set(S.values)
        for move in moves.values():
            assert move.by and move.by <= set(ACTOR_PARTIES)
    assert terminal_states() == {S.REGISTERED, S.REJECTED, S.WITHDRAWN}
    assert set(REQUIRED_DOCUMENTS) == {S.SUBMITTED, S.SURVEYED}


def test_every_non_terminal_state_can_be_withdrawn_and_observed_returns_home() -> None:
    for state in set(S.values) - terminal_states():
        assert S.WITHDRAWN in allowed_moves(state)
    assert {S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW} <= set(allowed_moves(S.OBSERVED))
    for origin in (S.SUBMITTED, S.SURVEYED, S.LEGAL_REVIEW):
        assert S.OBSERVED in allowed_moves(origin)
    # ``objected`` is reached only by filing an objection.
    assert S.OBJECTED not in allowed_moves(S.PUBLIC_NOTICE)


PAIRS = list(itertools.product(S.values, S.values))


def _snapshot(application: TitleApplication) -> tuple[Any, ...]:
    application.refresh_from_db()
    return (
        application.status,
        application.version,
        TitleStatusChange.objects.filter(application=application).count(),
        ChangeRecord.objects.filter(object_id=str(application.pk)).count(),
    )


@pytest.mark.parametrize(("state", "target"), PAIRS)
def test_every_state_target_pair(
    state: str, target: str, make_file: FileMaker, clients: dict[str, Any]
) -> None:
    application = make_file(state)
    assert application.status == state
    allowed = target in next_states(application)
    move = TITLE_TRANSITIONS[state].get(target)
    parties = ("officer", "programme", "authority")
    if not allowed:
        for party in parties:
            before = _snapshot(application)
            response = clients[party].post(
                f"/api/v1/title-applications/{application.pk}/transition/",
                {"to": target, **PAYLOAD},
                format="json",
            )
            assert response.status_code == 409, (party, response.json())
            error = response.json()["errors"][0]
            assert error["code"] == "invalid_transition"
            assert error["allowed"] == next_states(application)
            assert _snapshot(application) == before
        return
    assert move is not None
    for party in parties:
        if party in move.by:
            continue
        before = _snapshot(application)
        response = clients[party].post(
            f"/api/v1/title-applications/{application.pk}/transition/",
            {"to": target, **PAYLOAD},
            format="json",
        )
        assert response.status_code == 403, (party, response.json())
        assert _snapshot(application) == before
    for party in parties:
        if party not in move.by:
            continue
        fresh = make_file(state)
        before = _snapshot(fresh)
        response = clients[party].post(
            f"/api/v1/title-applications/{fresh.pk}/transition/",
            {"to": target, **PAYLOAD},
            format="json",
        )
        assert response.status_code == 200, (party, response.json())
        assert response.json()["status"] == target
        after = _snapshot(fresh)
        assert after[1] == before[1] + 1 and after[2] == before[2] + 1 and after[3] == before[3] + 1
        change = TitleStatusChange.objects.filter(application=fresh).latest("at", "id")
        assert (change.from_status, change.to_status) == (state, target)
        assert change.created_by_id is not None or change.created_by_key_id is not None
