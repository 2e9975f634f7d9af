"""``crop-installations/`` (issue 16, point 2): crops installed on a plot — the rules on crop,
variety, area, plants and planting date (bad input writes nothing), idempotency, the status
machine (installed → producing → lost), the query budget, and the planting-date selector an
EUDR exporter reads."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from farmers import selectors
from farmers.models import CropInstallation, Household, Support
from registry.models import ChangeRecord, Program
from tests.farmers.conftest import ClientMaker
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
URL = "/api/v1/crop-installations/"


@pytest.fixture
def writer(client_for: ClientMaker) -> APIClient:
    """A field officer's key (households read and write)."""
    return client_for()


def payload(plot: Any, **extra: Any) -> dict[str, Any]:
    return {
        "plot": str(plot.pk),
        "crop": "cacao",
        "variety": "ccn51",
        "area_ha": "1.5",
        "plants": 1650,
        "planting_date": "2019-03-15",
        **extra,
    }


def codes(response: Any) -> set[tuple[str | None, str]]:
    return {(e["attr"], e["code"]) for e in response.json()["errors"]}


def test_create_read_and_replay(program: Program, writer: APIClient) -> None:
    household = make_household(program)
    plot = give_plot(household.pk)  # 4 ha
    ident = str(uuid.uuid4())
    made = writer.post(URL, payload(plot, id=ident, household=str(household.pk)), format="json")
    assert made.status_code == 201, made.content
    body = made.json()
    assert (body["crop"], body["variety"], body["area_ha"], body["plants"]) == (
        "cacao",
        "ccn51",
        "1.5000",
        1650,
    )
    assert (body["planting_date"], body["status"], body["household"], body["version"]) == (
        "2019-03-15",
        "installed",
        str(household.pk),
        1,
    )
    assert made["ETag"]
    again = writer.post(URL, payload(plot, id=ident), format="json")
    assert again.status_code == 200 and CropInstallation.objects.count() == 1
    clash = writer.post(URL, payload(plot, id=ident, plants=10), format="json")
    assert clash.status_code == 409 and codes(clash) == {("id", "idempotency_conflict")}
    assert ChangeRecord.objects.filter(object_id=ident).count() == 1


def _other_household_support(program: Program) -> int:
    other = make_household(program)
    return Support.objects.create(
        household=other, kind="inputs", cost_pen=Decimal("100"), given_on=date(2024, 1, 1)
    ).pk


BAD = [
    pytest.param({"crop": "coca"}, {("crop", "invalid_choice")}, id="unknown-crop"),
    pytest.param({"crop": "other", "variety": ""}, {("crop", "crop_not_licit")}, id="not-licit"),
    pytest.param({"variety": "catimor"}, {("variety", "unknown_variety")}, id="coffee-on-cacao"),
    pytest.param({"variety": "forastero"}, {("variety", "unknown_variety")}, id="unknown-variety"),
    pytest.param({"variety": ""}, {("variety", "required")}, id="cacao-needs-variety"),
    pytest.param(
        {"crop": "banana", "variety": "ccn51"}, {("variety", "unknown_variety")}, id="no-list"
    ),
    pytest.param(
        {"area_ha": "4.5"}, {("area_ha", "installation_exceeds_plot_area")}, id="area-over-plot"
    ),
    pytest.param({"area_ha": "0"}, {("area_ha", "min_value")}, id="area-zero"),
    pytest.param({"area_ha": "abc"}, {("area_ha", "invalid")}, id="area-text"),
    pytest.param({"plants": 0}, {("plants", "min_value")}, id="plants-zero"),
    pytest.param({"plants": "1.5"}, {("plants", "invalid")}, id="plants-fraction"),
    pytest.param({"planting_date": "2999-01-01"}, {("planting_date", "future_date")}, id="future"),
    pytest.param(
        {"planting_date": "1900-01-01"}, {("planting_date", "date_out_of_range")}, id="too-old"
    ),
    pytest.param(
        {"crop": "other", "variety": "x", "area_ha": "9"},
        {("crop", "crop_not_licit"), ("area_ha", "installation_exceeds_plot_area")},
        id="every-error-at-once",
    ),
]


@pytest.mark.parametrize(("extra", "expected"), BAD)
def test_bad_input_is_a_field_error_and_writes_nothing(
    program: Program, writer: APIClient, extra: dict[str, Any], expected: set[Any]
) -> None:
    plot = give_plot(make_household(program).pk)
    records = ChangeRecord.objects.count()
    response = writer.post(URL, payload(plot, **extra), format="json")
    assert response.status_code == 400, response.content
    assert codes(response) == expected
    assert not CropInstallation.objects.exists()
    assert ChangeRecord.objects.count() == records


def test_support_and_household_must_be_the_plots(program: Program, writer: APIClient) -> None:
    household = make_household(program)
    plot = give_plot(household.pk)
    foreign = writer.post(
        URL, payload(plot, support=_other_household_support(program)), format="json"
    )
    assert foreign.status_code == 400 and codes(foreign) == {
        ("support", "support_not_in_household")
    }
    wrong = writer.post(
        URL, payload(plot, household=str(make_household(program).pk)), format="json"
    )
    assert wrong.status_code == 400 and codes(wrong) == {("plot", "plot_not_in_household")}
    assert not CropInstallation.objects.exists()
    own = Support.objects.create(
        household=household, kind="inputs", cost_pen=Decimal("900"), given_on=date(2019, 2, 1)
    )
    paid = writer.post(URL, payload(plot, support=own.pk), format="json")
    assert paid.status_code == 201 and paid.json()["support"] == own.pk


def test_a_programme_without_the_crop_refuses_it(program: Program, writer: APIClient) -> None:
    Program.objects.filter(pk=program.pk).update(licit_crops=["coffee"])
    plot = give_plot(make_household(program).pk)
    refused = writer.post(URL, payload(plot), format="json")
    assert refused.status_code == 400 and codes(refused) == {("crop", "crop_not_licit")}
    coffee = writer.post(URL, payload(plot, crop="coffee", variety="catimor"), format="json")
    assert coffee.status_code == 201, coffee.content


def test_live_installations_share_the_plot_and_a_lost_one_frees_it(
    program: Program, writer: APIClient
) -> None:
    plot = give_plot(make_household(program).pk)  # 4 ha
    first = writer.post(URL, payload(plot, area_ha="3"), format="json").json()
    over = writer.post(URL, payload(plot, area_ha="1.5"), format="json")
    assert over.status_code == 400 and codes(over) == {
        ("area_ha", "installation_exceeds_plot_area")
    }
    fits = writer.post(URL, payload(plot, area_ha="0.9"), format="json")
    assert fits.status_code == 201
    lost = writer.post(f"{URL}{first['id']}/transition/", {"to": "lost", "reason": "Helada"})
    assert lost.status_code == 200, lost.content
    assert writer.post(URL, payload(plot, area_ha="2.5"), format="json").status_code == 201


def test_the_status_machine(program: Program, writer: APIClient, client_for: ClientMaker) -> None:
    plot = give_plot(make_household(program).pk)
    made = writer.post(URL, payload(plot), format="json")
    record, etag = made.json(), made["ETag"]
    url = f"{URL}{record['id']}/transition/"
    back = writer.post(url, {"to": "installed"})
    assert back.status_code == 400  # not a target the endpoint takes
    no_reason = writer.post(url, {"to": "lost"})
    assert no_reason.status_code == 400 and codes(no_reason) == {("reason", "required")}
    stale = writer.post(url, {"to": "producing"}, HTTP_IF_MATCH='"7-' + etag.split("-", 1)[1])
    assert stale.status_code == 412
    reader = client_for(["households:read"])
    assert reader.post(url, {"to": "producing"}).status_code == 403
    producing = writer.post(url, {"to": "producing"}, HTTP_IF_MATCH=etag)
    assert producing.status_code == 200, producing.content
    assert (producing.json()["status"], producing.json()["version"]) == ("producing", 2)
    lost = writer.post(url, {"to": "lost", "reason": "Plaga de monilia"})
    body = lost.json()
    assert (body["status"], body["status_note"]) == ("lost", "Plaga de monilia")
    assert body["lost_on"] == timezone.localdate().isoformat()
    again = writer.post(url, {"to": "producing"})
    error = again.json()["errors"][0]
    assert again.status_code == 409 and (error["code"], error["allowed"]) == (
        "invalid_transition",
        [],
    )
    moves = ChangeRecord.objects.filter(object_id=record["id"], action="transition")
    assert moves.count() == 2
    # installed → lost directly
    other = writer.post(URL, payload(plot, area_ha="1"), format="json").json()
    direct = writer.post(f"{URL}{other['id']}/transition/", {"to": "lost", "reason": "Huayco"})
    assert direct.status_code == 200 and direct.json()["status"] == "lost"


def test_list_filters_and_area_scoping(
    program: Program, writer: APIClient, client_for: ClientMaker, other_partner: Any
) -> None:
    household = make_household(program)
    plot = give_plot(household.pk)
    cacao = writer.post(URL, payload(plot), format="json").json()
    coffee = writer.post(
        URL, payload(plot, crop="coffee", variety="typica", area_ha="1"), format="json"
    ).json()
    assert [r["id"] for r in writer.get(URL, {"crop": "coffee"}).json()["results"]] == [
        coffee["id"]
    ]
    listed = writer.get(URL, {"household": str(household.pk), "plot": str(plot.pk)}).json()
    assert [r["id"] for r in listed["results"]] == [cacao["id"], coffee["id"]]
    assert writer.get(URL, {"status": "lost"}).json()["results"] == []
    assert writer.get(URL, {"status": "gone"}).status_code == 400
    outsider = client_for(org=other_partner)  # works in other districts
    assert outsider.get(URL).json()["results"] == []
    assert outsider.get(f"{URL}{cacao['id']}/").status_code == 404
    assert outsider.post(URL, payload(plot, area_ha="0.5"), format="json").status_code == 404


def test_list_query_budget_is_flat(program: Program, writer: APIClient) -> None:
    household = make_household(program)
    plot = give_plot(household.pk, side_m=2000)  # 400 ha
    assert writer.post(URL, payload(plot), format="json").status_code == 201
    writer.get(URL)
    with CaptureQueriesContext(connection) as one:
        assert len(writer.get(f"{URL}?page_size=100").json()["results"]) == 1
    template = CropInstallation.objects.get()
    CropInstallation.objects.bulk_create(
        CropInstallation(
            household=household,
            plot=plot,
            crop="coffee",
            variety="caturra",
            area_ha=Decimal("0.5"),
            plants=100,
            planted_on=date(2020, 1, 1) + timedelta(days=n),
            created_by_key=template.created_by_key,
        )
        for n in range(99)
    )
    with CaptureQueriesContext(connection) as many:
        assert len(writer.get(f"{URL}?page_size=100").json()["results"]) == 100
    assert len(one.captured_queries) == len(many.captured_queries)


def test_plot_planting_dates_gives_each_plots_earliest(program: Program) -> None:
    household: Household = make_household(program)
    first, second, bare = (give_plot(household.pk, lon=-73.83 + n * 0.01) for n in range(3))
    for plot, crop, day in [
        (first, "coffee", date(2021, 5, 1)),
        (first, "cacao", date(2018, 2, 1)),
        (second, "cacao", date(2022, 7, 1)),
    ]:
        CropInstallation.objects.create(
            household=household,
            plot=plot,
            crop=crop,
            area_ha=Decimal("1"),
            plants=10,
            planted_on=day,
        )
    found = selectors.plot_planting_dates([first.pk, second.pk, bare.pk])
    assert found == {first.pk: ("cacao", date(2018, 2, 1)), second.pk: ("cacao", date(2022, 7, 1))}
    assert selectors.plot_planting_dates([first.pk], crop="coffee") == {
        first.pk: ("coffee", date(2021, 5, 1))
    }
    assert selectors.plot_planting_dates([]) == {}


def test_admin_changelist_inlines_and_mark_producing(program: Program, admin_client: Any) -> None:
    household = make_household(program)
    plot = give_plot(household.pk)
    record = CropInstallation.objects.create(
        household=household,
        plot=plot,
        crop="coffee",
        variety="typica",
        area_ha=Decimal("1"),
        plants=4000,
        planted_on=date(2018, 5, 1),
    )
    changelist = admin_client.get(
        "/admin/farmers/cropinstallation/", HTTP_ACCEPT_LANGUAGE="es"
    ).content.decode()
    assert "Típica" in changelist and "Instalado (aún no produce)" in changelist
    page = admin_client.get(f"/admin/farmers/household/{household.pk}/change/").content.decode()
    assert "instalaciones de cultivo" in page.lower() and "Típica" in page
    assert "Típica" in admin_client.get(f"/admin/farmers/plot/{plot.pk}/change/").content.decode()
    admin_client.post(
        "/admin/farmers/cropinstallation/",
        {"action": "mark_producing", "_selected_action": [str(record.pk)]},
    )
    record.refresh_from_db()
    assert (record.status, record.version) == ("producing", 2)
    assert ChangeRecord.objects.filter(object_id=str(record.pk), channel="admin").exists()


def test_a_merge_moves_installations_with_their_plots(program: Program) -> None:
    from farmers import services
    from registry.actors import Actor

    source, target = make_household(program), make_household(program)
    plot = give_plot(source.pk)
    record = CropInstallation.objects.create(
        household=source,
        plot=plot,
        crop="cacao",
        variety="chuncho",
        area_ha=Decimal("1"),
        plants=1000,
        planted_on=date(2015, 1, 1),
    )
    services.household_merge(actor=Actor(unrestricted=True), source=source, target=target)
    record.refresh_from_db()
    assert (record.household_id, record.plot_id, record.version) == (target.pk, plot.pk, 2)
