"""Admin of title files: queues by state and SLA, inlines, moves only through the services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from registry.models import ChangeRecord, Organization, Program
from registry.services import membership_assign, role_groups_sync
from titles.choices import TitleStatus
from titles.clock import notice_days
from titles.models import TitleApplication, TitleSettings, TitleStatusChange

from .conftest import FileMaker

S = TitleStatus


@pytest.fixture
def staff_client(staff: Any, program: Program) -> Client:
    role_groups_sync()
    membership_assign(user=staff, organization=program.agency, role="program_staff")
    staff.is_staff = True
    staff.save()
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.django_db
def test_queues_by_state_and_overdue(staff_client: Client, make_file: FileMaker) -> None:
    late = make_file(S.SUBMITTED)
    TitleApplication.objects.filter(pk=late.pk).update(due_on=date.today() - timedelta(days=1))
    fine = make_file(S.LEGAL_REVIEW)
    TitleApplication.objects.filter(pk=fine.pk).update(
        due_on=date.today() + timedelta(days=9), warn_on=date.today()
    )
    url = reverse("admin:titles_titleapplication_changelist")
    overdue = staff_client.get(url, {"sla": "overdue"})
    assert overdue.status_code == 200
    assert list(overdue.context["cl"].result_list) == [late]
    approaching = staff_client.get(url, {"sla": "approaching"})
    assert list(approaching.context["cl"].result_list) == [fine]
    by_state = staff_client.get(url, {"status__exact": "legal_review"})
    assert list(by_state.context["cl"].result_list) == [fine]
    page = staff_client.get(reverse("admin:titles_titleapplication_change", args=[late.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "titlestatuschange" in content.lower() or "history" in content.lower()


@pytest.mark.django_db
def test_transition_form_and_bulk_action_use_the_services(
    staff_client: Client, make_file: FileMaker
) -> None:
    application = make_file(S.SUBMITTED)
    url = reverse("admin:titles_titleapplication_transition", args=[application.pk])
    form = staff_client.get(url)
    assert form.status_code == 200
    refused = staff_client.post(url, {"to": "rejected"})
    assert refused.status_code == 200  # re-rendered with the missing reason
    assert "reason" in refused.context["form"].errors
    moved = staff_client.post(url, {"to": "rejected", "reason": "forest_land"})
    assert moved.status_code == 302
    application.refresh_from_db()
    assert application.status == S.REJECTED and application.rejection_reason == "forest_land"
    assert TitleStatusChange.objects.filter(application=application, to_status="rejected").exists()
    other = make_file(S.SURVEYED)
    changelist = reverse("admin:titles_titleapplication_changelist")
    response = staff_client.post(
        changelist, {"action": "move_to_legal_review", "_selected_action": [str(other.pk)]}
    )
    assert response.status_code == 302
    other.refresh_from_db()
    assert other.status == S.LEGAL_REVIEW
    # Editing the status by hand is not possible: the change form saves nothing.
    staff_client.post(
        reverse("admin:titles_titleapplication_change", args=[other.pk]), {"status": "registered"}
    )
    other.refresh_from_db()
    assert other.status == S.LEGAL_REVIEW


@pytest.mark.django_db
def test_admin_is_scoped(make_file: FileMaker, authority: Organization, program: Program) -> None:
    from registry.services import membership_assign
    from tests.factories import UserFactory

    role_groups_sync()
    application = make_file(S.SUBMITTED)
    outsider = UserFactory.create(username="otro", is_staff=True)
    elsewhere = Organization.objects.create(code="lejos", name="Lejos", kind="implementer")
    membership_assign(
        user=outsider, organization=elsewhere, role="program_staff", district_ubigeos=["150101"]
    )
    client = Client()
    client.force_login(outsider)
    url = reverse("admin:titles_titleapplication_change", args=[application.pk])
    assert client.get(url).status_code in (302, 404)
    transition = reverse("admin:titles_titleapplication_transition", args=[application.pk])
    assert client.get(transition).status_code == 404


@pytest.mark.django_db
def test_settings_admin_saves_through_the_service(
    staff_client: Client, program: Program, authority: Organization
) -> None:
    url = reverse("admin:titles_titlesettings_add")
    inline = "authority_notice_days"
    data = {
        "program": program.pk,
        "public_notice_days": 40,
        "prescription_years": 5,
        "adjudication_years": 0,
        "adjudication_possession_until": "31/12/2020",
        f"{inline}-TOTAL_FORMS": 1,
        f"{inline}-INITIAL_FORMS": 0,
        f"{inline}-0-authority": authority.pk,
        f"{inline}-0-public_notice_days": 20,
        "submitted_days": 45,
        "surveyed_days": 15,
        "legal_review_days": 30,
        "objected_days": 30,
        "title_issued_days": 15,
        "sent_to_sunarp_days": 30,
        "sunarp_observed_days": 30,
        "observed_days": 30,
        "file_months": 12,
        "alert_percent": 80,
    }
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    saved = TitleSettings.objects.get(program=program)
    assert (saved.submitted_days, saved.public_notice_days) == (45, 40)
    # The authority's own window, saved through the service (history on the settings).
    assert notice_days(saved, authority.pk) == 20
    assert notice_days(saved, None) == 40
    assert ChangeRecord.objects.filter(
        object_id=str(saved.pk), changes__authority_notice_days=[authority.code, 20]
    ).exists()
