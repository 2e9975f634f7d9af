"""seed_households: valid, varied synthetic households for benchmarks; seed_demo families."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q
from django.test import override_settings

from farmers.geometry import parse_geojson, validate_plot_geometry
from farmers.identity import validate_dni
from farmers.models import Consent, DedupKey, Household, Member, Plot
from registry.crypto import PURPOSE_DOCUMENT, PURPOSE_PHONE, blind_index
from registry.geography import VRAEM_DISTRICTS

pytestmark = pytest.mark.django_db


def test_seed_households_makes_valid_households_in_chunks() -> None:
    out = StringIO()
    call_command("seed_households", "--count", "45", "--chunk-size", "20", stdout=out)
    assert "Seeded 45 households" in out.getvalue()
    assert out.getvalue().count("households  (") == 3  # progress per chunk
    assert Household.objects.count() == 45
    assert Household.objects.values("code").distinct().count() == 45
    heads = Household.objects.annotate(
        heads=Count("members", filter=Q(members__is_head=True, members__is_active=True))
    )
    assert {h.heads for h in heads} == {1}
    assert set(Household.objects.values_list("district_id", flat=True)) <= VRAEM_DISTRICTS
    # IDs and phones are written encrypted, with their blind indexes (issue 19 point 4).
    for number, index, phone, phone_index in Member.objects.exclude(document_number="").values_list(
        "document_number", "document_index", "phone", "phone_index"
    ):
        assert validate_dni(number) == number
        assert index == blind_index(PURPOSE_DOCUMENT, number)
        assert phone_index == blind_index(PURPOSE_PHONE, phone)
    with connection.cursor() as cursor:
        cursor.execute("SELECT document_number, phone FROM farmers_member")
        stored = cursor.fetchall()
    assert all(value == "" or value.startswith("v1.") for row in stored for value in row)
    for plot in Plot.objects.all():
        validate_plot_geometry(parse_geojson(plot.geometry))
        assert plot.area_ha > 0
    assert Consent.objects.count() == 45
    assert DedupKey.objects.values("household").distinct().count() == 45
    # A second run adds more, with new codes and IDs.
    call_command("seed_households", "--count", "10", stdout=StringIO())
    assert Household.objects.count() == 55
    assert (
        Member.objects.filter(is_live=True)
        .exclude(document_number="")
        .values("document_index")
        .distinct()
        .count()
        == Member.objects.filter(is_live=True).exclude(document_number="").count()
    )


@override_settings(DEBUG=True)
def test_seed_demo_families_are_registered_through_the_services() -> None:
    call_command("seed_demo", stdout=StringIO())
    first = Household.objects.count()
    call_command("seed_demo", stdout=StringIO())
    assert Household.objects.count() == first == 24
    # Issue 13: demo ids were uuid5(namespace in the source, "household-N"): computable. Now
    # random, the family found again by its reference.
    import uuid

    namespace = uuid.UUID("6f1f6c3e-8f1e-4d55-9d0b-3c1e9a6a5b10")
    guessable = {uuid.uuid5(namespace, f"household-{n}") for n in range(24)}
    ids = set(Household.objects.values_list("pk", flat=True))
    assert not ids & guessable
    assert {pk.version for pk in ids} == {4}
    assert Household.objects.filter(import_ref="demo-0", program__code="pirdais").exists()
    assert Household.objects.filter(status="active").exists()
    assert Household.objects.filter(status="pending_review").exists()
    assert Plot.objects.count() == 24
    assert not Household.objects.filter(head_name="").exists()
