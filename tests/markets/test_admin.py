"""Admin: contracts with deliveries and history, filters, totals per buyer and crop, CSV export,
actions through the services, buyers' contacts and yield norms."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from markets import services
from markets.models import BuyerProfile, Contract, Delivery, YieldNorm
from registry.models import ChangeRecord

from .conftest import SYSTEM, ContractMaker, Market, make_household, today

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(staff_user: Any, market: Market) -> Client:
    """Programme staff (admin access, all scopes in their programme)."""
    from registry.choices import Role
    from registry.services import membership_assign, role_groups_sync

    role_groups_sync()
    membership_assign(user=staff_user, organization=market.agency, role=Role.PROGRAM_STAFF)
    staff_user.is_staff = True
    staff_user.save()
    client = Client()
    client.force_login(staff_user)
    return client


@pytest.fixture
def data(make_contract: ContractMaker, market: Market) -> dict[str, Any]:
    cacao = make_contract()
    coffee = make_contract(
        buyer="exportadora",
        household=market.other_household.pk,
        crop="coffee",
        product_form="coffee_parchment",
        price_pen_per_kg="14.00",
        status="draft",
    )
    delivery, _c = services.delivery_record(
        actor=SYSTEM,
        contract=cacao.pk,
        delivered_on=today() - timedelta(days=1),
        weight_kg="100",
        quality_grade="a",
    )
    services.delivery_transition(actor=SYSTEM, delivery=delivery, to="accepted")
    outsider = make_household(market.other_program, given="Rosa", surnames="Poma Huamán")
    hidden = make_contract(household=outsider.pk)
    return {"cacao": cacao, "coffee": coffee, "delivery": delivery, "hidden": hidden}


def test_changelist_filters_and_scope(admin_client: Client, data: dict[str, Any]) -> None:
    url = reverse("admin:markets_contract_changelist")
    response = admin_client.get(url)
    assert response.status_code == 200
    shown = {str(c.pk) for c in response.context["cl"].result_list}
    assert shown == {str(data["cacao"].pk), str(data["coffee"].pk)}  # not the other programme
    for params, expected in [
        ({"crop": "coffee"}, {data["coffee"].pk}),
        ({"status": "active"}, {data["cacao"].pk}),
        ({"buyer": str(data["coffee"].buyer_id)}, {data["coffee"].pk}),
        ({"season": str(today().year)}, {data["cacao"].pk, data["coffee"].pk}),
        ({"season": "2001"}, set()),
    ]:
        response = admin_client.get(url, params)
        assert response.status_code == 200, params
        assert {c.pk for c in response.context["cl"].result_list} == expected, params


def test_change_view_shows_deliveries_schedule_and_history(
    admin_client: Client, data: dict[str, Any]
) -> None:
    response = admin_client.get(reverse("admin:markets_contract_change", args=[data["cacao"].pk]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "100,00" in text  # the delivery inline
    assert "950,00" in text
    assert response.context["inline_admin_formsets"]
    names = [f.opts.model._meta.model_name for f in response.context["inline_admin_formsets"]]
    assert names == ["deliveryschedule", "delivery", "contractstatuschange"]
    hidden = admin_client.get(reverse("admin:markets_contract_change", args=[data["hidden"].pk]))
    assert hidden.status_code == 302  # outside the person's area: "does not exist"


def test_totals_per_buyer_and_crop(admin_client: Client, data: dict[str, Any]) -> None:
    url = reverse("admin:markets_contract_totals")
    response = admin_client.get(url)
    assert response.status_code == 200
    totals = response.context["totals"]
    assert [(t["buyer__code"], t["crop"]) for t in totals] == [
        ("coop-pangoa", "cacao"),
        ("exportadora", "coffee"),
    ]
    assert totals[0]["contracted_kg"] == Decimal("1500.00")
    assert totals[0]["accepted_kg"] == Decimal("100.00")
    assert totals[0]["accepted_value_pen"] == Decimal("950.00")
    filtered = admin_client.get(url, {"crop": "coffee"})
    assert [t["crop"] for t in filtered.context["totals"]] == ["coffee"]
    csv_response = admin_client.get(url, {"crop": "cacao", "format": "csv"})
    body = b"".join(csv_response.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.splitlines()[0].startswith("buyer,crop,product_form,contracted_kg")
    assert "coop-pangoa,cacao,cacao_dry,1500.00,100.00,950.00" in body
    assert "exportadora" not in body


def test_csv_export_and_actions(admin_client: Client, data: dict[str, Any]) -> None:
    url = reverse("admin:markets_contract_changelist")
    response = admin_client.post(
        url,
        {
            "action": "export_csv",
            "_selected_action": [str(data["cacao"].pk), str(data["coffee"].pk)],
        },
    )
    body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    assert body.count("\n") == 3
    assert data["cacao"].household.code in body
    response = admin_client.post(
        url, {"action": "activate", "_selected_action": [str(data["coffee"].pk)]}
    )
    assert response.status_code == 302
    coffee = Contract.objects.get(pk=data["coffee"].pk)
    assert coffee.status == "active"
    assert ChangeRecord.objects.filter(object_id=str(coffee.pk), channel="admin").exists()
    # An action the workflow refuses leaves the contract as it was, with a message.
    response = admin_client.post(
        url, {"action": "cancel", "_selected_action": [str(coffee.pk)]}, follow=True
    )
    assert Contract.objects.get(pk=coffee.pk).status == "active"
    assert any("Allowed" in str(m) or "Permitid" in str(m) for m in response.context["messages"])


def test_deliveries_admin(admin_client: Client, data: dict[str, Any]) -> None:
    recorded, _c = services.delivery_record(
        actor=SYSTEM,
        contract=data["cacao"].pk,
        delivered_on=today(),
        weight_kg="5",
        quality_grade="b",
    )
    url = reverse("admin:markets_delivery_changelist")
    response = admin_client.get(url, {"status": "recorded"})
    assert [d.pk for d in response.context["cl"].result_list] == [recorded.pk]
    admin_client.post(url, {"action": "accept", "_selected_action": [str(recorded.pk)]})
    assert Delivery.objects.get(pk=recorded.pk).status == "accepted"
    export = admin_client.post(
        url, {"action": "export_csv", "_selected_action": [str(recorded.pk)]}
    )
    assert "5.00" in b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert admin_client.get(reverse("admin:markets_delivery_add")).status_code == 403


def test_yield_norms_are_edited_through_the_service(admin_client: Client, market: Market) -> None:
    norm = YieldNorm.objects.get(crop="cacao", product_form="cacao_dry")
    url = reverse("admin:markets_yieldnorm_change", args=[norm.pk])
    response = admin_client.post(
        url,
        {
            "crop": "cacao",
            "product_form": "cacao_dry",
            "kg_per_ha_per_season": "650",
            "bearing_from_years": "3",
            "full_from_years": "5",
            "source": "Estudio 2026",
        },
    )
    assert response.status_code == 302
    norm.refresh_from_db()
    assert norm.kg_per_ha_per_season == Decimal("650.00")
    assert ChangeRecord.objects.filter(object_id=str(norm.pk), channel="admin").exists()
    bad = admin_client.post(
        url,
        {"crop": "cacao", "product_form": "coffee_green", "kg_per_ha_per_season": "650"},
    )
    assert bad.status_code == 200
    assert "product_form" in bad.context["adminform"].form.errors


def test_buyer_contacts_in_the_admin(admin_client: Client, market: Market) -> None:
    from tests.factories import OrganizationFactory

    buyer = OrganizationFactory.create(code="coop-nueva", kind="buyer")
    url = reverse("admin:markets_buyerprofile_add")
    bad = admin_client.post(url, {"organization": buyer.pk, "phone": "12"})
    assert bad.status_code == 200
    assert "phone" in bad.context["adminform"].form.errors
    ok = admin_client.post(
        url,
        {"organization": buyer.pk, "contact_name": "Ana", "phone": "987 654 320", "email": ""},
    )
    assert ok.status_code == 302
    assert BuyerProfile.objects.get(organization=buyer).phone == "+51987654320"


@pytest.mark.parametrize(
    "model", ["contract", "delivery", "buyerprofile", "yieldnorm", "buyeroffer"]
)
def test_changelists_render_for_a_superuser(data: dict[str, Any], model: str) -> None:
    from tests.factories import UserFactory

    root = UserFactory.create(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    response = client.get(reverse(f"admin:markets_{model}_changelist"))
    assert response.status_code == 200
    if model == "contract":
        assert reverse("admin:markets_contract_totals") in response.content.decode()
        # A superuser sees every programme's contracts.
        assert len(response.context["cl"].result_list) == 3


def test_harvest_calendars_are_edited_through_the_service(
    admin_client: Client, market: Market
) -> None:
    """Months as checkboxes (never the stored list), saved through the service with history."""
    from markets.models import HarvestCalendar

    url = reverse("admin:markets_harvestcalendar_add")
    form = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'type="checkbox"' in form and "Marzo" in form
    assert admin_client.post(url, {"crop": "cacao", "months": []}).status_code == 200
    assert not HarvestCalendar.objects.exists()
    saved = admin_client.post(
        url, {"crop": "cacao", "department": "08", "months": ["3", "4", "5"], "source": "Prueba"}
    )
    assert saved.status_code == 302
    calendar = HarvestCalendar.objects.get()
    assert (calendar.months, calendar.department_id) == ([3, 4, 5], "08")
    assert ChangeRecord.objects.filter(object_id=str(calendar.pk), channel="admin").exists()
    listed = admin_client.get(reverse("admin:markets_harvestcalendar_changelist")).content.decode()
    assert "Marzo, Abril, Mayo" in listed


def test_xlsx_export_of_contracts_and_deliveries_has_labels_names_and_types(
    admin_client: Client, data: dict[str, Any]
) -> None:
    """Issue 18 point 5: programme staff export the filtered changelist ("select all"):
    labels, names, real numbers and dates, only their programme's records."""
    import io
    from datetime import datetime

    from openpyxl import load_workbook

    url = reverse("admin:markets_contract_changelist")
    response = admin_client.post(
        url, {"action": "export_xlsx", "select_across": "1", "_selected_action": ["x"]}
    )
    assert response.status_code == 200
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2)]
    assert {r["Hogar"].value for r in rows} == {
        data["cacao"].household.code,
        data["coffee"].household.code,
    }  # not the other programme's contract
    cacao = next(r for r in rows if r["Hogar"].value == data["cacao"].household.code)
    assert cacao["Comprador"].value == "Cooperativa Agraria Pangoa"
    assert cacao["Cultivo"].value == "Cacao" and cacao["Estado"].value == "Activo"
    assert cacao["Distrito"].value == "Pichari"
    assert cacao["Aceptado (kg)"].data_type == "n" and cacao["Aceptado (kg)"].value == 100
    assert isinstance(cacao["Inicio de la campaña"].value, datetime)
    assert cacao["Inicio de la campaña"].number_format == "DD/MM/YYYY"
    deliveries = admin_client.post(
        reverse("admin:markets_delivery_changelist") + "?status__exact=accepted",
        {"action": "export_csv", "select_across": "1", "_selected_action": ["x"]},
    )
    text = b"".join(deliveries.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    lines = text.splitlines()
    assert len(lines) == 2 and "Aceptada" in lines[1] and "100.00" in lines[1]
    assert "accepted" not in text
