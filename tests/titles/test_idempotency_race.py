"""Twenty retries of one title application arrive at once (PostgreSQL): one file is stored and
every request answers 201 or 200 with it, never 409 ``duplicate`` (the plot's open file)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.concurrency import parallel_posts
from titles.models import TitleApplication

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("geography"),
]


def test_parallel_retries_of_one_title_application(
    household_plot: Any, clients: dict[str, APIClient]
) -> None:
    household, plot = household_plot
    implementer = clients["implementer"]
    tid = str(uuid.uuid4())
    payload = {
        "id": tid,
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": "dra-cusco",
    }

    results = parallel_posts(implementer, "/api/v1/title-applications/", [payload] * 20)
    statuses = Counter(status for status, _body in results)
    assert set(statuses) <= {200, 201}, results
    assert statuses[201] == 1
    assert TitleApplication.objects.filter(pk=tid).count() == 1
