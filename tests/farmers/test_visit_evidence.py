"""Evidence that holds up (issue 15, point 6): a visit names the plots it saw, its licit
hectares fit on the family's plots, and a visit that found no coca is confirmed only with a GPS
fix where the family is (its district, or within 500 m of one of its plots) and a photo unless
the programme waives it (guard ``visit_evidence``)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from farmers.models import Verification
from farmers.workflow import VERIFICATION_MACHINE, VISIT_EVIDENCE
from registry.choices import Scope
from registry.models import ChangeRecord, District, Organization, Program
from tests.farmers.conftest import WRITE, ClientMaker, household_payload
from tests.farmers.evidence_helpers import PICHARI_FIX, PNG, give_plot

pytestmark = pytest.mark.django_db
VISITS = "/api/v1/verifications/"
IN_PIURA = {"lat": -5.19, "lon": -80.63}
IN_KIMBIRI = {"lat": -12.6197, "lon": -73.7875}
# Across the Apurímac from Pichari: in Sivia (050407) in the 2007 outlines.
ACROSS_THE_RIVER = {"lat": -12.52, "lon": -73.97}


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def writer(client_for: ClientMaker) -> APIClient:
    return client_for()


@pytest.fixture
def reviewer(client_for: ClientMaker) -> APIClient:
    return client_for(scopes=[*WRITE, Scope.HOUSEHOLDS_REVIEW, Scope.COCA_READ], reviewer=True)


def errors(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def register(client: APIClient, **overrides: Any) -> str:
    response = client.post("/api/v1/households/", household_payload(**overrides), format="json")
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def record(client: APIClient, household: str, **extra: Any) -> Any:
    payload = {
        "household": household,
        "visited_on": "2026-09-14",
        "method": "field_visit",
        "coca_ha": "0",
        **extra,
    }
    return client.post(VISITS, payload, format="json")


def recorded(client: APIClient, household: str, *, photo: bool = True, **extra: Any) -> str:
    response = record(client, household, **extra)
    assert response.status_code == 201, response.content
    visit_id = str(response.json()["id"])
    if photo:
        upload = client.post(
            f"{VISITS}{visit_id}/photo/",
            {"photo": SimpleUploadedFile("foto.png", PNG)},
            format="multipart",
        )
        assert upload.status_code == 200, upload.content
    return visit_id


def confirm(client: APIClient, visit_id: str, **headers: Any) -> Any:
    return client.post(f"{VISITS}{visit_id}/transition/", {"to": "confirmed"}, **headers)


def assert_refused(response: Any, visit_id: str, attr: str, code: str) -> None:
    assert response.status_code == 409, response.content
    assert errors(response) == {(attr, code)}
    assert Verification.objects.get(pk=visit_id).status == "pending"
    assert not ChangeRecord.objects.filter(object_id=visit_id, action="transition").exists()


# --- the guard is part of the machine ------------------------------------------------------------


def test_confirming_a_visit_runs_the_visit_evidence_guard() -> None:
    move = VERIFICATION_MACHINE.move("pending", "confirmed")
    assert move is not None and VISIT_EVIDENCE in move.guards
    rejection = VERIFICATION_MACHINE.move("pending", "rejected")
    assert rejection is not None and VISIT_EVIDENCE not in rejection.guards


# --- GPS and photo on confirmation ---------------------------------------------------------------


def test_confirm_without_gps_is_refused(writer: APIClient, reviewer: APIClient) -> None:
    visit_id = recorded(writer, register(writer))
    assert_refused(confirm(reviewer, visit_id), visit_id, "location", "gps_required")


def test_confirm_with_gps_in_piura_is_refused(writer: APIClient, reviewer: APIClient) -> None:
    household = register(writer)
    give_plot(household)  # in Pichari, far from Piura
    visit_id = recorded(writer, household, location=IN_PIURA)
    response = confirm(reviewer, visit_id)
    assert_refused(response, visit_id, "location", "gps_outside_area")
    # English and Spanish (the default) messages.
    english = confirm(reviewer, visit_id, HTTP_ACCEPT_LANGUAGE="en").json()["errors"][0]
    assert english["detail"] == (
        "The GPS point is neither in the household's district nor within 500 m of one of its plots."
    )
    spanish = confirm(reviewer, visit_id, HTTP_ACCEPT_LANGUAGE="es").json()["errors"][0]
    assert spanish["detail"].startswith("El punto GPS no está en el distrito del hogar")


def test_confirm_without_photo_is_refused(writer: APIClient, reviewer: APIClient) -> None:
    visit_id = recorded(writer, register(writer), photo=False, location=PICHARI_FIX)
    response = confirm(reviewer, visit_id)
    assert_refused(response, visit_id, "photo", "photo_required")
    english = confirm(reviewer, visit_id, HTTP_ACCEPT_LANGUAGE="en").json()["errors"][0]
    assert english["detail"] == "A visit that found no coca needs a photo to be confirmed."


def test_confirm_with_gps_in_the_district_and_a_photo(
    writer: APIClient, reviewer: APIClient
) -> None:
    visit_id = recorded(writer, register(writer), location=PICHARI_FIX)
    response = confirm(reviewer, visit_id)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "confirmed"


def test_the_programme_may_waive_the_photo(
    program: Program, writer: APIClient, reviewer: APIClient
) -> None:
    Program.objects.filter(pk=program.pk).update(visit_photo_required=False)
    visit_id = recorded(writer, register(writer), photo=False, location=PICHARI_FIX)
    assert confirm(reviewer, visit_id).status_code == 200


@pytest.mark.parametrize("metres", [300, 700])
def test_gps_outside_the_district_counts_within_500_m_of_a_plot(
    writer: APIClient, reviewer: APIClient, metres: int
) -> None:
    """A Pichari family farming across the river: the fix is in Sivia, ``metres`` south of its
    plot: accepted at 300 m, refused at 700 m."""
    household = register(writer)
    give_plot(household, lon=-73.97, lat=-12.52 + metres / 110_600)
    visit_id = recorded(writer, household, location=ACROSS_THE_RIVER)
    response = confirm(reviewer, visit_id)
    if metres <= 500:
        assert response.status_code == 200, response.content
    else:
        assert_refused(response, visit_id, "location", "gps_outside_area")


def test_a_district_created_after_2007_uses_its_parents_outline(
    partner: Organization, writer: APIClient, reviewer: APIClient
) -> None:
    """Villa Kintiarina (080913, 2015) was carved out of Kimbiri (080907)."""
    partner.districts.add(District.objects.get(ubigeo="080913"))
    household = register(writer, district="080913")
    visit_id = recorded(writer, household, location=IN_KIMBIRI)
    assert confirm(reviewer, visit_id).status_code == 200
    elsewhere = recorded(writer, household, location=IN_PIURA, visited_on="2026-09-15")
    assert_refused(confirm(reviewer, elsewhere), elsewhere, "location", "gps_outside_area")


def test_a_visit_that_found_coca_needs_no_fix_nor_photo(
    writer: APIClient, reviewer: APIClient
) -> None:
    """Coca found is evidence against the family: the guard asks nothing more of it."""
    visit_id = recorded(writer, register(writer), photo=False, coca_ha="0.25")
    assert confirm(reviewer, visit_id).status_code == 200


def test_a_visit_without_evidence_may_still_be_rejected(
    writer: APIClient, reviewer: APIClient
) -> None:
    visit_id = recorded(writer, register(writer), photo=False)
    response = reviewer.post(
        f"{VISITS}{visit_id}/transition/", {"to": "rejected", "reason": "Sin GPS ni foto."}
    )
    assert response.status_code == 200, response.content


# --- plots seen ----------------------------------------------------------------------------------


def test_a_visit_records_the_plots_it_saw(writer: APIClient) -> None:
    household = register(writer)
    first, second = give_plot(household), give_plot(household, lon=-73.82)
    response = record(writer, household, plots=[str(second.pk), str(first.pk)])
    assert response.status_code == 201, response.content
    expected = sorted([str(first.pk), str(second.pk)])
    assert response.json()["plots"] == expected
    visit_id = response.json()["id"]
    assert writer.get(f"{VISITS}{visit_id}/").json()["plots"] == expected
    listed = {v["id"]: v["plots"] for v in writer.get(VISITS).json()["results"]}
    assert listed[visit_id] == expected
    assert set(Verification.objects.get(pk=visit_id).plots.all()) == {first, second}
    # A visit without plots lists none.
    bare = record(writer, household, visited_on="2026-09-15")
    assert bare.json()["plots"] == []
    assert {v["id"]: v["plots"] for v in writer.get(VISITS).json()["results"]}[
        bare.json()["id"]
    ] == []


def test_a_plot_of_another_household_is_400(writer: APIClient) -> None:
    mine = register(writer)
    theirs = register(
        writer,
        members=[
            {
                "given_names": "Rosa",
                "surnames": "Ccori Yupanqui",
                "document_type": "dni",
                "document_number": "45678912",
                "sex": "f",
                "birth_date": "1985-02-03",
                "relationship": "head",
            }
        ],
    )
    own, other = give_plot(mine), give_plot(theirs, lon=-73.82)
    response = record(writer, mine, plots=[str(own.pk), str(other.pk)])
    assert response.status_code == 400, response.content
    assert errors(response) == {("plots", "plot_not_in_household")}
    unknown = record(writer, mine, plots=["8c7a5f8e-1d7b-4a4e-9a53-3f1d2c0b9e11"])
    assert errors(unknown) == {("plots", "plot_not_in_household")}
    assert not Verification.objects.exists()


# --- licit hectares fit on the plots -------------------------------------------------------------


def test_licit_hectares_cannot_exceed_the_plot_area(writer: APIClient) -> None:
    household = register(writer)
    crops = [{"crop": "cacao", "ha": "0.50"}]
    # No plot yet: no licit hectares can be recorded.
    response = record(writer, household, licit_crops=crops)
    assert response.status_code == 400, response.content
    assert errors(response) == {("licit_crops", "licit_exceeds_plot_area")}
    plot = give_plot(household, side_m=100)  # ~1 ha
    assert plot.area_ha < 1
    over = record(
        writer,
        household,
        licit_crops=[{"crop": "cacao", "ha": "30"}, {"crop": "coffee", "ha": "10"}],
    )
    assert over.status_code == 400
    assert errors(over) == {("licit_crops", "licit_exceeds_plot_area")}
    english = writer.post(
        VISITS,
        {
            "household": household,
            "visited_on": "2026-09-14",
            "method": "field_visit",
            "coca_ha": "0",
            "licit_crops": [{"crop": "cacao", "ha": "40"}],
        },
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert english.json()["errors"][0]["detail"] == (
        f"The licit crops (40 ha) exceed the household's plot area ({plot.area_ha} ha)."
    )
    assert not Verification.objects.exists()
    fits = record(writer, household, licit_crops=[{"crop": "cacao", "ha": str(plot.area_ha)}])
    assert fits.status_code == 201, fits.content


# --- the demo obeys the rules --------------------------------------------------------------------


def test_the_demo_seeds_visits_that_hold_up() -> None:
    """seed_demo goes through the services: its confirmed coca-free visits carry a GPS fix the
    guard accepts and a photo; every visit names its plot and fits on it."""
    from io import StringIO

    from django.core.management import call_command
    from django.db.models import Sum

    from farmers.models import Plot
    from registry.boundaries import gps_fix_plausible

    call_command("seed_demo", "--force", stdout=StringIO())
    call_command("seed_demo", "--force", stdout=StringIO())  # idempotent
    visits = Verification.objects.select_related("household").prefetch_related("plots")
    confirmed = [v for v in visits if v.status == "confirmed" and v.coca_ha == 0]
    assert confirmed
    for visit in confirmed:
        household = visit.household
        plots = Plot.objects.filter(household=household).values_list("geometry", flat=True)
        assert visit.longitude is not None and visit.latitude is not None
        assert gps_fix_plausible(
            household.district_id, float(visit.longitude), float(visit.latitude), plots
        )
        assert visit.photo_sha256
    for visit in visits:
        assert [p.household_id for p in visit.plots.all()] == [visit.household_id]
        area = Plot.objects.filter(household=visit.household).aggregate(a=Sum("area_ha"))["a"]
        assert sum(Decimal(c["ha"]) for c in visit.licit_crops) <= area
