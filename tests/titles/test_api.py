"""Title files through the API: filing, the full happy path and the observed, objected,
rejected and withdrawn paths, scoping, documents, overlaps, filters and query budgets."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from farmers import services as farmers_services
from registry.choices import Scope
from registry.models import ChangeRecord, Organization, Program
from titles import services
from titles.choices import TitleStatus
from titles.models import TitleApplication, TitleDocument
from titles.workdays import add_working_days, working_days_between

from .conftest import (
    PDF,
    SYSTEM,
    TITLES_WRITE,
    FileMaker,
    key_client,
    make_household,
    new_id,
    square,
)

S = TitleStatus
URL = "/api/v1/title-applications/"


def _create(client: APIClient, household: Any, plot: Any, **extra: Any) -> Any:
    body = {
        "household": str(household.pk),
        "plot": str(plot.pk),
        "authority": "dra-cusco",
        "possession_started_on": "2012-03-01",
        **extra,
    }
    return client.post(URL, body, format="json")


def _move(client: APIClient, pk: Any, to: str, **extra: Any) -> Any:
    return client.post(f"{URL}{pk}/transition/", {"to": to, **extra}, format="json")


def _upload(
    client: APIClient, pk: Any, kind: str, content: bytes = PDF, name: str = "a.pdf"
) -> Any:
    return client.post(
        f"{URL}{pk}/documents/",
        {"type": kind, "file": SimpleUploadedFile(name, content)},
        format="multipart",
    )


def _back(pk: Any, **days: int) -> None:
    """Pretend the file entered its current state ``days`` ago (for clock and notice tests)."""
    application = TitleApplication.objects.get(pk=pk)
    shift = timedelta(days=days.get("days", 0))
    fields: dict[str, Any] = {"status_since": application.status_since - shift}
    if application.clock_started_on:
        fields["clock_started_on"] = application.clock_started_on - shift
    if application.notice_starts_on and application.notice_ends_on:
        fields["notice_starts_on"] = application.notice_starts_on - shift
        fields["notice_ends_on"] = application.notice_ends_on - shift
    TitleApplication.objects.filter(pk=pk).update(**fields)


def _close_notice(pk: Any) -> None:
    """Pretend the public notice's last day was yesterday."""
    application = TitleApplication.objects.get(pk=pk)
    assert application.notice_ends_on is not None
    _back(pk, days=(application.notice_ends_on - date.today()).days + 1)


@pytest.mark.django_db
def test_full_happy_path_through_the_api(
    household_plot: Any, clients: dict[str, APIClient], django_capture_on_commit_callbacks: Any
) -> None:
    household, plot = household_plot
    officer, authority = clients["officer"], clients["authority"]
    client_id = new_id()
    response = _create(officer, household, plot, id=client_id)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id"] == client_id and body["status"] == "draft"
    assert body["authority"] == "dra-cusco" and body["district"] == "080910"
    assert body["allowed_transitions"] == ["submitted", "withdrawn"]
    assert response["ETag"] == officer.get(f"{URL}{client_id}/")["ETag"]
    # A retry with the same id and payload returns the same file; another payload is a 409.
    again = _create(officer, household, plot, id=client_id)
    assert again.status_code == 200 and again.json()["id"] == client_id
    other = _create(officer, household, plot, id=client_id, note="otra")
    assert other.status_code == 409
    assert other.json()["errors"][0]["code"] == "idempotency_conflict"
    pk = client_id

    missing = _move(officer, pk, "submitted")
    assert missing.status_code == 409
    error = missing.json()["errors"][0]
    assert error["code"] == "missing_documents"
    assert error["missing"] == [
        "id_copy",
        "proof_of_possession",
        "plot_plan",
        "neighbour_statement",
    ]
    for kind in ("id_copy", "proof_of_possession", "plot_plan", "neighbour_statement"):
        assert _upload(officer, pk, kind).status_code == 201
    with django_capture_on_commit_callbacks() as callbacks:
        response = _move(officer, pk, "submitted")
    assert response.status_code == 200, response.json()
    assert len(callbacks) == 1  # the transition engine recomputes the household
    body = response.json()
    assert body["submitted_on"] == date.today().isoformat()
    assert body["due_on"] == add_working_days(date.today(), 60).isoformat()
    assert body["clock"]["waiting_on"] == "authority"

    assert _move(authority, pk, "surveyed").json()["errors"][0]["missing"] == ["survey_record"]
    assert _upload(authority, pk, "survey_record").status_code == 201
    assert _move(authority, pk, "surveyed").status_code == 200
    assert _move(authority, pk, "legal_review").status_code == 200
    notice = _move(authority, pk, "public_notice").json()
    assert notice["notice_ends_on"] == add_working_days(date.today(), 30).isoformat()
    assert notice["due_on"] == notice["notice_ends_on"]
    early = _move(authority, pk, "title_issued")
    assert early.status_code == 409
    assert early.json()["errors"][0]["code"] == "public_notice_open"
    _close_notice(pk)
    late = authority.post(f"{URL}{pk}/objections/", {"objector_name": "X", "grounds": "Y"})
    assert late.status_code == 409 and late.json()["errors"][0]["code"] == "notice_closed"
    assert _move(authority, pk, "title_issued").status_code == 200
    assert _move(authority, pk, "sent_to_sunarp").status_code == 200
    bad = _move(
        authority, pk, "registered", partida_number="12-34", registered_on=str(date.today())
    )
    assert bad.status_code == 400
    assert {e["attr"] for e in bad.json()["errors"]} == {"partida_number"}
    # A date out of range is refused by the request's own field (docs/api.md, dates).
    future = _move(authority, pk, "registered", partida_number="12-34", registered_on="2099-01-01")
    assert future.status_code == 400
    assert [(e["attr"], e["code"]) for e in future.json()["errors"]] == [
        ("registered_on", "future_date")
    ]
    current = TitleApplication.objects.get(pk=pk).version
    etag = authority.get(f"{URL}{pk}/")["ETag"]
    stale = authority.post(
        f"{URL}{pk}/transition/",
        {"to": "registered", "partida_number": "11012345", "registered_on": str(date.today())},
        format="json",
        HTTP_IF_MATCH=f'"{current - 1}"',
    )
    assert stale.status_code == 412
    with django_capture_on_commit_callbacks() as callbacks:
        done = authority.post(
            f"{URL}{pk}/transition/",
            {
                "to": "registered",
                "partida_number": "11012345",
                "registered_on": str(date.today()),
                "registry_zone": "Zona Registral X",
            },
            format="json",
            HTTP_IF_MATCH=etag,
        )
    assert done.status_code == 200, done.json()
    assert len(callbacks) == 1
    body = done.json()
    assert body["status"] == "registered" and body["partida_number"] == "11012345"
    assert body["due_on"] is None and body["overdue"] is False
    assert body["allowed_transitions"] == []

    history = officer.get(f"{URL}{pk}/history/").json()["results"]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("", "draft"),
        ("draft", "submitted"),
        ("submitted", "surveyed"),
        ("surveyed", "legal_review"),
        ("legal_review", "public_notice"),
        ("public_notice", "title_issued"),
        ("title_issued", "sent_to_sunarp"),
        ("sent_to_sunarp", "registered"),
    ]
    assert history[0]["actor"] == "tecnico"
    assert history[-1]["actor"].startswith("key:")
    assert ChangeRecord.objects.filter(object_id=pk, action="transition").count() == 7


@pytest.mark.django_db
def test_observed_path_pauses_the_clock_and_returns_home(
    make_file: FileMaker, clients: dict[str, APIClient]
) -> None:
    authority, officer = clients["authority"], clients["officer"]
    application = make_file(S.SURVEYED)
    TitleApplication.objects.filter(pk=application.pk).update(
        status_since=date.today() - timedelta(days=4),
        clock_started_on=date.today() - timedelta(days=4),
    )
    assert _move(authority, application.pk, "observed").status_code == 400  # a note is needed
    body = _move(authority, application.pk, "observed", note="Falta firma").json()
    assert body["status"] == "observed" and body["observed_from"] == "surveyed"
    assert body["clock"]["waiting_on"] == "family"
    assert body["due_on"] == add_working_days(date.today(), 30).isoformat()
    assert body["allowed_transitions"] == ["rejected", "surveyed", "withdrawn"]
    wrong = _move(officer, application.pk, "legal_review")
    assert wrong.status_code == 409
    assert wrong.json()["errors"][0]["allowed"] == ["rejected", "surveyed", "withdrawn"]
    _back(application.pk, days=10)  # the family took 10 days
    before = TitleApplication.objects.get(pk=application.pk)
    body = _move(officer, application.pk, "surveyed").json()
    assert body["status"] == "surveyed" and body["observed_from"] == ""
    # Working days: the family's 10 calendar days, the state's 15-working-day target.
    assert body["clock"]["family_days"] == working_days_between(
        date.today() - timedelta(days=10), date.today()
    )
    # The state's clock resumes where it stopped: started 4 days ago once the pause is taken out.
    assert body["due_on"] == add_working_days(date.today() - timedelta(days=4), 15).isoformat()
    assert before.file_due_on is not None and before.surveyed_on is not None
    assert body["file_due_on"] == (before.file_due_on + timedelta(days=10)).isoformat()
    assert body["surveyed_on"] == before.surveyed_on.isoformat()


@pytest.mark.django_db
def test_objected_path_upheld_objection_leads_to_rejection(
    make_file: FileMaker, clients: dict[str, APIClient]
) -> None:
    authority, officer = clients["authority"], clients["officer"]
    application = make_file(S.LEGAL_REVIEW)
    pk = application.pk
    assert _move(authority, pk, "public_notice").status_code == 200
    assert _move(authority, pk, "objected").status_code == 409  # only by filing an objection
    assert (
        officer.post(f"{URL}{pk}/objections/", {"objector_name": "A", "grounds": "B"}).status_code
        == 403
    )
    filed = authority.post(
        f"{URL}{pk}/objections/",
        {"objector_name": "Comunidad Nativa Otari", "grounds": "Territorio comunal"},
    )
    assert filed.status_code == 201, filed.json()
    objection = filed.json()
    assert objection["decision"] == "pending"
    assert authority.get(f"{URL}{pk}/").json()["status"] == "objected"
    second = authority.post(f"{URL}{pk}/objections/", {"objector_name": "B", "grounds": "C"})
    assert second.status_code == 201  # more objections while the window is open
    _close_notice(pk)
    pending = _move(authority, pk, "rejected", reason="community_land")
    assert pending.status_code == 409
    assert pending.json()["errors"][0]["code"] == "objections_pending"
    decision_url = f"{URL}{pk}/objections/{objection['id']}/decision/"
    assert authority.post(decision_url, {"decision": "upheld"}).status_code == 400  # note
    upheld = authority.post(decision_url, {"decision": "upheld", "note": "Tierra comunal"})
    assert upheld.status_code == 200 and upheld.json()["decision"] == "upheld"
    again = authority.post(decision_url, {"decision": "dismissed", "note": "x"})
    assert again.status_code == 409
    other = second.json()["id"]
    authority.post(
        f"{URL}{pk}/objections/{other}/decision/", {"decision": "dismissed", "note": "x"}
    )
    titled = _move(authority, pk, "title_issued")
    assert titled.status_code == 409
    assert titled.json()["errors"][0]["code"] == "objection_upheld"
    bad_reason = _move(authority, pk, "rejected", reason="because")
    assert bad_reason.status_code == 400
    rejected = _move(authority, pk, "rejected", reason="community_land", note="Otari")
    assert rejected.status_code == 200
    assert rejected.json()["rejection_reason"] == "community_land"
    listed = officer.get(f"{URL}{pk}/objections/").json()["results"]
    assert [o["decision"] for o in listed] == ["upheld", "dismissed"]


@pytest.mark.django_db
def test_objected_path_dismissed_objection_leads_to_title(
    make_file: FileMaker, clients: dict[str, APIClient]
) -> None:
    authority = clients["authority"]
    pk = make_file(S.LEGAL_REVIEW).pk
    _move(authority, pk, "public_notice")
    objection = authority.post(f"{URL}{pk}/objections/", {"objector_name": "A", "grounds": "B"})
    authority.post(
        f"{URL}{pk}/objections/{objection.json()['id']}/decision/",
        {"decision": "dismissed", "note": "Sin pruebas"},
    )
    assert _move(authority, pk, "title_issued").json()["errors"][0]["code"] == "public_notice_open"
    _close_notice(pk)
    assert _move(authority, pk, "title_issued").status_code == 200


@pytest.mark.django_db
def test_rejected_and_withdrawn_paths(make_file: FileMaker, clients: dict[str, APIClient]) -> None:
    authority, officer = clients["authority"], clients["officer"]
    pk = make_file(S.SUBMITTED).pk
    assert _move(authority, pk, "rejected").status_code == 400
    body = _move(authority, pk, "rejected", reason="possession_too_recent").json()
    assert body["status"] == "rejected" and body["closed_on"] == date.today().isoformat()
    assert body["due_on"] is None
    assert _upload(officer, pk, "other").json()["errors"][0]["code"] == "file_closed"
    pk = make_file(S.LEGAL_REVIEW).pk
    assert _move(authority, pk, "withdrawn", note="x").status_code == 403  # the family's call
    assert _move(officer, pk, "withdrawn").status_code == 400  # a note is needed
    assert (
        _move(officer, pk, "withdrawn", note="La familia desiste").json()["status"] == "withdrawn"
    )


@pytest.mark.django_db
def test_create_validation(
    program: Program, household_plot: Any, clients: dict[str, APIClient], authority: Organization
) -> None:
    household, plot = household_plot
    officer = clients["officer"]
    _other_household, other_plot = make_household(program, lon=-73.5)
    response = _create(officer, household, other_plot)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "plot"
    response = officer.post(
        URL,
        {"household": str(household.pk), "plot": str(plot.pk), "authority": "implementa"},
        format="json",
    )
    assert response.json()["errors"][0]["attr"] == "authority"
    response = officer.post(
        URL, {"household": new_id(), "plot": str(plot.pk), "authority": "dra-cusco"}, format="json"
    )
    assert response.json()["errors"][0]["attr"] == "household"
    assert _create(clients["authority"], household, plot).status_code == 403
    assert _create(officer, household, plot).status_code == 201
    duplicate = _create(officer, household, plot)
    assert duplicate.status_code == 409 and duplicate.json()["errors"][0]["code"] == "duplicate"


@pytest.mark.django_db
def test_scoping(
    make_file: FileMaker,
    clients: dict[str, APIClient],
    other_authority: Organization,
    program: Program,
    authority: Organization,
) -> None:
    from .conftest import file_in_state

    mine = make_file(S.SUBMITTED)
    household, plot = make_household(program, "050407", lon=-73.86, lat=-12.51)
    theirs = file_in_state(household, plot, other_authority, S.SUBMITTED)
    other_key = key_client(other_authority, TITLES_WRITE)
    listed = {r["id"] for r in other_key.get(URL).json()["results"]}
    assert listed == {str(theirs.pk)}  # filed with it: not the Cusco file in its districts
    assert other_key.get(f"{URL}{mine.pk}/").status_code == 404
    assert _move(other_key, mine.pk, "surveyed").status_code == 404
    assert other_key.get(f"{URL}{mine.pk}/history/").status_code == 404
    cusco = {r["id"] for r in clients["authority"].get(URL).json()["results"]}
    assert cusco == {str(mine.pk)}
    # The implementer (Pichari, Kimbiri) sees the Pichari file, not the Sivia one.
    implementer = {r["id"] for r in clients["implementer"].get(URL).json()["results"]}
    assert implementer == {str(mine.pk)}
    # Programme staff see every file of their programme.
    staff = {r["id"] for r in clients["programme"].get(URL).json()["results"]}
    assert staff == {str(mine.pk), str(theirs.pk)}
    # Without titles:read: 403; households:read alone does not open title files.
    no_scope = key_client(authority, [Scope.HOUSEHOLDS_READ])
    assert no_scope.get(URL).status_code == 403
    read_only = key_client(authority, [Scope.TITLES_READ])
    assert read_only.get(f"{URL}{mine.pk}/").status_code == 200
    assert _move(read_only, mine.pk, "surveyed").status_code == 403


@pytest.mark.django_db
def test_documents_limits_hash_and_download_scope(
    make_file: FileMaker, clients: dict[str, APIClient], other_authority: Organization
) -> None:
    import hashlib

    from titles.services import documents as title_documents

    officer = clients["officer"]
    pk = make_file(S.DRAFT).pk
    response = _upload(officer, pk, "plot_plan", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "plano.png")
    assert response.status_code == 201, response.json()
    document = response.json()
    assert document["content_type"] == "image/png"
    assert document["sha256"] == hashlib.sha256(b"\x89PNG\r\n\x1a\n" + b"0" * 100).hexdigest()
    wrong = _upload(officer, pk, "plot_plan", b"MZ\x90\x00 not a pdf", "virus.pdf")
    assert wrong.status_code == 415
    assert wrong.json()["errors"][0]["allowed"] == ["application/pdf", "image/jpeg", "image/png"]
    old = title_documents.DOCUMENT_MAX_BYTES
    title_documents.DOCUMENT_MAX_BYTES = 50
    try:
        big = _upload(officer, pk, "plot_plan", PDF + b"0" * 100)
    finally:
        title_documents.DOCUMENT_MAX_BYTES = old
    assert big.status_code == 413 and big.json()["errors"][0]["code"] == "file_too_large"
    bad_type = _upload(officer, pk, "selfie")
    assert bad_type.status_code == 400 and bad_type.json()["errors"][0]["attr"] == "type"
    url = f"{URL}{pk}/documents/{document['id']}/file/"
    download = officer.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content).startswith(b"\x89PNG")  # type: ignore[attr-defined]
    outsider = key_client(other_authority, TITLES_WRITE)
    assert outsider.get(url).status_code == 404
    assert outsider.get(f"{URL}{pk}/documents/").status_code == 404
    listed = officer.get(f"{URL}{pk}/documents/").json()["results"]
    assert [d["id"] for d in listed][-1] == document["id"]
    assert TitleDocument.objects.filter(application_id=pk).count() == len(listed)


@pytest.mark.django_db
def test_parcel_overlap_blocks_leaving_surveyed(
    program: Program,
    authority: Organization,
    clients: dict[str, APIClient],
    other_authority: Organization,
) -> None:
    from .conftest import file_in_state

    household_a, plot_a = make_household(program, lon=-73.9, lat=-12.5)
    household_b, plot_b = make_household(program, lon=-73.9005, lat=-12.5005)
    assert plot_a.overlaps.filter(other=plot_b).exists()
    mine = file_in_state(household_a, plot_a, authority, S.SURVEYED)
    # The neighbour has no file yet: no conflict.
    theirs = file_in_state(household_b, plot_b, other_authority, S.SUBMITTED)
    response = _move(clients["authority"], mine.pk, "legal_review")
    assert response.status_code == 409
    error = response.json()["errors"][0]
    assert error["code"] == "parcel_overlap"
    assert "conflicts" not in error  # filed with another authority: not named to this key
    staff = _move(clients["programme"], mine.pk, "legal_review")
    assert staff.json()["errors"][0]["conflicts"] == [str(theirs.pk)]
    # Rejecting for the overlap remains possible; once the neighbour withdraws, it moves on.
    services.title_application_transition(
        actor=SYSTEM, application=theirs.pk, to="withdrawn", note="Desiste"
    )
    assert _move(clients["authority"], mine.pk, "legal_review").status_code == 200


@pytest.mark.django_db
def test_overlap_ignores_plots_without_live_file(
    program: Program, authority: Organization, clients: dict[str, APIClient]
) -> None:
    from .conftest import file_in_state

    household_a, plot_a = make_household(program, lon=-73.8, lat=-12.5)
    household_b, plot_b = make_household(program, lon=-73.8005, lat=-12.5005)
    mine = file_in_state(household_a, plot_a, authority, S.SURVEYED)
    file_in_state(household_b, plot_b, authority, S.DRAFT)
    assert _move(clients["authority"], mine.pk, "legal_review").status_code == 200
    # Moving the neighbour's plot away also clears a conflict.
    farmers_services.plot_update(
        actor=SYSTEM, plot=plot_b, data={"geometry": square(-73.0, -12.0)}, expected_version=None
    )


@pytest.mark.django_db
def test_filters_and_overdue_queue(make_file: FileMaker, clients: dict[str, APIClient]) -> None:
    staff = clients["programme"]
    late = make_file(S.SUBMITTED)
    TitleApplication.objects.filter(pk=late.pk).update(due_on=date.today() - timedelta(days=3))
    on_time = make_file(S.LEGAL_REVIEW)
    TitleApplication.objects.filter(pk=on_time.pk).update(due_on=date.today() + timedelta(days=3))
    draft = make_file(S.DRAFT)
    ids = lambda params: {r["id"] for r in staff.get(URL, params).json()["results"]}  # noqa: E731
    assert ids({"overdue": "true"}) == {str(late.pk)}
    assert ids({"overdue": "false"}) == {str(on_time.pk), str(draft.pk)}
    assert ids({"status": "legal_review"}) == {str(on_time.pk)}
    assert ids({"district": "080910"}) == {str(late.pk), str(on_time.pk), str(draft.pk)}
    assert ids({"district": "050407"}) == set()
    assert ids({"authority": "dra-cusco", "status": "draft"}) == {str(draft.pk)}
    assert ids({"submitted_after": str(date.today() - timedelta(days=1))}) == set()
    assert ids({"due_before": str(date.today())}) == {str(late.pk)}
    assert staff.get(URL, {"overdue": "maybe"}).status_code == 400
    assert staff.get(URL, {"status": "lost"}).status_code == 400
    assert staff.get(f"{URL}{late.pk}/").json()["overdue"] is True


def _count_queries(client: APIClient, url: str, params: dict[str, Any] | None = None) -> int:
    client.get(url, params or {})  # warm-up: the key's last-use stamp is written once a minute
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.json()
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_query_budget_of_the_application_list(
    make_file: FileMaker, clients: dict[str, APIClient]
) -> None:
    make_file(S.SUBMITTED)
    for client in (clients["programme"], clients["authority"]):
        one = _count_queries(client, URL)
        overdue_one = _count_queries(client, URL, {"overdue": "true"})
        for _i in range(20):
            make_file(S.DRAFT)
        assert _count_queries(client, URL, {"page_size": 100}) == one
        assert _count_queries(client, URL, {"overdue": "true"}) == overdue_one


@pytest.mark.django_db
def test_query_budget_of_sub_lists(make_file: FileMaker, clients: dict[str, APIClient]) -> None:
    from .conftest import attach

    authority = clients["authority"]
    small = make_file(S.DRAFT)
    big = make_file(S.PUBLIC_NOTICE)
    TitleApplication.objects.filter(pk=big.pk).update(
        notice_starts_on=date.today(), notice_ends_on=date.today() + timedelta(days=30)
    )
    for _i in range(20):
        services.objection_file(actor=SYSTEM, application=big.pk, objector_name="A", grounds="B")
        attach(big, "other")
    # ``small`` has one history row and four documents; ``big`` many of each.
    for suffix in ("history/", "objections/", "documents/"):
        assert _count_queries(authority, f"{URL}{small.pk}/{suffix}") == _count_queries(
            authority, f"{URL}{big.pk}/{suffix}", {"page_size": 100}
        )
