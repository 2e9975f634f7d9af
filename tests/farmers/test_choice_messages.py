"""Choice errors name the options by their labels, never by their codes: the registration's
members and consent through the API (the field app shows a queued record's errors as they come),
in Spanish and in English; the member-field list of a rectification in words."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from farmers import services
from farmers.choices import ConsentPurpose, Relationship, RequestKind
from farmers.models import MEMBER_FIELDS
from registry.models import Program
from tests.farmers.conftest import ClientMaker, household_payload
from tests.farmers.test_data_subject_requests import head, new_request, register_household, staff

pytestmark = pytest.mark.django_db

URL = "/api/v1/households/"
# Codes of the registration's choices that a person must never read in a message (in English,
# "registry" and "head" are words too: there only their quoted form is a code).
CODES = re.compile(
    r"(?<![\w-])(f|m|x|dni|ce|pas|head|spouse|tio|registry|partner_sharing|foo)(?![\w-])"
)
CODES_EN = re.compile(
    r"(?<![\w-])(f|m|x|dni|ce|pas|spouse|tio|partner_sharing|foo)(?![\w-])|“(head|registry)”"
)


def has_code(message: str, language: str) -> bool:
    return bool((CODES if language == "es" else CODES_EN).search(message))


def details(response: Any) -> dict[str, str]:
    return {e["attr"]: e["detail"] for e in response.json()["errors"]}


def bad_choices() -> dict[str, Any]:
    payload = household_payload()
    payload["members"][0]["sex"] = "x"
    payload["members"][1]["relationship"] = "tio"
    payload["members"][1]["document_type"] = "pas"
    payload["consent"]["purposes"] = ["registry", "foo"]
    return payload


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "es",
            {
                "members.0.sex": "Use uno de los siguientes: “Femenino”, “Masculino”.",
                "members.1.document_type": (
                    "Use uno de los siguientes: “DNI”, “Carné de extranjería (CE)”."
                ),
            },
        ),
        (
            "en",
            {
                "members.0.sex": "Use one of: “Female”, “Male”.",
                "members.1.document_type": "Use one of: “DNI”, “Foreign resident card (CE)”.",
            },
        ),
    ],
)
def test_api_registration_choice_errors_name_the_labels(
    client_for: ClientMaker, language: str, expected: dict[str, str]
) -> None:
    response = client_for().post(URL, bad_choices(), format="json", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    shown = details(response)
    assert set(shown) == {
        "members.0.sex",
        "members.1.document_type",
        "members.1.relationship",
        "consent.purposes.1",
    }
    for attr, message in expected.items():
        assert shown[attr] == message
    head_label = "Jefe o jefa de hogar" if language == "es" else "Head of household"
    assert f"“{head_label}”" in shown["members.1.relationship"]
    registry_label = "Padrón del programa" if language == "es" else "Programme registry"
    assert f"“{registry_label}”" in shown["consent.purposes.1"]
    for message in shown.values():
        assert not has_code(message, language), message


@pytest.mark.parametrize("language", ["es", "en"])
def test_one_head_and_registry_consent_are_said_with_labels(
    client_for: ClientMaker, language: str
) -> None:
    client = client_for()
    no_head = household_payload()
    no_head["members"][0]["relationship"] = "spouse"
    without_registry = household_payload()
    without_registry["consent"]["purposes"] = ["partner_sharing"]
    with translation.override(language):
        head_label = str(Relationship.HEAD.label)
        registry_label = str(ConsentPurpose.REGISTRY.label)
    one = details(client.post(URL, no_head, format="json", HTTP_ACCEPT_LANGUAGE=language))
    two = details(client.post(URL, without_registry, format="json", HTTP_ACCEPT_LANGUAGE=language))
    assert f"“{head_label}”" in one["members"]
    assert f"“{registry_label}”" in two["consent.purposes"]
    for message in (one["members"], two["consent.purposes"]):
        assert not has_code(message, language), message
    if language == "es":
        assert one["members"] == (
            "Exactamente un integrante debe tener el parentesco “Jefe o jefa de hogar”."
        )
        assert two["consent.purposes"] == (
            "Para registrar se necesita el consentimiento para la finalidad “Padrón del programa”."
        )


def test_service_choice_errors_name_the_labels() -> None:
    with translation.override("es"), pytest.raises(ValidationError) as error:
        services.cleaning._clean_members(
            [
                {
                    "given_names": "Rosa",
                    "surnames": "Huamán",
                    "sex": "x",
                    "relationship": "tio",
                    "birth_date": None,
                    "document_type": "pas",
                    "document_number": "123",
                }
            ]
        )
    messages = {k: " ".join(v) for k, v in error.value.message_dict.items()}
    assert messages["members.0.sex"] == "Use uno de los siguientes: “Femenino”, “Masculino”."
    assert "“Carné de extranjería (CE)”" in messages["members.0.document_type"]
    assert "“Otro pariente”" in messages["members.0.relationship"]
    for message in messages.values():
        assert not has_code(message, "es"), message


def test_a_rectification_without_values_names_the_fields_in_words(program: Program) -> None:
    actor = staff(program)
    household = register_household()
    request = new_request(actor, household, RequestKind.RECTIFICATION, member=head(household))
    with translation.override("es"), pytest.raises(ValidationError) as error:
        services.request_transition(actor=actor, request=request, to="answered", changes={})
    message = " ".join(error.value.message_dict["changes"])
    assert "nombres" in message and "fecha de nacimiento" in message, message
    for name in MEMBER_FIELDS:
        assert not re.search(rf"\b{name}\b", message), message
