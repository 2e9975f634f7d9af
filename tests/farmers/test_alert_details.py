"""An alert's ``details`` as labelled words on the admin's change page (never JSON, never a
code or an id), and values as a reader reads them."""

from __future__ import annotations

import uuid

import pytest
from django.utils import translation

from farmers.choices import Stage
from farmers.selectors import household_labels
from registry.actors import Actor
from registry.admin.alerts import detail_lines
from registry.choices import OrganizationKind, Scope
from registry.display import value_words
from registry.models import District, Program
from registry.services import api_key_create
from tests.factories import OrganizationFactory, UserFactory
from tests.farmers.transition_helpers import make_household


def test_values_in_words() -> None:
    with translation.override("es"):
        assert value_words("12.50") == "12,50"
        assert value_words(True) == "sí"
        assert value_words("2026-03-05") == "05/03/2026"
        assert value_words([3, 4, 5]) == "3, 4, 5"
        assert value_words(str(uuid.uuid4())) == ""
        assert value_words({"a": 1}) == ""


def test_detail_lines_label_known_keys_and_leave_out_ids_and_unknown_keys() -> None:
    details = {
        "stage": "committed",
        "reason": "visit_expired",
        "contract": str(uuid.uuid4()),
        "delivered_kg": "120.5",
        "something_new": "x",
    }
    with translation.override("es"):
        lines = dict(detail_lines(details))
        assert lines["etapa"] == str(Stage.COMMITTED.label)
        assert lines["entregado (kg)"] == "120,5"  # as recorded, with the decimal comma
        assert "motivo" in lines and "visit_expired" not in lines["motivo"]
        assert not any("contract" in label or "something" in label for label in lines)
        # Who may not see the household's stage gets neither the stage nor its reason.
        hidden = dict(detail_lines(details, hidden=("stage", "reason")))
        assert set(hidden) == {"entregado (kg)"}


@pytest.mark.django_db
def test_the_alert_pages_name_the_head_only_where_the_reader_may_see_it(
    program: Program,
) -> None:
    household = make_household(program)  # its consent covers ``registry`` only
    authority = OrganizationFactory.create(code="dra", kind=OrganizationKind.TITLING_AUTHORITY)
    authority.districts.set(District.objects.filter(ubigeo=household.district_id))
    authority.programs.add(program)
    key, _raw = api_key_create(organization=authority, scopes=[Scope.HOUSEHOLDS_READ])
    root = Actor.for_user(UserFactory.create(username="raiz", is_superuser=True))
    named = f"{household.code} · Juana Quispe Huamán"
    assert household_labels([household.pk], root) == {household.pk: named}
    # A reader the family's consent does not cover, or no reader at all: the code only.
    assert household_labels([household.pk], Actor.for_api_key(key)) == {
        household.pk: household.code
    }
    assert household_labels([household.pk], None) == {household.pk: household.code}
