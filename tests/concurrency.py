"""Parallel requests for race tests: each thread has its own client and database connection."""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection
from rest_framework.test import APIClient


def _same_credentials(client: APIClient) -> APIClient:
    fresh = APIClient()
    fresh.credentials(**getattr(client, "_credentials", {}))
    return fresh


def parallel_posts(
    client: APIClient, url: str, payloads: list[dict[str, Any]]
) -> list[tuple[int, Any]]:
    """POST each payload from its own thread with ``client``'s key (as an outbox retries), all
    released at once; ``(status, body)`` each."""
    clients = [_same_credentials(client) for _payload in payloads]
    barrier = threading.Barrier(len(payloads))
    results: list[tuple[int, Any]] = [(0, None)] * len(payloads)

    def post(index: int) -> None:
        try:
            barrier.wait(30)
            response = clients[index].post(url, payloads[index], format="json")
            results[index] = (response.status_code, response.json())
        except Exception as error:  # noqa: BLE001 - reported as a result
            results[index] = (-1, repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results
