"""The field pages through Django's test client: access, scoping, the forms' server-side path
(the same services as the API), Spanish messages, query budgets, the offline plumbing and the
extension points used by titles and markets."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from farmers.models import Household, Plot, Verification
from farmers.pages import registry as pages
from farmers.pages.offline import STATIC_DIR as STATIC_FIELD
from registry.alerts import AlertSpec, alert_raise
from registry.choices import AlertKind
from registry.models import ChangeRecord
from tests.factories import UserFactory
from tests.farmers.evidence_helpers import give_plot
from tests.field.conftest import MEMBERS, HouseholdMaker

pytestmark = pytest.mark.django_db

PAGES = ["my_work", "register", "household", "visit", "plot", "installation"]


def url_for(name: str, household: Household) -> str:
    return {
        "my_work": "/campo/",
        "register": "/campo/registrar/",
        "household": f"/campo/hogares/{household.pk}/",
        "visit": f"/campo/hogares/{household.pk}/visita/",
        "plot": f"/campo/hogares/{household.pk}/parcela/",
        "installation": f"/campo/hogares/{household.pk}/cultivo/",
    }[name]


@pytest.mark.parametrize("name", PAGES)
def test_pages_answer_the_officer_in_spanish(
    name: str, officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    response = officer_client.get(url_for(name, household))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="es">' in html
    assert "Padrón de campo" in html and "Mi trabajo" in html


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_go_to_the_field_login(
    name: str, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    url = url_for(name, household)
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/campo/ingresar/?next=")


@pytest.mark.parametrize("name", ["household", "visit", "plot", "installation"])
def test_households_outside_my_districts_answer_404(
    name: str, officer_client: Client, other_officer: Any, make_household: HouseholdMaker
) -> None:
    elsewhere = make_household(other_officer, district="050407", dni="44556677")
    assert officer_client.get(url_for(name, elsewhere)).status_code == 404
    if name != "household":  # the household page is read-only (405 to a POST)
        assert officer_client.post(url_for(name, elsewhere), {}).status_code == 404


def test_login_page_signs_in_and_out(officer: Any) -> None:
    client = Client()
    page = client.get("/campo/ingresar/")
    assert page.status_code == 200
    assert "Ingresar" in page.content.decode()
    bad = client.post("/campo/ingresar/", {"username": "tecnico", "password": "mala"})
    assert bad.status_code == 200
    assert "correctos" in bad.content.decode()  # Django's own Spanish message
    good = client.post("/campo/ingresar/", {"username": "tecnico", "password": "clave-segura-123"})
    assert good.status_code == 302 and good["Location"] == "/campo/"
    assert client.post("/campo/salir/")["Location"] == "/campo/ingresar/"
    assert client.get("/campo/").status_code == 302


def test_english_is_available(officer_client: Client) -> None:
    officer_client.cookies["django_language"] = "en"
    html = officer_client.get("/campo/").content.decode()
    assert '<html lang="en">' in html
    assert "My work" in html and "Mi trabajo" not in html


def test_my_work_lists_my_households_alerts_and_observations(
    officer_client: Client,
    officer: Any,
    other_officer: Any,
    make_household: HouseholdMaker,
    program: Any,
) -> None:
    mine = make_household(officer, dni="11111111", given="Ana", surnames="Rojas Pari")
    theirs = make_household(
        other_officer, district="050407", dni="22222222", given="Eva", surnames="Soto Ruiz"
    )
    for household, text in ((mine, "Visita vencida aquí"), (theirs, "Visita vencida allá")):
        alert_raise(
            AlertSpec(
                kind=AlertKind.VISIT_DUE,
                key=f"visit:{household.pk}",
                message=text,
                district_id=household.district_id,
                program_id=household.program_id,
                household_id=household.pk,
                due_on=date(2026, 12, 1),
            )
        )
    html = officer_client.get("/campo/").content.decode()
    assert mine.code in html and theirs.code not in html
    assert "Visita vencida aquí" in html and "Visita vencida allá" not in html
    assert "Pendiente de revisión" in html  # the registration waits for the supervisor

    # Search by ID number, code and name (the API's filter).
    assert mine.code in officer_client.get("/campo/", {"q": "11111111"}).content.decode()
    assert mine.code in officer_client.get("/campo/", {"q": mine.code}).content.decode()
    assert mine.code in officer_client.get("/campo/", {"q": "quis jua"}).content.decode()
    missing = officer_client.get("/campo/", {"q": "22222222"}).content.decode()
    assert theirs.code not in missing and "Ningún hogar coincide" in missing


def test_my_work_search_posts_its_query(
    officer: Any, officer_client: Client, make_household: HouseholdMaker
) -> None:
    mine = make_household(officer, dni="11111111")
    html = officer_client.get("/campo/").content.decode()
    form = html[html.index('role="search"') - 40 : html.index('name="q"')]
    assert 'method="post"' in form and "csrfmiddlewaretoken" in form
    found = officer_client.post("/campo/", {"q": "11111111"})
    assert found.status_code == 200 and mine.code in found.content.decode()
    assert 'value="11111111"' in found.content.decode()
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(officer)
    assert csrf_client.post("/campo/", {"q": "11111111"}).status_code == 403


def _count_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/campo/").status_code == 200
    return len(queries)


def test_my_work_query_budget_is_flat(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    make_household(officer, dni="30000000")
    one = _count_queries(officer_client)
    for n in range(1, 50):
        make_household(officer, dni=f"{30000000 + n}", given=f"Nombre{n}", surnames="Pérez Soto")
    many = _count_queries(officer_client)
    assert one == many


def member(**overrides: Any) -> dict[str, str]:
    values = {
        "given_names": "Rosa",
        "surnames": "Huamán Ccori",
        "document_type": "dni",
        "document_number": "20304050",
        "birth_date": "1985-03-12",
        "sex": "f",
        "relationship": "head",
        "phone": "",
    }
    values.update(overrides)
    return {f"members.0.{k}": v for k, v in values.items()}


def register_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "program": "pirdais",
        "district": "080910",
        "community": "Natividad",
        "consent.signed_on": "2026-11-02",
        "consent.purposes": ["registry", "contact"],
        **member(),
        "members.1.given_names": "Julio",
        "members.1.surnames": "Pari Condori",
        "members.1.document_type": "dni",
        "members.1.document_number": "30405060",
        "members.1.birth_date": "1983-07-30",
        "members.1.sex": "m",
        "members.1.relationship": "spouse",
    }
    data.update(overrides)
    return data


def test_register_without_javascript_calls_the_service(
    officer_client: Client, officer: Any
) -> None:
    data = register_form()
    response = officer_client.post("/campo/registrar/", data)
    assert response.status_code == 302
    household = Household.objects.get(pk=data["id"])
    assert response["Location"] == f"/campo/hogares/{household.pk}/"
    assert household.members.count() == 2
    assert household.created_by == officer
    assert household.consents.get().purposes == ["contact", "registry"]
    record = ChangeRecord.objects.get(object_id=str(household.pk), action="create")
    assert record.channel == "web"
    # The same form posted twice (a double tap) registers the family once.
    assert officer_client.post("/campo/registrar/", data).status_code == 302
    assert Household.objects.count() == 1


def test_register_errors_are_field_level_and_in_spanish(officer_client: Client) -> None:
    data = register_form(**member(given_names="", document_number="12", birth_date="1985-13-45"))
    response = officer_client.post("/campo/registrar/", data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-error-for="members.0.given_names">Este campo es obligatorio.' in html
    assert 'data-error-for="members.0.document_number"' in html
    assert 'data-error-for="members.0.birth_date">Ingrese una fecha' in html
    assert "Corrija los errores indicados." in html
    # What was typed is kept.
    assert 'value="Huamán Ccori"' in html and 'value="Julio"' in html
    assert Household.objects.count() == 0


def test_register_choice_errors_name_labels_not_codes(officer_client: Client) -> None:
    data = register_form(**member(sex="x", relationship="spouse", document_type="pas"))
    data["consent.purposes"] = ["contact"]
    html = officer_client.post("/campo/registrar/", data).content.decode()
    assert (
        'data-error-for="members.0.sex">Use uno de los siguientes: “Femenino”, “Masculino”.' in html
    )
    assert "“Carné de extranjería (CE)”" in html
    assert "“Padrón del programa”" in html
    assert "Exactamente un integrante debe tener el parentesco “Jefe o jefa de hogar”." in (
        officer_client.post(
            "/campo/registrar/", register_form(**member(relationship="spouse"))
        ).content.decode()
    )
    officer_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = officer_client.post("/campo/registrar/", data).content.decode()
    assert 'data-error-for="members.0.sex">Use one of: “Female”, “Male”.' in english
    assert "“Programme registry”" in english
    for code in ("“x”", "“pas”", "“head”", "“registry”", "dni, ce", "Unknown value"):
        assert code not in html and code not in english


def test_register_outside_my_area_and_duplicate_ids_are_refused(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    outside = officer_client.post("/campo/registrar/", register_form(district="050407"))
    assert outside.status_code == 400
    assert "fuera de su ámbito asignado" in outside.content.decode()
    existing = make_household(officer, dni="20304050")
    clash = officer_client.post("/campo/registrar/", register_form())
    assert clash.status_code == 400
    assert f"ya está registrado en el hogar {existing.code}" in clash.content.decode()
    assert Household.objects.count() == 1


def test_duplicate_warnings_name_only_what_the_officer_may_see(
    officer_client: Client, officer: Any, other_officer: Any, make_household: HouseholdMaker
) -> None:
    mine = make_household(officer, dni="11111111")
    theirs = make_household(
        other_officer, district="050407", dni="22222222", given="Eva", surnames="Soto Ruiz"
    )
    same = officer_client.post(
        "/campo/duplicados/", {"document_type": "dni", "document_number": "11111111"}
    ).json()["matches"]
    assert [m["code"] for m in same] == [mine.code]
    assert same[0]["blocking"] and "ya está registrado" in same[0]["message"]
    # Outside the officer's area: nothing at all, exactly as for an ID nobody has.
    hidden = officer_client.post(
        "/campo/duplicados/", {"document_type": "dni", "document_number": "22222222"}
    )
    unknown = officer_client.post(
        "/campo/duplicados/", {"document_type": "dni", "document_number": "33333333"}
    )
    assert hidden.status_code == unknown.status_code == 200
    assert hidden.content == unknown.content == b'{"matches": []}'
    assert theirs.code not in hidden.content.decode()
    similar = officer_client.post(
        "/campo/duplicados/",
        {
            "given_names": "Juana",
            "surnames": "Quispe Huaman",
            "birth_date": "1980-06-01",
            "district": "080910",
        },
    ).json()["matches"]
    assert [(m["reason"], m["code"], m["blocking"]) for m in similar] == [
        ("similar_name", mine.code, False)
    ]
    similar_elsewhere = officer_client.post(
        "/campo/duplicados/",
        {
            "given_names": "Eva",
            "surnames": "Soto Ruiz",
            "birth_date": str(MEMBERS[0]["birth_date"]),
            "district": "050407",
        },
    ).json()
    assert similar_elsewhere == {"matches": []}
    nothing = officer_client.post("/campo/duplicados/", {"document_number": "x"}).json()
    assert nothing == {"matches": []}
    # Someone without a role that registers households cannot probe ID numbers.
    stranger = Client()
    stranger.force_login(UserFactory.create(username="sin-rol"))
    probe = {"document_type": "dni", "document_number": "11111111"}
    assert stranger.post("/campo/duplicados/", probe).status_code == 403


def test_duplicate_check_takes_no_id_number_in_the_url(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    make_household(officer, dni="11111111")
    probe = {"document_type": "dni", "document_number": "11111111"}
    response = officer_client.get("/campo/duplicados/", probe)
    assert response.status_code == 405
    assert b"11111111" not in response.content
    # The form's script posts the check (CSRF-protected), never a query string.
    script = (STATIC_FIELD / "field.js").read_text()
    assert 'method: "POST"' in script and 'url + "?"' not in script
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(officer)
    assert csrf_client.post("/campo/duplicados/", probe).status_code == 403


def test_duplicate_check_is_throttled_per_person(
    officer_client: Client, officer: Any, other_officer: Any, settings: Any
) -> None:
    from django.core.cache import cache

    cache.clear()
    settings.DUPLICATE_CHECK_LIMIT = 30
    probe = {"document_type": "dni", "document_number": "44444444"}
    answers = [officer_client.post("/campo/duplicados/", probe) for _ in range(31)]
    assert {r.status_code for r in answers[:30]} == {200}
    throttled = answers[30]
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    body = throttled.json()
    assert body["matches"] == [] and body["code"] == "too_many_checks"
    assert "Demasiadas verificaciones" in body["message"]
    # Another officer is not affected.
    other = Client()
    other.force_login(other_officer)
    assert other.post("/campo/duplicados/", probe).status_code == 200


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\xdac\xfc\xcf\xc0P\x0f\x00\x04\x85\x01\x80\x84\xa9\x8c!"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def test_visit_without_javascript(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    give_plot(household.pk)  # the licit crops must fit on the family's plots
    url = f"/campo/hogares/{household.pk}/visita/"
    bad = officer_client.post(url, {"visited_on": "2999-01-01", "method": "field_visit"})
    assert bad.status_code == 400
    assert 'data-error-for="visited_on">La fecha no puede ser futura.' in bad.content.decode()
    response = officer_client.post(
        url,
        {
            "id": str(uuid.uuid4()),
            "visited_on": "2026-11-20",
            "method": "field_visit",
            "coca_ha": "0",
            "licit_crops.0.crop": "cacao",
            "licit_crops.0.ha": "1.5",
            "location.lat": "-12.44",
            "location.lon": "-73.98",
            "photo": SimpleUploadedFile("v.png", PNG, content_type="image/png"),
        },
    )
    assert response.status_code == 302
    visit = Verification.objects.get(household=household)
    assert str(visit.latitude) == "-12.440000" and visit.photo_sha256
    assert visit.licit_crops == [{"crop": "cacao", "ha": "1.5"}]


GEOJSON = {
    "type": "Polygon",
    "coordinates": [
        [
            [-73.98, -12.44],
            [-73.979, -12.44],
            [-73.979, -12.441],
            [-73.98, -12.441],
            [-73.98, -12.44],
        ]
    ],
}


def test_plot_without_javascript_from_walk_or_file(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    url = f"/campo/hogares/{household.pk}/parcela/"
    empty = officer_client.post(url, {"name": "Chacra", "tenure": "possession"})
    assert empty.status_code == 400
    assert "Recorra el lindero" in empty.content.decode()
    walked = officer_client.post(
        url, {"name": "Chacra", "tenure": "possession", "geometry": json.dumps(GEOJSON)}
    )
    assert walked.status_code == 302
    upload = SimpleUploadedFile(
        "chacra.geojson", json.dumps(GEOJSON).encode(), content_type="application/geo+json"
    )
    from_file = officer_client.post(url, {"name": "Otra", "tenure": "owned_titled", "file": upload})
    assert from_file.status_code == 302
    assert Plot.objects.filter(household=household).count() == 2
    broken = officer_client.post(
        url,
        {"name": "Mala", "tenure": "possession", "file": SimpleUploadedFile("x.kml", b"<kml")},
    )
    assert broken.status_code == 400
    assert 'data-error-for="file"' in broken.content.decode()
    page = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert 'id="plot-features"' in page and "Chacra" in page


def test_pages_send_records_through_the_api_with_the_session_and_csrf(
    officer: Any, make_household: HouseholdMaker
) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(officer)
    payload = {
        "id": str(uuid.uuid4()),
        "program": "pirdais",
        "district": "080910",
        "members": [
            {
                "given_names": "Rosa",
                "surnames": "Huamán",
                "document_type": "dni",
                "document_number": "20304050",
                "sex": "f",
                "birth_date": "1985-03-12",
                "relationship": "head",
            }
        ],
        "consent": {"signed_on": "2026-11-02", "purposes": ["registry"]},
    }
    body = json.dumps(payload)
    assert client.post("/api/v1/households/", body, "application/json").status_code == 403
    client.get("/campo/registrar/")  # sets the CSRF cookie, as the page does
    token = client.cookies["csrftoken"].value
    first = client.post("/api/v1/households/", body, "application/json", HTTP_X_CSRFTOKEN=token)
    assert first.status_code == 201
    retry = client.post("/api/v1/households/", body, "application/json", HTTP_X_CSRFTOKEN=token)
    assert retry.status_code == 200 and retry.json()["id"] == payload["id"]
    assert Household.objects.count() == 1


def test_offline_plumbing(officer_client: Client) -> None:
    worker = officer_client.get("/campo/sw.js")
    assert worker.status_code == 200
    assert worker["Content-Type"].startswith("text/javascript")
    assert worker["Service-Worker-Allowed"] == "/campo/"
    assert 'var CACHE = "campo-' in worker.content.decode()
    assert "/static/field/vendor/leaflet/leaflet.js" in worker.content.decode()
    manifest = officer_client.get("/campo/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = json.loads(manifest.content)
    assert data["name"] == "Padrón – técnicos de campo" and data["start_url"] == "/campo/"
    assert {icon["sizes"] for icon in data["icons"]} >= {"192x192", "512x512"}
    reference = officer_client.get("/campo/referencia.json").json()
    assert sorted(d["ubigeo"] for d in reference["districts"]) == ["080907", "080910"]
    assert [p["code"] for p in reference["programs"]] == ["pirdais"]
    assert reference["choices"]["sexes"] == {"f": "Femenino", "m": "Masculino"}


def test_other_apps_add_panels_actions_and_pages(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    seen: list[Any] = []

    def panel(actor: Any, hh: Household) -> tuple[str, dict[str, Any]] | None:
        seen.append((actor.user, hh.pk))
        return "field/_outbox.html", {}

    pages.register_household_panel("test-panel", panel, order=10)
    pages.register_household_panel("hidden-panel", lambda actor, hh: None)
    pages.register_household_action("test-action", "Solicitar título", "field:visit")
    try:
        html = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    finally:
        for name in ("test-panel", "hidden-panel", "test-action"):
            pages.unregister(name)
    assert seen == [(officer, household.pk)]
    assert "Registros en este celular" in html
    assert f'href="/campo/hogares/{household.pk}/visita/">Solicitar título' in html
