"""The per-request work of a partner's call made lean (issue 19 point 6): the throttle's
sliding-window counter, and the key with the address's brute-force counter read in one cache
round trip (the access-log writer: ``tests/farmers/test_lean_list.py``)."""

from __future__ import annotations

from typing import Any

import pytest
import redis.client
from django.core.cache import cache
from rest_framework.test import APIClient

from registry.api.throttling import ClientRateThrottle
from registry.choices import Scope
from tests.conftest import KeyMaker

DISTRICTS = "/api/v1/districts/"


class Clock:
    """A throttle timer the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    cache.clear()
    # The start of a minute window, far from any other test's counters.
    ticking = Clock(60 * 40_000_000.0)
    monkeypatch.setattr(ClientRateThrottle, "timer", ticking)
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "3/min"})
    return ticking


def _codes(client: APIClient, clock: Clock, at: list[float]) -> list[tuple[int, str | None]]:
    start = 60 * 40_000_000.0
    answers = []
    for offset in at:
        clock.now = start + offset
        response = client.get(DISTRICTS)
        answers.append((response.status_code, response.get("Retry-After")))
    return answers


@pytest.mark.django_db
def test_sliding_window_counter_lets_the_rate_through_and_no_more(
    clock: Clock, make_key: KeyMaker
) -> None:
    _key, raw = make_key(scopes=[Scope.REFERENCE_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    answers = _codes(client, clock, [0, 10, 20, 30, 31])
    assert [code for code, _wait in answers] == [200, 200, 200, 429, 429]
    # Three in this window already: the next one waits for the next window (30 s away).
    assert answers[3][1] == "30"
    assert answers[4][1] == "29"
    # In the next window the previous one weighs by the part of it still inside the last 60 s:
    # at 1:01, 3 × 59/60 + 0 < 3 (the request at 0:00 has slid out); at 1:21,
    # 3 × 39/60 + 1 < 3; at 1:22, 3 × 38/60 + 2 ≥ 3: refused until 3 × (1 − t/60) + 2 < 3,
    # after 1:40 (19 s on).
    later = _codes(client, clock, [61, 81, 82])
    assert [code for code, _wait in later] == [200, 200, 429]
    assert later[2][1] == "19"
    # Another key has a budget of its own.
    _other, other_raw = make_key(scopes=[Scope.REFERENCE_READ])
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {other_raw}")
    assert _codes(other, clock, [83])[0][0] == 200


class RedisCalls:
    """Round trips to Redis: single commands and pipelines."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __enter__(self) -> RedisCalls:
        self._command = redis.client.Redis._execute_command
        self._pipeline = redis.client.Pipeline.execute
        calls = self.calls
        command, pipeline = self._command, self._pipeline

        def counted_command(client: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append(str(args[0]))
            return command(client, *args, **kwargs)

        def counted_pipeline(pipe: Any, *args: Any, **kwargs: Any) -> Any:
            calls.append("pipeline:" + ",".join(str(c[0][0]) for c in pipe.command_stack))
            return pipeline(pipe, *args, **kwargs)

        redis.client.Redis._execute_command = counted_command  # type: ignore[method-assign,assignment]
        redis.client.Pipeline.execute = counted_pipeline  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: Any) -> None:
        redis.client.Redis._execute_command = self._command  # type: ignore[method-assign]
        redis.client.Pipeline.execute = self._pipeline  # type: ignore[method-assign]


@pytest.mark.redis
@pytest.mark.django_db
def test_a_partner_request_makes_one_redis_round_trip(
    make_key: KeyMaker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ClientRateThrottle, "THROTTLE_RATES", {"client": "1000/min"})
    _key, raw = make_key(scopes=[Scope.REFERENCE_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert client.get(DISTRICTS).status_code == 200  # the key is now cached
    with RedisCalls() as redis_calls:
        assert client.get(DISTRICTS).status_code == 200
    # One pipeline: the address's brute-force counter, the key's entry, the generation and the
    # throttle's previous window read (MGET), the throttle's current window counted.
    assert redis_calls.calls == ["pipeline:MGET,INCRBY,EXPIRE"]


@pytest.mark.redis
@pytest.mark.django_db
def test_the_redis_throttle_counts_like_the_local_one(clock: Clock, make_key: KeyMaker) -> None:
    _key, raw = make_key(scopes=[Scope.REFERENCE_READ])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert [code for code, _w in _codes(client, clock, [0, 1, 2, 3])] == [200, 200, 200, 429]


@pytest.mark.redis
@pytest.mark.django_db
def test_an_address_over_its_limit_is_refused_from_the_same_round_trip(
    make_key: KeyMaker, settings: Any
) -> None:
    settings.API_KEY_FAILURE_LIMIT = 2
    cache.clear()
    _key, raw = make_key(scopes=[Scope.REFERENCE_READ])
    bad = APIClient()
    bad.credentials(HTTP_AUTHORIZATION="Api-Key abcdefghijkl.wrong")
    assert [bad.get(DISTRICTS).status_code for _ in range(2)] == [401, 401]
    good = APIClient()
    good.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    with RedisCalls() as redis_calls:
        refused = good.get(DISTRICTS)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["code"] == "too_many_failed_attempts"
    # Refused from the one round trip: no key looked up in the database, no failure counted,
    # and the throttle's count taken back (the key's budget is not spent by a refusal).
    assert redis_calls.calls[0] == "pipeline:MGET,INCRBY,EXPIRE"
    assert "pipeline" not in " ".join(redis_calls.calls[1:])
    assert "INCRBY" in redis_calls.calls[1:]
