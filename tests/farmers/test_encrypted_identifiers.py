"""National IDs and phones encrypted at rest, found by keyed blind indexes (issue 19 point 4):
nothing in clear in the members table, the blocking keys or history; lookups, the duplicate
check and import dedup still work; keys rotate by a command; the data migration encrypts the
rows stored before; production refuses to run without keys; logs and error reports carry no
ID or phone."""

from __future__ import annotations

import importlib
import io
import logging
import sys
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.core.checks import Error
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import IntegrityError, connection
from django.test import RequestFactory, override_settings
from django.views.debug import get_exception_reporter_class

from farmers import services
from farmers.filters import search_households
from farmers.identity import phone_key
from farmers.models import DedupKey, Household, Member
from registry import crypto
from registry.actors import Actor
from registry.api.errors import exception_handler
from registry.checks import identifier_keys_check
from registry.models import ChangeRecord, Program
from registry.redaction import PersonalDataExceptionReporter, PersonalDataFilter, redact
from tests.farmers.conftest import ClientMaker, household_payload

pytestmark = pytest.mark.django_db

ANYONE = Actor(unrestricted=True)
DNI, SPOUSE_DNI, PHONE = "10117410", "42345678", "+51987654321"
KEY_A, KEY_B, INDEX_KEY, INDEX_KEY_2 = (crypto.generate_key() for _i in range(4))
migration = importlib.import_module("farmers.migrations.0021_encrypt_existing")


def register(**overrides: Any) -> Household:
    payload = household_payload(**overrides)
    payload["members"] = [
        {**m, "birth_date": date.fromisoformat(m["birth_date"]), "phone": m.get("phone", "")}
        for m in payload["members"]
    ]
    payload["consent"]["signed_on"] = date.fromisoformat(payload["consent"]["signed_on"])
    household, _created = services.household_register(actor=ANYONE, channel="test", **payload)
    return household


def dump(*tables: str) -> str:
    text = ""
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 (fixed table names)
            text += repr(cursor.fetchall())
    return text


def raw_member(pk: Any) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT document_number, document_index, phone, phone_index FROM farmers_member "
            "WHERE id = %s",
            [pk.hex if connection.vendor == "sqlite" else pk],
        )
        row = cursor.fetchone()
    return dict(
        zip(["document_number", "document_index", "phone", "phone_index"], row, strict=True)
    )


# --- The library layer -----------------------------------------------------------------------


def test_envelopes_are_random_bound_to_their_column_and_tamper_evident() -> None:
    first, second = crypto.encrypt(DNI, "document"), crypto.encrypt(DNI, "document")
    assert first != second and DNI not in first  # a fresh nonce each time
    assert first.startswith(crypto.keyring().prefix)
    assert crypto.decrypt(first, "document") == crypto.decrypt(second, "document") == DNI
    assert crypto.encrypt(first, "document") == first  # an envelope is not encrypted twice
    assert crypto.encrypt("", "document") == "" and crypto.decrypt("", "phone") == ""
    assert crypto.decrypt(DNI, "document") == DNI  # a value stored before encryption still reads
    with pytest.raises(crypto.IdentifierKeyError):  # a document cannot pass as a phone
        crypto.decrypt(first, "phone")
    tampered = first[:-3] + ("A" if first[-3] != "A" else "B") + first[-2:]
    with pytest.raises(crypto.IdentifierKeyError):
        crypto.decrypt(tampered, "document")
    assert crypto.encrypt_many([DNI, "", first], "document")[1:] == ["", first]
    assert crypto.decrypt(crypto.encrypt_many([DNI], "document")[0], "document") == DNI


def test_blind_indexes_are_keyed_exact_and_separate_per_column() -> None:
    index = crypto.blind_index("document", DNI)
    assert index == crypto.blind_index("document", DNI) and len(index) == 32
    assert index != crypto.blind_index("phone", DNI) and crypto.blind_index("document", "") == ""
    assert crypto.blind_index_many([DNI, ""], "document") == [index, ""]
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        assert crypto.blind_index("document", DNI) != index  # another key, another index


def test_a_value_lookup_on_an_encrypted_column_is_refused() -> None:
    with pytest.raises(FieldError, match="blind index"):
        list(Member.objects.filter(document_number=DNI))
    with pytest.raises(FieldError):
        list(Member.objects.filter(phone__startswith="+51"))
    assert list(Member.objects.filter(document_number="")) == []  # "is it empty" is allowed


@override_settings(IDENTIFIER_ENCRYPTION_KEYS=[], IDENTIFIER_DEV_KEYS_ALLOWED=False)
def test_without_keys_and_without_the_development_fallback_nothing_is_encrypted() -> None:
    with pytest.raises(crypto.IdentifierKeyError, match="must be set"):
        crypto.encrypt(DNI, "document")


def test_check_deploy_fails_without_keys_and_passes_with_them() -> None:
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[], IDENTIFIER_INDEX_KEY=""):
        ids = {m.id for m in identifier_keys_check() if isinstance(m, Error)}
        assert ids == {"registry.E102", "registry.E103"}
        with pytest.raises(Exception, match=r"registry\.E102"):
            call_command("check", deploy=True, fail_level="ERROR", stdout=io.StringIO())
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=["short"], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        assert [m.id for m in identifier_keys_check()] == ["registry.E101"]
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[INDEX_KEY], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        assert "registry.E104" in {m.id for m in identifier_keys_check()}
    with override_settings(
        IDENTIFIER_ENCRYPTION_KEYS=[KEY_A],
        IDENTIFIER_INDEX_KEY=INDEX_KEY,
        IDENTIFIER_DEV_KEYS_ALLOWED=False,
    ):
        assert identifier_keys_check() == []
        call_command("check", deploy=True, fail_level="ERROR", stdout=io.StringIO())


# --- At rest ----------------------------------------------------------------------------------


def test_a_raw_read_of_the_tables_shows_no_id_or_phone_in_clear(program: Program) -> None:
    household = register()
    head = household.members.get(is_head=True)
    assert (head.document_number, head.phone) == (DNI, PHONE)  # the ORM reads them in clear
    # A correction of the phone and the spouse's ID goes to history masked.
    spouse = household.members.get(is_head=False)
    services.household_update(
        actor=ANYONE,
        household=household,
        data={
            "members": [
                {"id": str(head.pk), "phone": "+51 912 345 678"},
                {"id": str(spouse.pk), "document_number": "43456789"},
            ]
        },
        expected_version=None,
        channel="test",
    )
    text = dump("farmers_member", "farmers_dedupkey", "registry_changerecord", "farmers_household")
    for secret in (DNI, SPOUSE_DNI, "43456789", "987654321", "912345678"):
        assert secret not in text, secret
    stored = raw_member(head.pk)
    assert stored["document_number"].startswith("v1.") and stored["phone"].startswith("v1.")
    assert stored["document_index"] == crypto.blind_index("document", DNI)
    assert stored["phone_index"] == crypto.blind_index("phone", "+51912345678")
    changed = ChangeRecord.objects.filter(object_id=str(household.pk), action="update").get()
    members = changed.changes["members"]["changed"]
    assert members[str(head.pk)]["phone"] == ["**********21", "**********78"]
    assert members[str(spouse.pk)]["document_number"] == ["******78", "******89"]
    assert DedupKey.objects.filter(household=household, key=phone_key("+51912345678")).exists()


# --- Lookups ----------------------------------------------------------------------------------


def test_exact_lookups_duplicate_check_and_search_use_the_blind_index(
    program: Program, client_for: ClientMaker
) -> None:
    household = register()
    assert list(search_households(Household.objects.all(), DNI)) == [household]
    assert list(search_households(Household.objects.all(), DNI[:6] + "99")) == []
    # No partial ID search: a prefix finds nothing (the blind index answers "equal?" only).
    assert list(search_households(Household.objects.all(), DNI[:7])) == []
    client = client_for()
    found = client.get("/api/v1/households/", {"q": DNI}).json()["results"]
    assert [h["id"] for h in found] == [str(household.pk)]
    looked = client.post(
        "/api/v1/households/lookup/",
        {"document_type": "dni", "document_number": DNI},
        format="json",
    ).json()["results"]
    assert [h["id"] for h in looked] == [str(household.pk)]
    # The API answers the clear values to whoever may read them.
    member = next(m for m in looked[0]["members"] if m["relationship"] == "head")
    assert (member["document_number"], member["phone"]) == (DNI, PHONE)
    # The duplicate check: the same ID elsewhere is a 409 naming it.
    clash = client.post("/api/v1/households/", household_payload(community="Otra"), format="json")
    assert clash.status_code == 409, clash.content
    assert clash.json()["errors"][0]["code"] == "duplicate"
    # The database rule behind it holds on the blind index.
    twin = Member.objects.get(document_index=crypto.blind_index("document", DNI))
    with pytest.raises(IntegrityError):
        Member.objects.create(
            household=Household.objects.exclude(pk=household.pk).first() or household,
            given_names="Otra",
            surnames="Persona",
            document_type="dni",
            document_number=twin.document_number,
            sex="f",
            birth_date=date(1990, 1, 1),
            relationship="other",
        )


def test_same_phone_still_makes_a_possible_duplicate(program: Program) -> None:
    first = register()
    head = household_payload()["members"][0]
    second = register(
        community="Palmapampa",
        members=[{**head, "document_number": "20654321", "surnames": "Quispe Huaman"}],
    )
    assert second.possible_duplicates.filter(candidate=first).exists()
    reasons = second.possible_duplicates.get(candidate=first).reasons
    assert "same_phone" in reasons


# --- Rotation and the data migration ---------------------------------------------------------


def test_rotation_re_encrypts_under_the_new_key_resumably(program: Program) -> None:
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        household = register()
        head = household.members.get(is_head=True)
        old = raw_member(head.pk)
        prefix_a = crypto.keyring().prefix
        assert old["document_number"].startswith(prefix_a)
    with override_settings(
        IDENTIFIER_ENCRYPTION_KEYS=[KEY_B, KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY
    ):
        prefix_b = crypto.keyring().prefix
        # Before rotation both keys decrypt; new writes use the first.
        assert Member.objects.get(pk=head.pk).document_number == DNI
        out = io.StringIO()
        call_command("rotate_identifier_keys", "--chunk-size", "1", stdout=out)
        assert "2 / 2 rows of farmers_member" in out.getvalue()
        assert "Done: 2 members re-encrypted" in out.getvalue()
        new = raw_member(head.pk)
        assert new["document_number"].startswith(prefix_b) and new["phone"].startswith(prefix_b)
        assert new["document_index"] == old["document_index"]  # the index key did not change
        again = io.StringIO()
        call_command("rotate_identifier_keys", stdout=again)
        assert "Done: 0 members re-encrypted" in again.getvalue()  # resumable: nothing left
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_B], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        # The old key is gone: everything still reads.
        assert Member.objects.get(pk=head.pk).phone == PHONE
    with (
        override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY),
        pytest.raises(crypto.IdentifierKeyError, match="keep the old key"),
    ):
        Member.objects.get(pk=head.pk)


def test_a_new_index_key_is_applied_by_reindex(program: Program) -> None:
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        household = register()
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY_2):
        assert list(search_households(Household.objects.all(), DNI)) == []  # stale indexes
        call_command("rotate_identifier_keys", "--reindex", stdout=io.StringIO())
        assert list(search_households(Household.objects.all(), DNI)) == [household]
        assert DedupKey.objects.filter(household=household, key=phone_key(PHONE)).count() == 1


def test_reindex_writes_one_phone_key_for_two_members_sharing_a_phone(program: Program) -> None:
    with override_settings(IDENTIFIER_ENCRYPTION_KEYS=[KEY_A], IDENTIFIER_INDEX_KEY=INDEX_KEY):
        household = register()
        household.members.update(phone=PHONE)  # the same number on every member
        call_command("rotate_identifier_keys", "--reindex", stdout=io.StringIO())
        phone_keys = DedupKey.objects.filter(household=household, key__startswith="ph:")
        assert household.members.count() > 1
        assert list(phone_keys.values_list("key", flat=True)) == [phone_key(PHONE)]


def test_the_data_migration_encrypts_rows_stored_in_clear(program: Program) -> None:
    household = register()
    head = household.members.get(is_head=True)
    with connection.cursor() as cursor:  # as the rows were before farmers 0020
        cursor.execute(
            "UPDATE farmers_member SET document_number = %s, phone = %s, document_index = '', "
            "phone_index = '' WHERE id = %s",
            [DNI, PHONE, head.pk.hex if connection.vendor == "sqlite" else head.pk],
        )
    DedupKey.objects.filter(household=household, key__startswith="ph:").update(key=f"ph:{PHONE}")
    assert DNI in dump("farmers_member") and PHONE in dump("farmers_dedupkey")

    out = io.StringIO()
    sys.stdout, saved = out, sys.stdout
    try:
        migration.encrypt_members(apps, None)
    finally:
        sys.stdout = saved
    assert "encrypted 1 members, rewrote 1 phone blocking keys" in out.getvalue()
    assert DNI not in dump("farmers_member") and PHONE not in dump("farmers_dedupkey")
    assert raw_member(head.pk)["document_index"] == crypto.blind_index("document", DNI)
    assert list(search_households(Household.objects.all(), DNI)) == [household]
    assert DedupKey.objects.filter(household=household, key=phone_key(PHONE)).exists()
    # The reverse writes them back in clear (the columns of 0017 hold them again).
    migration.decrypt_members(apps, None)
    assert DNI in dump("farmers_member")
    assert Member.objects.get(pk=head.pk).document_number == DNI


# --- Logs and error reports -------------------------------------------------------------------


def _console_output(run: Any) -> str:
    """What the configured console handler (with its redaction filter) writes during ``run``."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PersonalDataFilter) for f in h.filters)
    )
    stream = io.StringIO()
    assert isinstance(handler, logging.StreamHandler)
    previous = handler.setStream(stream)
    try:
        run()
    finally:
        handler.setStream(previous)
    return stream.getvalue()


def test_logs_carry_no_id_or_phone(program: Program, client_for: ClientMaker) -> None:
    register()
    client = client_for()

    def run() -> None:
        # A validation error and a duplicate answered by the API.
        bad = household_payload(community="Otra")
        bad["members"][0] = {**bad["members"][0], "phone": "12AB"}
        assert client.post("/api/v1/households/", bad, format="json").status_code == 400
        dup = client.post("/api/v1/households/", household_payload(), format="json")
        assert dup.status_code == 409
        # An integrity error whose database message names the values.
        exception_handler(
            IntegrityError(f"Key (document_type, document_number)=(dni, {DNI}) already exists"),
            {},
        )
        # An exception logged with its traceback, and a message with a phone.
        try:
            raise ValueError(f"cannot register {DNI} (phone 987 654 321, {PHONE})")
        except ValueError:
            logging.getLogger("farmers").exception("Registration of %s failed", SPOUSE_DNI)

    output = _console_output(run)
    assert "Integrity error answered as 409" in output and "ValueError" in output
    for secret in (DNI, SPOUSE_DNI, PHONE, "987 654 321", "987654321"):
        assert secret not in output, secret
    assert "[redacted]" in output


FOREIGN_ID, NATIONAL_PHONE = "AB1234567", "987654321"


def _form_post() -> Any:
    """A field-app form post (built away from the failing frame, whose source the report
    shows)."""
    return RequestFactory().post(
        "/campo/hogares/nuevo/",
        {"members-0-document_number": FOREIGN_ID, "members-0-phone": NATIONAL_PHONE, "x": "1"},
    )


def test_error_reports_carry_no_id_or_phone() -> None:
    request = _form_post()
    try:
        document_number = DNI  # a frame variable holding an ID
        raise RuntimeError(f"failed for {document_number} / {PHONE}")
    except RuntimeError:
        reporter_class: Any = get_exception_reporter_class(request)
        assert issubclass(reporter_class, PersonalDataExceptionReporter)
        reporter = reporter_class(request, *sys.exc_info())
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()
    for report in (text, html):
        for secret in (DNI, PHONE, FOREIGN_ID, NATIONAL_PHONE):
            assert secret not in report, secret
    assert "RuntimeError" in text and "members-0-document_number" in text


def test_redact_keeps_ordinary_numbers_and_uuids() -> None:
    line = "household 1d2c3b4a-0000 code HH-7K2M ubigeo 080910 10117410-2 uuid 12345678-1234-5678"
    assert redact(line) == (
        "household 1d2c3b4a-0000 code HH-7K2M ubigeo 080910 [redacted] uuid 12345678-1234-5678"
    )
    assert redact("call +51 987 654 321 or 987654321 or 987-654-321") == (
        "call [redacted] or [redacted] or [redacted]"
    )
