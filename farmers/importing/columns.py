"""The columns of the household import file: English names, Spanish header aliases, help texts,
and the Spanish spellings of coded values (sex, relationship, document type, consent purpose)."""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from ..choices import ConsentPurpose, DocumentType, Relationship, Sex


@dataclass(frozen=True)
class Column:
    """A column of the import file: its English name, Spanish aliases and help text."""

    name: str
    required: bool
    help: str | Promise
    aliases: tuple[str, ...] = ()
    household_level: bool = False
    # The header the (Spanish) template writes; files with the English name keep working.
    header: str = ""


COLUMNS: tuple[Column, ...] = (
    Column(
        "household_ref",
        True,
        gettext_lazy("Your reference for the household; rows sharing it are one family."),
        (
            "ref_hogar",
            "referencia_hogar",
            "referencia_del_hogar",
            "codigo_hogar",
            "cod_hogar",
            "id_hogar",
            "hogar",
        ),
    ),
    Column(
        "program",
        True,
        gettext_lazy("Programme code, e.g. pirdais."),
        ("programa", "codigo_programa"),
        household_level=True,
    ),
    Column(
        "district",
        True,
        gettext_lazy("INEI ubigeo of the district: 6 digits, e.g. 080910."),
        ("distrito", "ubigeo", "ubigeo_distrito"),
        household_level=True,
    ),
    Column(
        "community",
        False,
        gettext_lazy("Community or populated centre."),
        ("comunidad", "centro_poblado", "caserio", "localidad"),
        household_level=True,
    ),
    Column("given_names", True, gettext_lazy("Given names."), ("nombres", "nombre")),
    Column("surnames", True, gettext_lazy("Surnames."), ("apellidos",)),
    Column(
        "document_type",
        False,
        gettext_lazy("dni or ce (dni when left blank and a number is given)."),
        ("tipo_documento", "tipo_de_documento", "tipo_doc"),
    ),
    Column(
        "document_number",
        False,
        gettext_lazy(
            "DNI (8 digits, optionally with its check character) or CE; the head needs one."
        ),
        (
            "numero_documento",
            "numero_de_documento",
            "nro_documento",
            "num_documento",
            "n_documento",
            "no_documento",
            "documento",
            "dni",
        ),
    ),
    Column("sex", True, gettext_lazy("f or m."), ("sexo",)),
    Column(
        "birth_date",
        True,
        gettext_lazy("Date of birth: YYYY-MM-DD or DD/MM/YYYY."),
        ("fecha_nacimiento", "fecha_de_nacimiento"),
    ),
    Column(
        "relationship",
        True,
        gettext_lazy(
            "Relationship to the head: head, spouse, child, parent, sibling, grandchild, other. "
            "Exactly one head per household."
        ),
        ("parentesco", "relacion", "relacion_con_jefe"),
    ),
    Column("phone", False, gettext_lazy("Peruvian phone number."), ("telefono", "celular")),
    Column(
        "consent_signed_on",
        False,
        gettext_lazy("Date the family signed the consent: YYYY-MM-DD or DD/MM/YYYY."),
        ("fecha_consentimiento", "fecha_de_consentimiento", "consentimiento_fecha"),
        household_level=True,
    ),
    Column(
        "consent_purposes",
        False,
        gettext_lazy(
            "Comma-separated purposes: registry (needed), partner_sharing, research, contact."
        ),
        (
            "finalidades_consentimiento",
            "finalidades",
            "consentimiento_finalidades",
            "fines_consentimiento",
        ),
        household_level=True,
    ),
    Column(
        "enrolled_on",
        False,
        gettext_lazy(
            "Date the family enrolled in the programme, when earlier than the consent "
            "(e.g. enrolled on paper): YYYY-MM-DD or DD/MM/YYYY. Blank: the consent's date."
        ),
        ("fecha_inscripcion", "fecha_de_inscripcion", "inscripcion", "fecha_enrolamiento"),
        household_level=True,
    ),
)
SPANISH_HEADERS: dict[str, str] = {
    "household_ref": "Referencia del hogar",
    "program": "Programa",
    "district": "Distrito",
    "community": "Comunidad",
    "given_names": "Nombres",
    "surnames": "Apellidos",
    "document_type": "Tipo de documento",
    "document_number": "Número de documento",
    "sex": "Sexo",
    "birth_date": "Fecha de nacimiento",
    "relationship": "Parentesco",
    "phone": "Teléfono",
    "consent_signed_on": "Fecha del consentimiento",
    "consent_purposes": "Finalidades del consentimiento",
    "enrolled_on": "Fecha de inscripción",
}
COLUMNS = tuple(
    Column(c.name, c.required, c.help, c.aliases, c.household_level, SPANISH_HEADERS[c.name])
    for c in COLUMNS
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)
REQUIRED_COLUMNS: tuple[str, ...] = tuple(c.name for c in COLUMNS if c.required)


def _slug(text: Any) -> str:
    """``"Fecha de Nacimiento"`` → ``"fecha_de_nacimiento"``: accents, case and punctuation go."""
    return _slug_text(str(text or ""))


@functools.lru_cache(maxsize=4096)
def _slug_text(text: str) -> str:
    """``"Fecha de Nacimiento"`` → ``"fecha_de_nacimiento"``: accents, case and punctuation go."""
    decomposed = unicodedata.normalize("NFKD", str(text or "").casefold())
    plain = "".join(c for c in decomposed if not unicodedata.category(c).startswith("M"))
    return re.sub(r"[^0-9a-z]+", "_", plain).strip("_")


def header_aliases(columns: tuple[Column, ...]) -> dict[str, str]:
    """``{slug of a header spelling: column name}`` for ``columns`` (names, Spanish headers
    and aliases)."""
    return {
        _slug(alias): c.name
        for c in columns
        for alias in (c.name, *c.aliases, *((c.header,) if c.header else ()))
    }


_HEADER_ALIASES: dict[str, str] = header_aliases(COLUMNS)

# Spanish spellings of coded values; anything else is passed on for the service to refuse.
_SEX_ALIASES: dict[str, str] = {
    "f": Sex.FEMALE,
    "mujer": Sex.FEMALE,
    "femenino": Sex.FEMALE,
    "female": Sex.FEMALE,
    "m": Sex.MALE,
    "hombre": Sex.MALE,
    "varon": Sex.MALE,
    "masculino": Sex.MALE,
    "male": Sex.MALE,
}
_RELATIONSHIP_ALIASES: dict[str, str] = {
    **{value: value for value in Relationship.values},
    "jefe": Relationship.HEAD,
    "jefa": Relationship.HEAD,
    "jefe_de_hogar": Relationship.HEAD,
    "jefa_de_hogar": Relationship.HEAD,
    "titular": Relationship.HEAD,
    "conyuge": Relationship.SPOUSE,
    "esposo": Relationship.SPOUSE,
    "esposa": Relationship.SPOUSE,
    "pareja": Relationship.SPOUSE,
    "conviviente": Relationship.SPOUSE,
    "hijo": Relationship.CHILD,
    "hija": Relationship.CHILD,
    "padre": Relationship.PARENT,
    "madre": Relationship.PARENT,
    "hermano": Relationship.SIBLING,
    "hermana": Relationship.SIBLING,
    "nieto": Relationship.GRANDCHILD,
    "nieta": Relationship.GRANDCHILD,
    "otro": Relationship.OTHER,
    "otra": Relationship.OTHER,
}
_DOCUMENT_ALIASES: dict[str, str] = {
    "dni": DocumentType.DNI,
    "ce": DocumentType.CE,
    "c_e": DocumentType.CE,
    "carne_de_extranjeria": DocumentType.CE,
    "carne_extranjeria": DocumentType.CE,
}
_PURPOSE_ALIASES: dict[str, str] = {value: value for value in ConsentPurpose.values}


def header_map() -> tuple[dict[str, str], tuple[str, ...]]:
    """The household import's header spellings and its required columns."""
    return _HEADER_ALIASES, REQUIRED_COLUMNS


# The choice columns of the household import: their codes and labels (shown in Spanish in the
# template's drop-downs; English labels and the codes are accepted too).
CHOICE_COLUMNS: dict[str, type[Any]] = {
    "document_type": DocumentType,
    "sex": Sex,
    "relationship": Relationship,
    "consent_purposes": ConsentPurpose,
}
_CODED_ALIASES: dict[str, dict[str, str]] = {
    "document_type": _DOCUMENT_ALIASES,
    "sex": _SEX_ALIASES,
    "relationship": _RELATIONSHIP_ALIASES,
    "consent_purposes": _PURPOSE_ALIASES,
}


def spanish_labels(column: str) -> list[str]:
    """The Spanish labels of a choice column, in the choices' order (the drop-down)."""
    with translation.override("es"):
        return [str(label) for label in CHOICE_COLUMNS[column].labels]


@functools.cache
def choice_aliases(column: str) -> dict[str, str]:
    """``{slug of a spelling: code}`` for a choice column: the codes, the Spanish spellings
    above and the choices' labels in Spanish and English."""
    choices = CHOICE_COLUMNS[column]
    aliases: dict[str, str] = {_slug(value): value for value in choices.values}
    for language in ("en", "es"):
        with translation.override(language):
            aliases.update({_slug(str(label)): value for value, label in choices.choices})
    aliases.update(_CODED_ALIASES[column])
    return aliases
