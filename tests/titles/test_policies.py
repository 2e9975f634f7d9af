"""``titles.policies``: the parties a person plays on a file come from the memberships ``Actor``
already loaded (no query per file), by role and by organization."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.actors import Actor
from registry.choices import Role
from registry.models import Organization
from registry.services import membership_assign
from tests.factories import UserFactory
from titles import policies
from titles.choices import TitleStatus
from titles.workflow import AUTHORITY, OFFICER, PROGRAMME

from .conftest import FileMaker


@pytest.mark.django_db
def test_parties_by_role_and_organization_without_queries(
    make_file: FileMaker,
    officer: Any,
    staff: Any,
    authority: Organization,
    other_authority: Organization,
) -> None:
    application = make_file(TitleStatus.DRAFT)
    clerk = UserFactory.create(username="registrador")
    membership_assign(user=clerk, organization=authority, role=Role.FIELD_OFFICER)
    other = UserFactory.create(username="otra-dra")
    membership_assign(user=other, organization=other_authority, role=Role.PROGRAM_STAFF)
    expected = {
        officer: {OFFICER},
        staff: {OFFICER, PROGRAMME},
        clerk: {AUTHORITY},
        other: set(),
    }
    for user, parties in expected.items():
        actor = Actor.for_user(user)
        assert policies.title_application_parties(actor, application) == parties, user
        with CaptureQueriesContext(connection) as queries:
            for _n in range(3):
                policies.title_application_parties(actor, application)
        assert len(queries.captured_queries) == 0, user
    assert policies.title_application_can(Actor.for_user(staff), application, "file")
    assert not policies.title_application_can(Actor.for_user(clerk), application, "file")
    assert policies.title_application_can(Actor.for_user(clerk), application, "decide")
