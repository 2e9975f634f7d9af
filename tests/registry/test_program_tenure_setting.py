"""``Program.graduation_requires_tenure`` (issue 15) is a transition threshold: edited where the
others are, by the same people, and read by the transition engine."""

from __future__ import annotations

import pytest
from django.urls import reverse

from farmers.transition.rules import Thresholds
from registry.models import Program
from tests.registry.test_admin_matrix import World, client_for, form_data, world

pytestmark = pytest.mark.django_db
__all__ = ["world"]  # the fixture


def test_programme_staff_set_graduation_requires_tenure_in_the_admin(world: World) -> None:
    program_a = Program.objects.get(code="prog-a")
    program_b = Program.objects.get(code="prog-b")
    assert program_a.graduation_requires_tenure is False  # the default
    url = reverse("admin:registry_program_change", args=[program_a.pk])
    form = client_for(world, "staff").get(url).context["adminform"]
    box = next(fs for fs in form if "licit_min_ha" in fs.fields)
    assert "graduation_requires_tenure" in box.fields  # beside the other thresholds
    data = {**form_data(world, "program", program_a), "graduation_requires_tenure": "on"}
    response = client_for(world, "staff").post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    program_a.refresh_from_db()
    assert program_a.graduation_requires_tenure is True
    assert Thresholds.of(program_a).graduation_requires_tenure is True
    # Another agency's programme: not editable by this agency's staff.
    url_b = reverse("admin:registry_program_change", args=[program_b.pk])
    data_b = {**form_data(world, "program", program_b), "graduation_requires_tenure": "on"}
    client_for(world, "staff").post(url_b, data_b)
    program_b.refresh_from_db()
    assert program_b.graduation_requires_tenure is False
