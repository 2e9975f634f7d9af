"""Identity layer: documents, phones, birth dates, name normalisation and blocking keys."""

from __future__ import annotations

from datetime import date, datetime

import phonenumbers
import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from stdnum.pe import cui

from farmers import identity
from farmers.identity import (
    BLOCKING_KEY_MAX_LENGTH,
    NAME_PARTICLES,
    blocking_keys,
    name_similarity,
    name_tokens,
    normalize_document,
    normalize_name,
    normalize_phone,
    phone_key,
    search_keys,
    validate_birth_date,
    validate_dni,
    validate_foreign_id,
)

PICHARI, KIMBIRI = "080910", "080907"


def error_code(excinfo: pytest.ExceptionInfo[ValidationError]) -> str | None:
    """The machine code of a raised ``ValidationError``."""
    return excinfo.value.code


# --- DNI -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("10117410", "10117410"),
        ("101174102", "10117410"),
        ("10117410G", "10117410"),
        ("10117410g", "10117410"),
        ("10117410-2", "10117410"),
        ("10117410-G", "10117410"),
        ("10117410 2", "10117410"),
        ("10117410 - 2", "10117410"),
        ("  10117410  ", "10117410"),
        ("00000001", "00000001"),
        ("000000014", "00000001"),
        ("00000001I", "00000001"),
        ("12345678-E", "12345678"),
    ],
)
def test_valid_dni(raw: str, expected: str) -> None:
    assert validate_dni(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("101174103", "invalid_checksum"),
        ("10117410-3", "invalid_checksum"),
        ("10117410H", "invalid_checksum"),
        ("10117410-A", "invalid_checksum"),
        ("1011741", "invalid_length"),
        ("", "invalid_length"),
        ("1011741023", "invalid_length"),
        ("10117410-23", "invalid_length"),
        ("1011741A", "invalid_format"),
        ("10117410X", "invalid_format"),
        ("1011-7410", "invalid_format"),
        ("10.117.410", "invalid_format"),
        ("10117410--2", "invalid_format"),
        ("١٠١١٧٤١٠", "invalid_format"),  # Arabic-Indic digits
        ("１０１１７４１０", "invalid_format"),  # full-width digits
    ],
)
def test_invalid_dni(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_dni(raw)
    assert error_code(excinfo) == code


@given(
    dni=st.from_regex(r"[0-9]{8}", fullmatch=True),
    check=st.sampled_from("0123456789ABCDEFGHIJK"),
)
def test_dni_check_character_agrees_with_stdnum(dni: str, check: str) -> None:
    if cui.is_valid(dni + check):
        assert validate_dni(f"{dni}-{check}") == dni
    else:
        with pytest.raises(ValidationError) as excinfo:
            validate_dni(dni + check)
        assert error_code(excinfo) == "invalid_checksum"
    assert validate_dni(dni) == dni  # the 9th character is never required


# --- Carné de extranjería and dispatch ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("000123456", "000123456"),
        ("ab1234567", "AB1234567"),
        (" AB-123 4567 ", "AB1234567"),
        ("123456789012", "123456789012"),
    ],
)
def test_valid_foreign_id(raw: str, expected: str) -> None:
    assert validate_foreign_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("12345678", "invalid_length"),
        ("1234567890123", "invalid_length"),
        ("", "invalid_length"),
        ("12345678Ñ", "invalid_format"),
        ("12345678.", "invalid_length"),
        ("1234567.89", "invalid_format"),
        ("1234/56789", "invalid_format"),
    ],
)
def test_invalid_foreign_id(raw: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_foreign_id(raw)
    assert error_code(excinfo) == code


@pytest.mark.parametrize(
    ("document_type", "number", "expected"),
    [("dni", "10117410-2", "10117410"), ("ce", "ab1234567", "AB1234567")],
)
def test_normalize_document(document_type: str, number: str, expected: str) -> None:
    assert normalize_document(document_type, number) == expected


@pytest.mark.parametrize(
    ("document_type", "number", "code"),
    [
        ("ruc", "20131312955", "invalid_choice"),
        ("DNI", "10117410", "invalid_choice"),
        ("", "10117410", "invalid_choice"),
        ("dni", "101174103", "invalid_checksum"),
        ("ce", "1234", "invalid_length"),
    ],
)
def test_normalize_document_errors(document_type: str, number: str, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_document(document_type, number)
    assert error_code(excinfo) == code


# --- Phones --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("987 654 321", "+51987654321"),
        ("987654321", "+51987654321"),
        ("987-654-321", "+51987654321"),
        ("+51 987654321", "+51987654321"),
        ("+51 987 654 321", "+51987654321"),
        ("0051987654321", "+51987654321"),
        ("(01) 4567890", "+5114567890"),  # Lima landline
        ("064 123456", "+5164123456"),  # Junín landline
        ("+1 650 253 0000", "+16502530000"),  # a valid foreign number stays foreign
    ],
)
def test_valid_phone(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "12345",
        "98765432",  # one digit short
        "9876543210",  # one digit too many
        "+5198765432",
        "199999999",
        "4567890",  # landline without its area code
        "987 654 32A",
        "987654321 ext 12",
        "1-800-FLOWERS",
        "９８７６５４３２１",
        "987654321" * 30,
    ],
)
def test_invalid_phone(raw: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(raw)
    assert error_code(excinfo) == "invalid_phone"


@given(st.integers(min_value=0, max_value=99_999_999))
def test_a_mobile_as_typed_is_read_as_the_numbering_plan_reads_it(digits: int) -> None:
    # ``normalize_phone`` takes ``9`` + 8 digits without parsing them: the same result as
    # ``phonenumbers`` (every such number is a valid Peruvian mobile).
    # The same mobile in E.164 (as cleaned, read again for its blocking key) is kept as it is.
    text = f"9{digits:08d}"
    number = phonenumbers.parse(text, "PE")
    assert phonenumbers.is_valid_number(number)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    assert identity._parse_phone(text) == e164
    assert identity._parse_phone(e164) == e164
    assert phonenumbers.is_valid_number(phonenumbers.parse(e164, "PE"))


# --- Birth dates ---------------------------------------------------------------------------

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("value", "today"),
    [
        (date(1980, 5, 1), TODAY),
        (TODAY, TODAY),  # born today
        (date(1906, 3, 15), TODAY),  # exactly 120 years
        (date(1900, 2, 28), date(2020, 2, 29)),  # 29 February, 120 years on a common year
    ],
)
def test_valid_birth_date(value: date, today: date) -> None:
    assert validate_birth_date(value, today=today) == value


@pytest.mark.parametrize(
    ("value", "today", "code"),
    [
        (date(2026, 3, 16), TODAY, "future_date"),
        (date(2090, 1, 1), TODAY, "future_date"),
        (date(1906, 3, 14), TODAY, "too_old"),
        (date(1900, 2, 27), date(2020, 2, 29), "too_old"),
    ],
)
def test_invalid_birth_date(value: date, today: date, code: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        validate_birth_date(value, today=today)
    assert error_code(excinfo) == code


def test_birth_date_defaults_to_today_and_accepts_datetimes() -> None:
    assert validate_birth_date(date(1990, 1, 1)) == date(1990, 1, 1)
    assert validate_birth_date(datetime(1990, 1, 1, 12, 30), today=TODAY) == date(1990, 1, 1)
    with pytest.raises(ValidationError) as excinfo:
        validate_birth_date("1990-01-01", today=TODAY)  # type: ignore[arg-type]
    assert error_code(excinfo) == "invalid_date"


# --- Names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Quispe Huamán, Juana", "quispe huaman juana"),
        ("  JUANA   HUAMAN\tQUISPE ", "juana huaman quispe"),
        ("Ñaupari Núñez", "naupari nunez"),
        ("Pérez-Albela", "perez albela"),
        ("Ch'aska Q’ori", "chaska qori"),
        ("María de los Ángeles", "maria de los angeles"),
        ("Müller Straße", "muller strasse"),
        ("...", ""),
        ("", ""),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_whole_names_match_in_any_order() -> None:
    a = normalize_name("Quispe Huamán, Juana").split()
    b = normalize_name("JUANA HUAMAN QUISPE").split()
    assert sorted(a) == sorted(b)


@pytest.mark.parametrize(
    ("given_a", "surnames_a", "given_b", "surnames_b"),
    [
        ("Juana", "Quispe Huamán", "JUANA", "HUAMAN QUISPE"),
        ("Juana", "Quispe Huamán", "juana quispe", "huamán"),  # a surname in the wrong field
        ("Rosa", "de la Cruz Mamani", "ROSA", "Mamani Cruz"),  # particles are dropped
        ("Ch'aska", "Pérez-Albela", "Chaska", "perez albela"),
    ],
)
def test_name_tokens_ignore_order_case_and_accents(
    given_a: str, surnames_a: str, given_b: str, surnames_b: str
) -> None:
    assert name_tokens(given_a, surnames_a) == name_tokens(given_b, surnames_b)


def test_name_tokens_are_sorted_and_keep_lone_particles() -> None:
    assert name_tokens("Juana", "Quispe Huamán") == ["huaman", "juana", "quispe"]
    assert name_tokens("", "De la") == ["de", "la"]


def test_name_similarity() -> None:
    juana = name_tokens("Juana", "Quispe Huamán")
    assert name_similarity(juana, name_tokens("JUANA", "Huaman Quispe")) == 1.0
    typo = name_similarity(juana, name_tokens("Juana", "Quispe Guamán"))
    missing = name_similarity(juana, name_tokens("Juana", "Quispe"))
    unrelated = name_similarity(juana, name_tokens("Pedro", "Mamani Condori"))
    assert 1.0 > typo > missing > unrelated >= 0.0
    assert typo > 0.9
    assert name_similarity([], []) == 1.0
    assert name_similarity(juana, []) == 0.0


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)


@given(a=st.lists(words, max_size=5), b=st.lists(words, max_size=5))
def test_name_similarity_is_bounded_symmetric_and_ignores_order(a: list[str], b: list[str]) -> None:
    score = name_similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert name_similarity(list(reversed(a)), b) == pytest.approx(score)
    assert name_similarity(b, a) == pytest.approx(score)
    assert name_similarity(a, a) == 1.0


# --- Blocking keys -------------------------------------------------------------------------

ACCENTS = {"a": "áàä", "e": "éè", "i": "íï", "o": "óö", "u": "úü", "n": "ñ"}

# Realistic name words: three letters or more, never a particle that tokens drop.
name_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=12).filter(
    lambda word: word not in NAME_PARTICLES
)
birth_dates = st.dates(min_value=date(1910, 1, 1), max_value=date(2025, 12, 31))
districts = st.from_regex(r"[0-9]{6}", fullmatch=True)
mobiles = st.from_regex(r"9[0-9]{8}", fullmatch=True)


def spell(draw: st.DrawFn, word: str) -> str:
    """The same word as a registrar might type it: random case and accents (ñ for n)."""
    chars = []
    for char in word:
        variant = draw(st.sampled_from([char, *ACCENTS.get(char, "")]))
        chars.append(variant.upper() if draw(st.booleans()) else variant)
    return "".join(chars)


@st.composite
def respelled(draw: st.DrawFn, words: list[str]) -> str:
    """``words`` joined by assorted separators, each respelled with ``spell``."""
    separators = st.sampled_from([" ", "  ", " - ", ", ", "\t"])
    text = ""
    for index, word in enumerate(words):
        text += (draw(separators) if index else "") + spell(draw, word)
    return text


def phone_spellings(mobile: str) -> list[str]:
    """Ways people write the same Peruvian mobile."""
    return [
        mobile,
        f"{mobile[:3]} {mobile[3:6]} {mobile[6:]}",
        f"+51 {mobile}",
        f"0051{mobile}",
        f"+51-{mobile[:3]}-{mobile[3:6]}-{mobile[6:]}",
    ]


@given(
    data=st.data(),
    given_names=st.lists(name_words, min_size=1, max_size=2),
    surnames=st.lists(name_words, min_size=1, max_size=3),
    birth_date=birth_dates | st.none(),
    district=districts,
    phone=mobiles | st.none(),
)
def test_keys_ignore_surname_order_case_and_accents(
    data: st.DataObject,
    given_names: list[str],
    surnames: list[str],
    birth_date: date | None,
    district: str,
    phone: str | None,
) -> None:
    keys = blocking_keys(" ".join(given_names), " ".join(surnames), birth_date, district, phone)
    shuffled = data.draw(st.permutations(surnames))
    other_phone = data.draw(st.sampled_from(phone_spellings(phone))) if phone else None
    respelled_keys = blocking_keys(
        data.draw(respelled(given_names)),
        data.draw(respelled(shuffled)),
        birth_date,
        district,
        other_phone,
    )
    assert keys == respelled_keys
    assert keys  # every record with a name and a district has keys
    assert all(len(key) <= BLOCKING_KEY_MAX_LENGTH for key in keys)


@given(
    data=st.data(),
    mobile=mobiles,
    names_a=st.tuples(name_words, name_words),
    names_b=st.tuples(name_words, name_words),
    dates=st.tuples(birth_dates | st.none(), birth_dates | st.none()),
    district_pair=st.tuples(districts | st.none(), districts | st.none()),
)
def test_same_phone_always_shares_a_key(
    data: st.DataObject,
    mobile: str,
    names_a: tuple[str, str],
    names_b: tuple[str, str],
    dates: tuple[date | None, date | None],
    district_pair: tuple[str | None, str | None],
) -> None:
    phone_a, phone_b = (data.draw(st.sampled_from(phone_spellings(mobile))) for _ in "ab")
    a = blocking_keys(names_a[0], names_a[1], dates[0], district_pair[0], phone_a)
    b = blocking_keys(names_b[0], names_b[1], dates[1], district_pair[1], phone_b)
    assert phone_key(f"+51{mobile}") in a & b


@given(
    data=st.data(),
    given_name=name_words,
    first_surname=name_words,
    second_surname=name_words,
    birth_date=birth_dates,
    district=districts,
)
def test_one_letter_typo_in_second_surname_shares_a_key(
    data: st.DataObject,
    given_name: str,
    first_surname: str,
    second_surname: str,
    birth_date: date,
    district: str,
) -> None:
    position = data.draw(st.integers(0, len(second_surname) - 1))
    letter = data.draw(
        st.sampled_from("abcdefghijklmnopqrstuvwxyz").filter(
            lambda c: c != second_surname[position]
        )
    )
    typo = second_surname[:position] + letter + second_surname[position + 1 :]
    a = blocking_keys(given_name, f"{first_surname} {second_surname}", birth_date, district, None)
    b = blocking_keys(given_name, f"{first_surname} {typo}", birth_date, district, None)
    assert a & b


@pytest.mark.parametrize(
    "typo", ["Quispe Guamán", "Quispe Huamon", "QUISPE HUAMAX", "Huamán Quispa"]
)
def test_one_letter_typo_in_a_surname_shares_a_key(typo: str) -> None:
    a = blocking_keys("Juana", "Quispe Huamán", date(1980, 5, 1), PICHARI, None)
    b = blocking_keys("Juana", typo, date(1980, 5, 1), PICHARI, None)
    assert a & b


@given(
    given_names=st.lists(name_words, min_size=1, max_size=2),
    surnames=st.lists(name_words, min_size=1, max_size=2),
    birth_date=st.dates(min_value=date(1911, 1, 1), max_value=date(2024, 12, 31)),
    year_shift=st.sampled_from([-1, 0, 1]),
    swap_day_month=st.booleans(),
)
def test_close_birth_dates_share_a_key_without_district_or_phone(
    given_names: list[str],
    surnames: list[str],
    birth_date: date,
    year_shift: int,
    swap_day_month: bool,
) -> None:
    given_text, surname_text = " ".join(given_names), " ".join(surnames)
    other = birth_date.replace(year=birth_date.year + year_shift, day=min(birth_date.day, 28))
    if swap_day_month and other.day <= 12:
        other = other.replace(month=other.day, day=other.month)
    a = blocking_keys(given_text, surname_text, birth_date, None, None)
    b = blocking_keys(given_text, " ".join(reversed(surnames)), other, None, None)
    # each stores its own birth year; a lookup asks for the years around it
    assert search_keys(a) & b
    assert search_keys(b) & a


def test_spelling_variants_share_the_district_key_even_with_a_wrong_year() -> None:
    a = blocking_keys("Juana", "Huamán Quispe", date(1980, 5, 1), PICHARI, None)
    b = blocking_keys("Juana", "Guaman Kispe", date(1968, 5, 1), PICHARI, None)
    c = blocking_keys("Juana", "Waman Quispi", date(1986, 5, 1), PICHARI, None)
    assert a & b & c
    assert not a & blocking_keys("Juana", "Guaman Kispe", date(1968, 5, 1), KIMBIRI, None)


def test_unrelated_records_share_no_key() -> None:
    a = blocking_keys("Juana", "Quispe Huamán", date(1980, 5, 1), PICHARI, "987 654 321")
    b = blocking_keys("Pedro", "Mamani Condori", date(1975, 9, 12), KIMBIRI, "+51 912 345 678")
    assert a
    assert b
    assert not search_keys(a) & b
    assert not search_keys(b) & a


def test_same_name_far_apart_in_time_and_place_shares_no_key() -> None:
    a = blocking_keys("Juana", "Quispe Huamán", date(1980, 5, 1), PICHARI, None)
    b = blocking_keys("Juana", "Quispe Huamán", date(1982, 5, 1), KIMBIRI, None)
    assert not search_keys(a) & b
    assert not search_keys(b) & a


@given(
    names=st.lists(name_words, min_size=4, max_size=4, unique=True),
    birth_date=birth_dates,
    years_apart=st.integers(2, 40),
    district_pair=st.lists(districts, min_size=2, max_size=2, unique=True),
    mobile_pair=st.lists(mobiles, min_size=2, max_size=2, unique=True),
)
def test_records_differing_in_everything_share_no_key(
    names: list[str],
    birth_date: date,
    years_apart: int,
    district_pair: list[str],
    mobile_pair: list[str],
) -> None:
    other_date = birth_date.replace(year=birth_date.year - years_apart, day=1)
    a = blocking_keys(names[0], names[1], birth_date, district_pair[0], mobile_pair[0])
    b = blocking_keys(names[2], names[3], other_date, district_pair[1], mobile_pair[1])
    assert not search_keys(a) & b
    assert not search_keys(b) & a


@pytest.mark.parametrize(
    ("district", "phone", "birth_date", "families"),
    [
        (None, None, None, set()),
        ("08091", "not a phone", None, set()),
        (PICHARI, None, None, {"sd"}),
        (None, "987654321", date(1980, 5, 1), {"ph", "nm"}),
        (PICHARI, "987654321", date(1980, 5, 1), {"ph", "nm", "sn", "sd"}),
    ],
)
def test_missing_or_invalid_parts_only_drop_their_keys(
    district: str | None, phone: str | None, birth_date: date | None, families: set[str]
) -> None:
    keys = blocking_keys("Juana", "Quispe Huamán", birth_date, district, phone)
    assert {key.split(":", 1)[0] for key in keys} == families
    assert blocking_keys("", "", date(1980, 5, 1), PICHARI, None) == set()


def test_a_record_stores_one_key_per_family_and_year_and_looks_up_the_years_around() -> None:
    keys = blocking_keys("Juana", "Quispe Huamán", date(1980, 5, 1), PICHARI, "987654321")
    # phone, names, two surnames, the phonetic district key: one each
    assert sorted(key.split(":", 1)[0] for key in keys) == ["nm", "ph", "sd", "sn", "sn"]
    assert all(key.endswith(":1980") for key in keys if key.startswith(("nm:", "sn:")))
    wide = search_keys(keys)
    assert len(wide) == 2 + 3 * 3
    assert {key.rpartition(":")[2] for key in wide - keys if key[:3] in ("nm:", "sn:")} == {
        "1979",
        "1981",
    }
    # keys stored before (the two 2-year windows 1979 and 1980) are still found
    name_key = next(key for key in keys if key.startswith("nm:"))
    assert name_key.replace(":1980", ":1979") in wide
