"""Issue 15 in the field app (Django test client): the visit form names the plots it saw, the
household page explains the stage in words with the decisions about the family, and the pages
to file an appeal, propose a visit correction and see (programme staff: decide) the pending
exclusions and appeals. Coca data: nothing of it for a role without coca:read in the area."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from farmers.choices import AppealStatus, ExclusionStatus, Stage, VerificationStatus
from farmers.models import Appeal, ExclusionProposal, Household, Verification, VisitCorrection
from farmers.transition import engine
from registry.choices import OrganizationKind, Role
from registry.models import AccessLog, ChangeRecord, District, Organization, Program
from registry.services import membership_assign
from tests.factories import OrganizationFactory, UserFactory
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.test_exclusions import TWICE
from tests.farmers.transition_helpers import make_household as household_with_evidence
from tests.field.conftest import HouseholdMaker, make_officer

pytestmark = pytest.mark.django_db


def login(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def supervisor(partner: Organization) -> Any:
    """A supervisor of the implementer: coca:read in its districts."""
    return make_officer(partner, "supervisora", role=Role.SUPERVISOR)


@pytest.fixture
def other_supervisor(other_partner: Organization) -> Any:
    """A supervisor elsewhere (Sivia and Llochegua)."""
    return make_officer(other_partner, "supervisor-otro", role=Role.SUPERVISOR)


@pytest.fixture
def staff(program: Program) -> Any:
    """Programme staff of the programme's agency (decides about families)."""
    user = UserFactory.create(username="personal")
    membership_assign(user=user, organization=program.agency, role=Role.PROGRAM_STAFF)
    return user


@pytest.fixture
def relapsed(program: Program, geography: None) -> Household:
    """A household in Pichari that relapsed twice: relapsed, with an exclusion proposed."""
    household = household_with_evidence(program, TWICE)
    engine.recompute_households([household.pk])
    household.refresh_from_db()
    assert household.stage == Stage.RELAPSED
    return household


# --- the visit form: plots seen ---------------------------------------------------------------


def visit_form(**extra: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "visited_on": "2026-11-20",
        "method": "field_visit",
        "coca_ha": "0",
        **extra,
    }


def test_the_visit_form_saves_the_plots_seen(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    seen, other = give_plot(household.pk), give_plot(household.pk, lon=-73.8)
    url = f"/campo/hogares/{household.pk}/visita/"
    page = officer_client.get(url).content.decode()
    assert 'name="plots"' in page and f'value="{seen.pk}"' in page
    assert "Parcelas vistas en esta visita" in page and "Chacra de prueba" in page
    assert 'Chacra de prueba <span class="muted">· 3,98 ha' in page  # area, decimal comma
    response = officer_client.post(
        url,
        visit_form(
            plots=[str(seen.pk)], **{"licit_crops.0.crop": "cacao", "licit_crops.0.ha": "1,5"}
        ),
    )
    assert response.status_code == 302
    visit = Verification.objects.get(household=household)
    assert visit.licit_crops == [{"crop": "cacao", "ha": "1.5"}]  # the decimal comma
    assert list(visit.plots.all()) == [seen]
    assert other.pk not in {p.pk for p in visit.plots.all()}
    shown = officer_client.get(f"/campo/hogares/{household.pk}/").content.decode()
    assert "Parcelas vistas" in shown


def test_the_visit_form_shows_the_evidence_errors_in_spanish_and_writes_nothing(
    officer_client: Client, officer: Any, make_household: HouseholdMaker
) -> None:
    household = make_household(officer)
    give_plot(household.pk)
    stranger = give_plot(make_household(officer, dni="44556677", given="Luis").pk)
    url = f"/campo/hogares/{household.pk}/visita/"
    wrong = officer_client.post(url, visit_form(plots=[str(stranger.pk), "no-es-un-id"]))
    assert wrong.status_code == 400
    html = wrong.content.decode()
    assert 'data-error-for="plots">Esta parcela no pertenece al hogar.' in html
    assert f'value="{stranger.pk}"' not in html  # only the household's plots are offered
    too_much = officer_client.post(
        url, visit_form(**{"licit_crops.0.crop": "cacao", "licit_crops.0.ha": "9"})
    )
    assert too_much.status_code == 400
    assert 'data-error-for="licit_crops">Los cultivos lícitos' in too_much.content.decode()
    assert not Verification.objects.filter(household=household).exists()


# --- the household page: stage in words, suspension, decisions --------------------------------


def test_the_household_page_explains_the_stage_and_lists_the_decisions(
    supervisor: Any, relapsed: Household
) -> None:
    html = login(supervisor).get(f"/campo/hogares/{relapsed.pk}/").content.decode()
    assert "Reincidente" in html
    # The reason, in words (never the engine's code).
    assert "Se volvió a encontrar coca después de estar libre de coca (reincidencia)" in html
    assert ">relapse<" not in html and "coca_found" not in html
    assert "Reincidencias" in html and "Visitas confirmadas" in html  # the evidence
    assert "data-suspended" in html and "Apoyo suspendido" in html
    assert "data-exclusion" in html and "Exclusión propuesta" in html and "Propuesta" in html
    assert f"/campo/hogares/{relapsed.pk}/apelacion/" in html
    assert "/correccion/" in html  # the confirmed visits may be corrected


def test_a_role_without_coca_read_sees_no_coca_figures_nor_decisions(
    officer: Any, relapsed: Household
) -> None:
    """An implementer's field officer sees the stage and why (programme people, the existing
    rule) but neither coca figures nor the decisions about the family (coca data)."""
    Appeal.objects.create(
        household=relapsed, kind="relapse", relapse_on=date(2025, 6, 1), grounds="Motivo"
    )
    client = login(officer)
    page = client.get(f"/campo/hogares/{relapsed.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Reincidente" in html and "Visitas confirmadas" in html
    for hidden in ("Reincidencias", "Coca en la última visita", "data-exclusion", "data-appeal"):
        assert hidden not in html
    assert "/apelacion/" not in html and "/correccion/" not in html
    assert client.get(f"/campo/hogares/{relapsed.pk}/apelacion/").status_code == 404
    assert (
        client.post(
            f"/campo/hogares/{relapsed.pk}/apelacion/", {"kind": "relapse", "grounds": "x"}
        ).status_code
        == 404
    )
    visit = Verification.objects.filter(household=relapsed).first()
    assert visit is not None
    correction = f"/campo/hogares/{relapsed.pk}/visitas/{visit.pk}/correccion/"
    assert client.get(correction).status_code == 404
    posted = client.post(correction, {"field": "coca_ha", "value": "0", "reason": "x"})
    assert posted.status_code == 404
    assert "/campo/decisiones/" not in client.get("/campo/").content.decode()
    refused = client.get("/campo/decisiones/")
    assert refused.status_code == 403 and "Motivo" not in refused.content.decode()
    assert "Su rol no puede ver" in refused.content.decode()
    assert Appeal.objects.count() == 1 and not VisitCorrection.objects.exists()


def test_outside_the_programme_people_see_no_stage_at_all(
    program: Program, geography: None, relapsed: Household
) -> None:
    buyer = OrganizationFactory.create(code="coop", kind=OrganizationKind.BUYER)
    buyer.districts.set(District.objects.filter(ubigeo="080910"))
    buyer.programs.add(program)
    client = login(make_officer(buyer, "comprador"))
    page = client.get(f"/campo/hogares/{relapsed.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for hidden in ("Reincidente", "Por qué", "data-suspended", "Visitas confirmadas"):
        assert hidden not in html


# --- appeals ----------------------------------------------------------------------------------


def test_an_appeal_is_filed_and_its_status_shown(supervisor: Any, relapsed: Household) -> None:
    client = login(supervisor)
    url = f"/campo/hogares/{relapsed.pk}/apelacion/"
    page = client.get(url)
    assert page.status_code == 200 and "Motivo de la familia" in page.content.decode()
    response = client.post(
        url, {"kind": "relapse", "grounds": "La coca era del vecino.", "evidence_note": "Acta"}
    )
    assert response.status_code == 302
    appeal = Appeal.objects.get(household=relapsed)
    assert (appeal.kind, appeal.status, appeal.grounds) == (
        "relapse",
        AppealStatus.FILED,
        "La coca era del vecino.",
    )
    assert ChangeRecord.objects.filter(object_id=str(appeal.pk), channel="web").exists()
    html = client.get(f"/campo/hogares/{relapsed.pk}/").content.decode()
    assert "data-appeal" in html and "Presentada" in html and "La coca era del vecino." in html


def test_appeal_errors_are_spanish_and_write_nothing(
    supervisor: Any, relapsed: Household, program: Program
) -> None:
    client = login(supervisor)
    url = f"/campo/hogares/{relapsed.pk}/apelacion/"
    empty = client.post(url, {"kind": "relapse", "grounds": "  "})
    assert empty.status_code == 400
    assert 'data-error-for="grounds">Escriba el motivo de la familia.' in empty.content.decode()
    assert client.post(url, {"kind": "relapse", "grounds": "Primera"}).status_code == 302
    again = client.post(url, {"kind": "relapse", "grounds": "Segunda"})
    assert again.status_code == 400
    assert 'data-error-for="kind">Ya hay una apelación' in again.content.decode()
    calm = household_with_evidence(program)  # enrolled: nothing to appeal
    nothing = client.post(
        f"/campo/hogares/{calm.pk}/apelacion/", {"kind": "relapse", "grounds": "x"}
    )
    assert nothing.status_code == 400
    assert (
        'data-error-for="kind">Este hogar no tiene una recaída ni una exclusión'
        in nothing.content.decode()
    )
    assert Appeal.objects.count() == 1


def test_appeal_and_correction_pages_outside_the_area_answer_404(
    other_supervisor: Any, relapsed: Household
) -> None:
    client = login(other_supervisor)
    visit = Verification.objects.filter(household=relapsed).first()
    assert visit is not None
    for url in (
        f"/campo/hogares/{relapsed.pk}/apelacion/",
        f"/campo/hogares/{relapsed.pk}/visitas/{visit.pk}/correccion/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"kind": "relapse", "grounds": "x"}).status_code == 404
    assert not Appeal.objects.exists() and not VisitCorrection.objects.exists()


# --- visit corrections ------------------------------------------------------------------------


def test_a_correction_of_a_confirmed_visit_is_proposed(
    supervisor: Any, relapsed: Household
) -> None:
    client = login(supervisor)
    visit = Verification.objects.get(household=relapsed, visited_on=date(2025, 6, 1))
    url = f"/campo/hogares/{relapsed.pk}/visitas/{visit.pk}/correccion/"
    page = client.get(url).content.decode()
    assert "Qué corregir" in page and "01/06/2025" in page
    response = client.post(
        url, {"field": "coca_ha", "value": "0,5", "reason": "Se digitó mal el área."}
    )
    assert response.status_code == 302
    correction = VisitCorrection.objects.get()
    assert (correction.field, correction.old_value, correction.new_value) == (
        "coca_ha",
        "1.0000",
        "0.5000",
    )
    visit.refresh_from_db()
    assert str(visit.coca_ha) != "0.5000"  # a second person approves it (admin or API)
    dated = client.post(url, {"field": "visited_on", "value": "02/06/2025", "reason": "Fecha"})
    assert dated.status_code == 302
    assert VisitCorrection.objects.filter(new_value="2025-06-02").exists()
    html = client.get(f"/campo/hogares/{relapsed.pk}/").content.decode()
    assert "data-correction" in html and "1,00 → 0,50" in html and "02/06/2025" in html
    logged = AccessLog.objects.filter(resource="visit_corrections", created_by=supervisor).first()
    assert logged is not None and str(correction.pk) in logged.object_ids


def test_correction_errors_are_spanish_and_write_nothing(
    supervisor: Any, relapsed: Household
) -> None:
    client = login(supervisor)
    visit = Verification.objects.get(household=relapsed, visited_on=date(2025, 6, 1))
    url = f"/campo/hogares/{relapsed.pk}/visitas/{visit.pk}/correccion/"
    no_reason = client.post(url, {"field": "coca_ha", "value": "0,5", "reason": ""})
    assert no_reason.status_code == 400
    assert 'data-error-for="reason">Indique el motivo.' in no_reason.content.decode()
    same = client.post(url, {"field": "coca_ha", "value": "1", "reason": "Igual"})
    assert same.status_code == 400
    assert 'data-error-for="value">' in same.content.decode()
    Verification.objects.filter(pk=visit.pk).update(status=VerificationStatus.PENDING)
    pending = client.post(url, {"field": "coca_ha", "value": "0,5", "reason": "Motivo"})
    assert pending.status_code == 400
    assert (
        'data-error-for="field">Solo se corrige una visita confirmada' in pending.content.decode()
    )
    assert not VisitCorrection.objects.exists()


# --- pending decisions ------------------------------------------------------------------------


def test_pending_decisions_are_read_only_for_a_supervisor(
    supervisor: Any, relapsed: Household
) -> None:
    Appeal.objects.create(
        household=relapsed, kind="exclusion", relapse_on=date(2025, 6, 1), grounds="Motivo X"
    )
    client = login(supervisor)
    assert "/campo/decisiones/" in client.get("/campo/").content.decode()
    html = client.get("/campo/decisiones/").content.decode()
    assert "Decisiones pendientes" in html and relapsed.code in html and "Motivo X" in html
    assert "Reincidencias" in html  # the exclusion's evidence, in words
    assert "/decidir/" not in html  # programme staff decide
    proposal = ExclusionProposal.objects.get()
    refused = client.post(
        f"/campo/decisiones/exclusion/{proposal.pk}/decidir/",
        {"to": "confirmed", "version": proposal.version},
    )
    assert refused.status_code == 409
    assert "Solo el personal del programa" in refused.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == ExclusionStatus.PROPOSED


def test_pending_decisions_elsewhere_are_not_listed(
    other_supervisor: Any, relapsed: Household
) -> None:
    client = login(other_supervisor)
    html = client.get("/campo/decisiones/").content.decode()
    assert relapsed.code not in html and "No hay exclusiones pendientes." in html
    proposal = ExclusionProposal.objects.get()
    url = f"/campo/decisiones/exclusion/{proposal.pk}/decidir/"
    assert client.post(url, {"to": "confirmed"}).status_code == 404


def test_programme_staff_decide_from_the_list(staff: Any, relapsed: Household) -> None:
    client = login(staff)
    proposal = ExclusionProposal.objects.get()
    html = client.get("/campo/decisiones/").content.decode()
    assert f"/campo/decisiones/exclusion/{proposal.pk}/decidir/" in html
    url = f"/campo/decisiones/exclusion/{proposal.pk}/decidir/"
    no_note = client.post(url, {"to": "dismissed", "version": proposal.version})
    assert no_note.status_code == 409
    proposal.refresh_from_db()
    assert proposal.status == ExclusionStatus.PROPOSED
    stale = client.post(url, {"to": "confirmed", "version": proposal.version + 5})
    assert stale.status_code == 409
    proposal.refresh_from_db()
    assert proposal.status == ExclusionStatus.PROPOSED
    done = client.post(url, {"to": "confirmed", "version": proposal.version})
    assert done.status_code == 302
    proposal.refresh_from_db()
    assert proposal.status == ExclusionStatus.CONFIRMED
    assert ChangeRecord.objects.filter(object_id=str(proposal.pk), channel="web").exists()
    assert client.post(f"/campo/decisiones/otra/{proposal.pk}/decidir/").status_code == 404


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_pending_decisions_query_budget_is_flat(
    supervisor: Any, staff: Any, relapsed: Household, program: Program
) -> None:
    clients = [login(supervisor), login(staff)]
    one = [_count(client, "/campo/decisiones/") for client in clients]
    for _n in range(4):
        household = household_with_evidence(program, TWICE)
        engine.recompute_households([household.pk])
        Appeal.objects.create(
            household=household, kind="relapse", relapse_on=date(2025, 6, 1), grounds="Motivo"
        )
    assert ExclusionProposal.objects.count() == 5
    assert [_count(client, "/campo/decisiones/") for client in clients] == one


def test_the_household_page_warns_what_a_pending_visit_lacks_to_be_confirmed(
    officer_client: Client, officer: Any, partner: Organization, make_household: HouseholdMaker
) -> None:
    """The confirmation's evidence errors (``gps_required``, ``gps_outside_area``,
    ``photo_required``) in Spanish on the visit, before a supervisor meets them; only for who
    recorded it or reads coca data (it tells that the visit found no coca)."""
    household = make_household(officer)
    url = f"/campo/hogares/{household.pk}/visita/"
    page = f"/campo/hogares/{household.pk}/"
    assert officer_client.post(url, visit_form()).status_code == 302
    html = officer_client.get(page).content.decode()
    assert "Aún no puede confirmarse: Una visita que no encontró coca necesita un punto GPS" in html
    Verification.objects.update(latitude="-12.100000", longitude="-70.000000")  # Madre de Dios
    html = officer_client.get(page).content.decode()
    assert "Aún no puede confirmarse: El punto GPS no está" in html
    give_plot(household.pk)  # south-west corner at -12.52, -73.83
    Verification.objects.update(latitude="-12.519000", longitude="-73.829000")  # on the plot
    html = officer_client.get(page).content.decode()
    assert "Aún no puede confirmarse: Una visita que no encontró coca necesita una foto" in html
    colleague = login(make_officer(partner, "tecnico-2"))
    assert "data-confirm-problem" not in colleague.get(page).content.decode()
    Verification.objects.update(photo_sha256="0" * 64)
    assert "data-confirm-problem" not in officer_client.get(page).content.decode()
