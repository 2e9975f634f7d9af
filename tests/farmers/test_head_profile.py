"""The head's sex and birth date kept on the household (``farmers.services.head``, issue 17: the
annual report reads them instead of joining members): every path that writes members keeps the
copy equal to the active head's, and the migration's backfill restores it from the members."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from rest_framework.test import APIClient

from farmers import services
from farmers.models import Household, Member
from farmers.services.anonymise import household_anonymise
from farmers.services.head import head_profile_mismatches, refresh_head_profile
from registry.actors import Actor
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db
URL = "/api/v1/households/"
SYSTEM = Actor(unrestricted=True)


def register(client: APIClient, first: str, second: str, **member: Any) -> Household:
    payload = household_payload()
    payload["members"][0].update(document_number=first, **member)
    payload["members"][1].update(document_number=second)
    response = client.post(URL, payload, format="json")
    assert response.status_code == 201, response.content
    return Household.objects.get(pk=response.json()["id"])


def head_of(household: Household) -> Member:
    return Member.objects.get(household=household, is_head=True, is_active=True)


def profile(household: Household) -> tuple[str, date | None]:
    household.refresh_from_db()
    return household.head_sex, household.head_birth_date


def test_registration_and_member_changes_keep_the_head_profile(client_for: ClientMaker) -> None:
    client = client_for()
    household = register(client, "10117410", "42345678")
    assert profile(household) == ("f", date(1980, 5, 1))
    head = head_of(household)
    spouse = Member.objects.get(household=household, is_head=False)

    # The head's own sex and birth date corrected.
    response = client.patch(
        f"{URL}{household.pk}/",
        {"members": [{"id": str(head.pk), "sex": "m", "birth_date": "1979-02-03"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert profile(household) == ("m", date(1979, 2, 3))

    # Another member becomes the head: the profile follows.
    response = client.patch(
        f"{URL}{household.pk}/",
        {
            "members": [
                {"id": str(head.pk), "relationship": "spouse"},
                {"id": str(spouse.pk), "relationship": "head"},
            ]
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert profile(household) == ("m", date(1978, 11, 20))
    # A change that does not touch the head leaves it as it is.
    response = client.patch(
        f"{URL}{household.pk}/",
        {"members": [{"id": str(head.pk), "birth_date": "1981-01-01"}]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert profile(household) == ("m", date(1978, 11, 20))
    assert head_profile_mismatches() == 0


def test_merge_and_anonymisation_keep_the_head_profile(client_for: ClientMaker) -> None:
    client = client_for()
    source = register(client, "10117410", "42345678")
    target = register(client, "20117410", "52345678", sex="m", birth_date="1990-07-15")
    services.household_merge(actor=SYSTEM, source=source, target=target)
    # The source's members moved (none is its head any more); the target's head stays.
    assert profile(source) == ("", None)
    assert profile(target) == ("m", date(1990, 7, 15))
    assert head_profile_mismatches() == 0

    household_anonymise(actor=SYSTEM, household=target)
    # Anonymisation keeps only the year of birth, on the household too.
    assert profile(target) == ("m", date(1990, 1, 1))
    assert head_of(target).birth_date == date(1990, 1, 1)
    assert head_profile_mismatches() == 0


def test_the_check_finds_a_stale_copy_and_the_backfill_restores_it(
    client_for: ClientMaker,
) -> None:
    client = client_for()
    first = register(client, "10117410", "42345678")
    second = register(client, "20117410", "52345678", sex="m", birth_date="1990-07-15")
    Household.objects.filter(pk=first.pk).update(head_sex="m", head_birth_date=None)
    Household.objects.filter(pk=second.pk).update(head_birth_date=date(2000, 1, 1))
    assert head_profile_mismatches() == 2
    assert head_profile_mismatches([first.pk]) == 1

    assert refresh_head_profile([first.pk]) == 1
    assert head_profile_mismatches() == 1
    # The migration's backfill (every household at once).
    migration = importlib.import_module("farmers.migrations.0028_annual_head_profile")
    migration.backfill(apps, SimpleNamespace(connection=connection))
    assert head_profile_mismatches() == 0
    assert profile(second) == ("m", date(1990, 7, 15))
    # And the service's own full refresh: a household whose head was taken off by hand.
    Member.objects.filter(household=second, is_head=True).update(is_active=False)
    assert head_profile_mismatches() == 1
    refresh_head_profile()
    assert profile(second) == ("", None)
    assert head_profile_mismatches() == 0
