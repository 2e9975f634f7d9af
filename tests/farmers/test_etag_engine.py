"""ETags through the transition engine: the engine moves ``stage`` and ``milestones`` without
touching ``version``, and a partner caching with ``If-None-Match`` must still see the move
(issue 14). The ETag is opaque: a digest of the whole representation."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from farmers.choices import Stage
from farmers.models import Household
from farmers.transition import engine
from farmers.transition.rules import HouseholdEvidence, Visit
from registry.choices import Scope
from registry.models import Program
from tests.farmers.conftest import WRITE, ClientMaker
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"
MOVED_ON = date(2025, 1, 1)


def _household_the_engine_will_move(program: Program) -> Household:
    """Enrolled in the table, with the evidence for licit production on ``MOVED_ON``."""
    return make_household(
        program,
        HouseholdEvidence(
            household_id=None,
            registered_on=date(2023, 1, 10),
            agreements=[date(2024, 1, 1)],
            visits=[Visit(date(2024, 3, 1), Decimal("0"), Decimal("2"))],
        ),
    )


def test_a_stage_change_by_the_engine_changes_the_etag(
    program: Program, client_for: ClientMaker
) -> None:
    household = _household_the_engine_will_move(program)
    client = client_for([*WRITE, Scope.COCA_READ])  # the stage is coca data (issue 15)
    url = f"{URL}{household.pk}/"
    before = client.get(url)
    assert before.status_code == 200, before.content
    assert before.json()["stage"] == Stage.ENROLLED
    old = before["ETag"]
    assert client.get(url, HTTP_IF_NONE_MATCH=old).status_code == 304

    engine.recompute_households([household.pk], today=MOVED_ON)
    moved = Household.objects.get(pk=household.pk)
    assert moved.stage == Stage.LICIT_PRODUCTION
    assert moved.version == household.version  # the engine leaves the version alone

    after = client.get(url, HTTP_IF_NONE_MATCH=old)
    assert after.status_code == 200
    body = after.json()
    assert body["stage"] == Stage.LICIT_PRODUCTION
    assert body["milestones"] == moved.milestones != before.json()["milestones"]
    new = after["ETag"]
    assert new != old
    assert client.get(url, HTTP_IF_NONE_MATCH=new).status_code == 304

    # A write holding the copy from before the engine's move is stale: 412, nothing written.
    stale = client.patch(url, {"community": "Otra"}, HTTP_IF_MATCH=old)
    assert stale.status_code == 412
    assert stale.json()["errors"][0]["code"] == "precondition_failed"
    assert Household.objects.get(pk=household.pk).community == household.community

    # The ETag of the current representation is accepted, and the response tags the new one.
    ok = client.patch(url, {"community": "Puerto Ene"}, HTTP_IF_MATCH=new)
    assert ok.status_code == 200, ok.content
    assert ok.json()["community"] == "Puerto Ene"
    assert ok["ETag"] not in (old, new)
    assert client.get(url)["ETag"] == ok["ETag"]


def test_a_recompute_that_moves_nothing_keeps_the_etag(
    program: Program, client_for: ClientMaker
) -> None:
    household = _household_the_engine_will_move(program)
    engine.recompute_households([household.pk], today=MOVED_ON)
    client = client_for([*WRITE, Scope.COCA_READ])  # the stage is coca data (issue 15)
    url = f"{URL}{household.pk}/"
    etag = client.get(url)["ETag"]
    assert engine.recompute_households([household.pk], today=MOVED_ON) == 0
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304
