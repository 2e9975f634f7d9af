"""Management commands administrators rely on (API.md): idempotent, clear errors, keys once."""

import hashlib
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from registry.models import ApiKey, Membership, Organization, Program

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_create_organization_is_idempotent_on_code() -> None:
    args = (
        "create_organization",
        "--code",
        "dra-cusco",
        "--kind",
        "titling_authority",
        "--name",
        "DRA Cusco",
        "--districts",
        "080910,080907",
    )
    assert "Created" in run(*args)
    assert "Updated" in run(*args)
    org = Organization.objects.get(code="dra-cusco")
    assert set(org.districts.values_list("ubigeo", flat=True)) == {"080910", "080907"}
    assert Organization.objects.filter(code="dra-cusco").count() == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--ruc", "20131312954"), "ruc"),
        (("--districts", "080910,999999"), "999999"),
    ],
)
def test_create_organization_bad_arguments(extra: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError) as info:
        run("create_organization", "--code", "c", "--kind", "buyer", "--name", "C", *extra)
    assert message in str(info.value)
    assert not Organization.objects.filter(code="c").exists()


def test_create_organization_bad_kind_exits_non_zero() -> None:
    with pytest.raises(CommandError):
        run("create_organization", "--code", "c", "--kind", "alien", "--name", "C")


def test_create_program() -> None:
    run("create_organization", "--code", "devida", "--kind", "program_agency", "--name", "DEVIDA")
    run("create_organization", "--code", "fondo", "--kind", "funder", "--name", "Fondo")
    out = run(
        "create_program",
        "--code",
        "pirdais",
        "--name",
        "PIRDAIS",
        "--agency",
        "devida",
        "--funder",
        "fondo",
        "--budget",
        "1500000.00",
    )
    assert "Created" in out
    assert "Updated" in run(
        "create_program", "--code", "pirdais", "--name", "PIRDAIS 2", "--agency", "devida"
    )
    program = Program.objects.get(code="pirdais")
    assert program.name == "PIRDAIS 2"
    assert str(program.budget_pen) == "1500000.00"
    with pytest.raises(CommandError, match="agency"):
        run("create_program", "--code", "x", "--name", "X", "--agency", "nadie")
    with pytest.raises(CommandError, match="budget"):
        run(
            "create_program",
            "--code",
            "x",
            "--name",
            "X",
            "--agency",
            "devida",
            "--budget",
            "mucho",
        )


def test_create_api_key_prints_the_key_alone_on_the_last_line() -> None:
    run("create_organization", "--code", "impl", "--kind", "implementer", "--name", "Impl")
    out = run(
        "create_api_key",
        "--organization",
        "impl",
        "--scopes",
        "households:read,coca:read",
        "--expires",
        "30",
    )
    raw = out.strip().splitlines()[-1]
    assert " " not in raw and "." in raw
    api_key = ApiKey.objects.get()
    assert api_key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert set(api_key.scopes) == {"households:read", "coca:read", "reference:read"}
    assert api_key.expires_at is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--organization", "nadie", "--scopes", "households:read"), "nadie"),
        (("--organization", "impl", "--scopes", "households:read,root"), "root"),
        (("--organization", "impl", "--scopes", "households:read", "--expires", "0"), "expir"),
    ],
)
def test_create_api_key_bad_arguments(args: tuple[str, ...], message: str) -> None:
    run("create_organization", "--code", "impl", "--kind", "implementer", "--name", "Impl")
    with pytest.raises(CommandError, match=message):
        run("create_api_key", *args)
    assert not ApiKey.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent_and_prints_logins() -> None:
    first = run("seed_demo")
    counts = (Organization.objects.count(), Program.objects.count(), Membership.objects.count())
    second = run("seed_demo")
    assert counts == (
        Organization.objects.count(),
        Program.objects.count(),
        Membership.objects.count(),
    )
    for out in (first, second):
        assert "admin / " in out
        assert "Demo API key:" in out
    password = second.split("admin / ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(password)
    active_demo_keys = [k for k in ApiKey.objects.filter(name="demo") if k.is_active]
    assert len(active_demo_keys) == 1
    raw = second.split("Demo API key:")[1].split()[0]
    assert active_demo_keys[0].key_hash == hashlib.sha256(raw.encode()).hexdigest()


def test_seed_demo_refuses_without_debug() -> None:
    with pytest.raises(CommandError, match="DEBUG"):
        run("seed_demo")
    assert not Organization.objects.exists()


def test_load_geography_command() -> None:
    assert "1891 districts loaded, 42 in the VRAEM" in run("load_geography")
