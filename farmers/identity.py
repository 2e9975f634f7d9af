"""Identity of household members: document numbers, phones, birth dates and duplicate search.

Pure Python: no queries and no models, so every rule here is cheap to test exhaustively. The
validators raise ``django.core.exceptions.ValidationError`` with a machine ``code``; services wrap
them per field with ``registry.services.field_error``. See DESIGN.md §8 and research/domain.md §4.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from difflib import SequenceMatcher

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.pe import cui

from registry.cleaning import choice_message
from registry.crypto import PURPOSE_PHONE, blind_index
from registry.validators import UBIGEO_RE

from .choices import DocumentType

DOCUMENT_DNI = "dni"
DOCUMENT_FOREIGN_ID = "ce"  # carné de extranjería (Migraciones)
DOCUMENT_TYPES = (DOCUMENT_DNI, DOCUMENT_FOREIGN_ID)

DNI_LENGTH = 8
FOREIGN_ID_MIN_LENGTH = 9
FOREIGN_ID_MAX_LENGTH = 12
MAX_AGE_YEARS = 120
PHONE_DEFAULT_REGION = "PE"

# 8 digits, then optionally the printed "dígito de verificación" (0-9, or A-K on DNIs issued up
# to August 2007), optionally set apart by a hyphen or spaces.
_DNI_RE = re.compile(r"(?P<dni>[0-9]{8})(?:\s*-?\s*(?P<check>[0-9A-K]))?")
_SEPARATORS_RE = re.compile(r"[\s-]+")
_FOREIGN_ID_RE = re.compile(r"[0-9A-Z]+")
# What people type into a phone field; letters (vanity numbers, "ext.") are refused.
_PHONE_CHARS_RE = re.compile(r"[0-9+\-(). \s]+")

# Apostrophes are dropped inside a word (Quechua "Ch'aska" = "Chaska"); any other punctuation
# separates words ("Pérez-Albela" = "Pérez Albela").
_APOSTROPHES = frozenset("'`´’‘ʼʻ")
# Particles of Spanish compound names; dropped from tokens ("de la Cruz" = "Cruz").
NAME_PARTICLES = frozenset({"de", "del", "la", "las", "los", "y", "e", "da", "do", "van", "von"})

BLOCKING_KEY_MAX_LENGTH = 32
# ``Household.names_search`` is in a btree index (``hh_created_idx``), whose rows must stay
# well under PostgreSQL's ~2,700-byte limit.
SEARCH_WORDS_MAX_LENGTH = 1000
_DIGEST_BYTES = 6  # 12 hex characters


# --- Documents -----------------------------------------------------------------------------


def _count_alphanumerics(text: str) -> int:
    """How many letters and digits ``text`` has: a length error ignores stray punctuation."""
    return sum(char.isalnum() for char in text)


def validate_dni(value: str) -> str:
    """Check a DNI and return its 8 digits, the form we store.

    Accepts ``10117410``, ``101174102``, ``10117410-2``, ``10117410 G``: the optional 9th
    character is the check character printed on the card (stdnum ``pe.cui``: a digit, or a
    letter A-K on old DNIs; either variant is accepted). It is verified when given, never
    required, and not stored. Leading zeros are kept.
    """
    text = (value or "").strip().upper()
    match = _DNI_RE.fullmatch(text)  # a match has 8 or 9 letters and digits
    if match is None and _count_alphanumerics(text) not in (DNI_LENGTH, DNI_LENGTH + 1):
        raise ValidationError(
            _("A DNI has 8 digits, optionally followed by its check character."),
            code="invalid_length",
        )
    if match is None:
        raise ValidationError(
            _(
                "A DNI has 8 digits; the optional check character is a digit or a letter "
                "from A to K."
            ),
            code="invalid_format",
        )
    dni, check = match["dni"], match["check"]
    if check is not None and check not in cui.calc_check_digits(dni):
        raise ValidationError(
            _("The DNI check character does not match: please check the number."),
            code="invalid_checksum",
        )
    return dni


def validate_foreign_id(value: str) -> str:
    """Check a carné de extranjería and return it upper-case without separators.

    Migraciones publishes no checksum, so only the shape is checked: 9 to 12 letters or digits
    (ASCII). Spaces and hyphens typed between them are removed.
    """
    compact = _SEPARATORS_RE.sub("", (value or "").strip().upper())
    if not FOREIGN_ID_MIN_LENGTH <= _count_alphanumerics(compact) <= FOREIGN_ID_MAX_LENGTH:
        raise ValidationError(
            _("A foreign resident card (carné de extranjería) has 9 to 12 characters."),
            code="invalid_length",
        )
    if not _FOREIGN_ID_RE.fullmatch(compact):
        raise ValidationError(
            _("A foreign resident card (carné de extranjería) has letters and digits only."),
            code="invalid_format",
        )
    return compact


def normalize_document(document_type: str, number: str) -> str:
    """Validate ``number`` as a ``document_type`` ("dni" or "ce") and return its stored form."""
    if document_type == DOCUMENT_DNI:
        return validate_dni(number)
    if document_type == DOCUMENT_FOREIGN_ID:
        return validate_foreign_id(number)
    raise ValidationError(choice_message(DocumentType), code="invalid_choice")


# --- Phones and dates ----------------------------------------------------------------------


# Spellings already normalised, and each E.164 result mapped to itself: an import cleans a
# phone, then derives its blocking key from the cleaned form, parsed once.
_PHONES: dict[str, str] = {}
_PHONES_MAX = 32768


def normalize_phone(value: str) -> str:
    """Return a phone number in E.164 (``+51987654321``), Peru being the default country
    (cached, the result too: an import cleans a phone, then derives its blocking key from it).

    Accepts national and international spellings ("987 654 321", "+51 987654321",
    "0051987654321", "(01) 4567890"). Mobiles and landlines are both accepted when the numbering
    plan says the number is valid; letters and extensions are refused.
    """
    known = _PHONES.get(value)
    if known is not None:
        return known
    normal = _parse_phone(value)
    if len(_PHONES) >= _PHONES_MAX:
        _PHONES.clear()
    _PHONES[value] = _PHONES[normal] = normal
    return normal


def _parse_phone(value: str) -> str:
    text = (value or "").strip()
    if len(text) == 9 and text[0] == "9" and text.isascii() and text.isdigit():
        # A Peruvian mobile as typed (``987654321``), the spelling most files hold: every
        # ``9`` followed by 8 digits is valid in the numbering plan (``phonenumbers`` agrees,
        # see the test), and parsing it costs more than the rest of the row's cleaning.
        return "+51" + text
    if len(text) == 12 and text.startswith("+519") and text.isascii() and text[1:].isdigit():
        return text  # the same mobile in E.164, as cleaned (an import's blocking keys)
    error = ValidationError(_("Enter a valid phone number."), code="invalid_phone")
    if not _PHONE_CHARS_RE.fullmatch(text):
        raise error
    try:
        number = phonenumbers.parse(text, PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise error from exc
    if not (phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)):
        raise error
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier (29 February falls back to the 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def validate_birth_date(value: date, today: date | None = None) -> date:
    """Check a birth date: not after today (Lima time) and at most 120 years ago.

    A child born today is accepted. ``today`` is for tests; a ``datetime`` is reduced to its date.
    """
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationError(_("Enter a valid date."), code="invalid_date")
    today = today or timezone.localdate()
    if value > today:
        raise ValidationError(_("The birth date cannot be in the future."), code="future_date")
    if value < _years_before(today, MAX_AGE_YEARS):
        raise ValidationError(
            _("The birth date is more than %(years)d years ago.") % {"years": MAX_AGE_YEARS},
            code="too_old",
        )
    return value


# --- Names ---------------------------------------------------------------------------------


def normalize_name(text: str) -> str:
    """Reduce a name to lower-case ASCII-like words for comparison: "Huamán-Ñaupa" → "huaman naupa".

    Accents and the tilde of ñ are stripped (NFKD, combining marks dropped), case is folded,
    apostrophes vanish inside a word, other punctuation separates words, whitespace collapses.
    """
    # Word by word (every step is character by character, and whitespace separates words in
    # the result too), each word normalised once: names repeat a lot in an import.
    return " ".join(filter(None, map(_normalize_word, (text or "").split())))


@functools.lru_cache(maxsize=65536)
def _normalize_word(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    chars: list[str] = []
    for char in decomposed:
        category = unicodedata.category(char)
        if category.startswith("M") or char in _APOSTROPHES:
            continue
        chars.append(char if category[0] in "LN" else " ")
    return " ".join("".join(chars).split())


def search_words(names: Iterable[str]) -> str:
    """The words of ``names`` for search: normalised, each once, sorted, and each preceded by
    a space (" ayala elmer palomino"), so that ``LIKE '% elm%'`` finds a word by its beginning.

    ``Household.names_search`` holds the words of every active member's given names and
    surnames (``farmers.filters.search_households``)."""
    words = sorted({word for name in names for word in normalize_name(name).split()})
    text = "".join(f" {word}" for word in words)
    if len(text) <= SEARCH_WORDS_MAX_LENGTH:
        return text
    # A family of many distinctly named people: the words that fit (an index row has a limit).
    return text[: text.rindex(" ", 0, SEARCH_WORDS_MAX_LENGTH + 1)]


@functools.lru_cache(maxsize=65536)
def _token_tuple(text: str) -> tuple[str, ...]:
    words = normalize_name(text).split()
    kept = [word for word in words if word not in NAME_PARTICLES]
    return tuple(kept or words)


def _tokens(text: str) -> list[str]:
    """The words of a normalised name, particles dropped unless nothing else is left (cached:
    imports and dedup meet the same names again and again)."""
    return list(_token_tuple(text or ""))


def name_tokens(given_names: str, surnames: str) -> list[str]:
    """All words of a person's names, normalised and sorted.

    Sorting makes the order of surnames (and a given name typed in the surname field) irrelevant:
    ``name_tokens("Juana", "Quispe Huamán") == name_tokens("JUANA", "HUAMAN QUISPE")``.
    """
    return sorted(_tokens(given_names) + _tokens(surnames))


@functools.lru_cache(maxsize=65536)
def _token_ratio(a: str, b: str) -> float:
    """``difflib`` similarity of two tokens, made symmetric (cached: names repeat a lot)."""
    if a == b:
        return 1.0
    return max(SequenceMatcher(None, a, b).ratio(), SequenceMatcher(None, b, a).ratio())


def name_similarity(a_tokens: Sequence[str], b_tokens: Sequence[str]) -> float:
    """How alike two token lists are, in [0, 1], to rank duplicate candidates.

    Tokens are paired greedily by their ``difflib`` ratio (best pairs first, each token used
    once), so neither the order of words nor the order of the arguments matters, and a typo
    costs only its own token. The score
    is the length-weighted mean ratio over all characters of both lists; unpaired tokens count
    as 0. Two empty lists are identical (1.0); one empty list scores 0.0.
    """
    if not a_tokens and not b_tokens:
        return 1.0
    total = sum(map(len, a_tokens)) + sum(map(len, b_tokens))
    if not a_tokens or not b_tokens or total == 0:
        return 0.0
    pairs = sorted(
        (
            -_token_ratio(a, b),  # best pairs first; ties broken by content, not position,
            -(len(a) + len(b)),  # so the score ignores word order and which side is which
            min(a, b),
            max(a, b),
            i,
            j,
        )
        for i, a in enumerate(a_tokens)
        for j, b in enumerate(b_tokens)
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    matched = 0.0
    for negative_ratio, negative_length, _low, _high, i, j in pairs:
        if i in used_a or j in used_b:
            continue
        used_a.add(i)
        used_b.add(j)
        matched += -negative_ratio * -negative_length
    return min(1.0, matched / total)


# Spanish/Quechua spelling variants, applied in order to a normalised token (see _phonetic).
_PHONETIC_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"x", "ks"),
        (r"ch", "0"),  # keep "ch" apart from the silent h
        (r"ll", "y"),
        (r"g(?=[ei])", "j"),  # Gil = Jil
        (r"hu(?=[aeiou])", "w"),  # Huamán = Waman, Huillca = Willca
        (r"gu(?=[ao])", "w"),  # Guamán = Waman
        (r"gu(?=[ei])", "g"),  # Guillén: the u is silent
        (r"qu(?=[ei])", "k"),  # Quispe = Kispe
        (r"q", "k"),  # Qori
        (r"c(?=[ei])", "s"),
        (r"c", "k"),  # Ccori = Qori = Kori
        (r"z", "s"),
        (r"v", "b"),
        (r"h", ""),
        (r"e", "i"),  # Quechua has three vowels: Quispe = Quispi
        (r"o", "u"),  # Condori = Cunduri
        (r"n(?=[bp])", "m"),
        (r"(.)\1+", r"\1"),
    )
)


@functools.lru_cache(maxsize=65536)
@functools.lru_cache(maxsize=65536)
def _phonetic(token: str) -> str:
    """A phonetic code of one normalised name token, folding common Spanish/Quechua spellings
    (cached: a surname's code is asked for every member who carries it).

    Soundex is built for English; this folds the variants registrars actually meet in the VRAEM
    (Huamán/Guamán/Waman, Quispe/Quispi/Kispe, Ccori/Qori, Condori/Cunduri, Vílchez/Bílchez).
    """
    code = token
    for pattern, replacement in _PHONETIC_RULES:
        code = pattern.sub(replacement, code)
    return code or token


@functools.lru_cache(maxsize=65536)
def _digest(*parts: str) -> str:
    """A short stable digest of name parts, so keys have a bounded length.

    Not a privacy measure (names are easy to guess back); it only keeps keys short and uniform.
    """
    data = "\x1f".join(parts).encode()
    return hashlib.blake2b(data, digest_size=_DIGEST_BYTES).hexdigest()


# The key families that carry the birth year (``blocking_keys``), widened by ``search_keys``.
_YEAR_FAMILIES = ("nm:", "sn:")


def search_keys(keys: Iterable[str]) -> set[str]:
    """The keys to look up for a record whose stored keys are ``keys`` (``blocking_keys``): the
    same keys with the birth year, the year before and the year after, so that records born at
    most one year apart meet while each stores its own year only (one key instead of one per
    2-year window: half the rows to write). Keys stored before carry the two windows holding
    the year (``y - 1`` and ``y``): they are found too, at most two years apart, and the
    near-match rule still compares the dates."""
    found: set[str] = set()
    for key in keys:
        if key.startswith(_YEAR_FAMILIES):
            stem, _sep, year = key.rpartition(":")
            if year.isdigit():
                found.update(f"{stem}:{int(year) + shift}" for shift in (-1, 0, 1))
                continue
        found.add(key)
    return found


def phone_key(e164: str) -> str:
    """The blocking key of a normalised phone: its blind index (keyed HMAC), cut to fit
    ``BLOCKING_KEY_MAX_LENGTH`` (116 bits: collisions stay out of reach)."""
    return "ph:" + blind_index(PURPOSE_PHONE, e164)[: BLOCKING_KEY_MAX_LENGTH - 3]


def blocking_keys(
    given_names: str,
    surnames: str,
    birth_date: date | None,
    district_ubigeo: str | None,
    phone: str | None,
) -> set[str]:
    """Short index keys: when two records may be the same person, the ``search_keys`` of one
    meet the keys of the other.

    Store each key in a child table (``DedupKey(household, key)`` with an index on ``key``); the
    candidates of a new record are the households owning any of its ``search_keys``, ranked
    afterwards with ``name_similarity`` and the birth date. Key families (at most about six
    keys per record,
    each at most ``BLOCKING_KEY_MAX_LENGTH`` characters):

    - ``ph:<blind index of the E.164 phone>``: the same phone, whatever else differs (keyed
      HMAC, ``registry.crypto.blind_index``: the phone is not stored in clear here either).
    - ``nm:<digest(all sorted name tokens)>:<y>``: the same normalised names in any order (case,
      accents, surname order, given names in the surname field), nationwide, with the birth
      year ``y``. The lookup (``search_keys``) asks for ``y - 1``, ``y`` and ``y + 1``, so ±1
      year and day/month swaps (same year) match while each record stores one key.
    - ``sn:<ubigeo>:<digest(surname token, given-name initial)>:<y>``: one per surname token, so
      a typo in one of two surnames still matches through the other one, within the district.
    - ``sd:<ubigeo>:<digest(phonetic surnames, phonetic given initial)>``: the surnames folded by
      Spanish/Quechua spelling (``_phonetic``) in the district, without the date, catching a
      spelling variant of a single surname or a wrongly typed year.

    These are the keys stored; a lookup asks for ``search_keys(keys)``. Unrelated records
    (other names, years, district and phone) meet on nothing: every family
    includes the phone, the names or the district together with the names. Names are digested
    only to bound the key length. Parts that are missing or invalid (no date, a malformed ubigeo,
    an invalid phone) simply produce no key of their family; this function never raises.
    """
    keys: set[str] = set()
    if phone:
        with contextlib.suppress(ValidationError):
            keys.add(phone_key(normalize_phone(phone)))

    given = _tokens(given_names)
    surname_tokens = sorted(_tokens(surnames))
    all_tokens = sorted(given + surname_tokens)
    initial = given[0][0] if given else "_"
    years = (birth_date.year,) if birth_date is not None else ()
    district = (district_ubigeo or "").strip()
    has_district = bool(UBIGEO_RE.fullmatch(district))

    if all_tokens:
        name_digest = _digest(*all_tokens)
        keys.update(f"nm:{name_digest}:{year}" for year in years)
    if has_district and surname_tokens:
        for token in set(surname_tokens):
            token_digest = _digest(token, initial)
            keys.update(f"sn:{district}:{token_digest}:{year}" for year in years)
        phonetic_initial = _phonetic(given[0])[0] if given else "_"
        phonetic_surnames = sorted(_phonetic(token) for token in surname_tokens)
        keys.add(f"sd:{district}:{_digest(*phonetic_surnames, phonetic_initial)}")
    return keys


# A near match's minimum name similarity (``near_match``).
POSSIBLE_DUPLICATE_MIN_SCORE = 0.75
# A member as the near-match rule reads it: given names, surnames, birth date, and the phone in
# any form both sides share (the number, or its blind index).
Person = tuple[str, str, date, str]


@functools.lru_cache(maxsize=65536)
def _name_key(given: str, surnames: str) -> tuple[str, ...]:
    return tuple(name_tokens(given, surnames))


def near_match(
    mine: Sequence[Person], theirs: Sequence[Person], *, same_district: bool
) -> tuple[Decimal, list[str]] | None:
    """The near-match rule between two households' members, for registration
    (``farmers.services.dedup``) and imports (``farmers.importing.pipeline``) alike: a pair is a
    near match when the names are similar (accents, case and surname order ignored, score at
    least ``POSSIBLE_DUPLICATE_MIN_SCORE``) and either the phone is the same, or the birth dates
    are within a year in the same district (names are compared only for pairs already tied so).
    The best score (3 decimals) and the reasons, or ``None``."""
    best = 0.0
    reasons: set[str] = set()
    for given, surnames, birth, phone in mine:
        for their_given, their_surnames, their_birth, their_phone in theirs:
            same_phone = bool(phone) and phone == their_phone
            close_birth = abs((birth - their_birth).days) <= 366
            if not (same_phone or (close_birth and same_district)):
                continue
            similarity = name_similarity(
                _name_key(given, surnames), _name_key(their_given, their_surnames)
            )
            if similarity < POSSIBLE_DUPLICATE_MIN_SCORE:
                continue
            best = max(best, similarity)
            reasons.add("similar_name")
            if same_phone:
                reasons.add("same_phone")
            if close_birth:
                reasons.add("close_birth_date")
            if same_district:
                reasons.add("same_district")
    if not reasons:
        return None
    return Decimal(str(round(min(best, 1.0), 3))), sorted(reasons)
