"""Crop installations imported from a CSV or XLSX file (issue 16: "installation import") through
the household import's machinery: one installation per row through the service, field errors on
the row's columns, nothing of a bad row written, safe to re-run, and a dry run writes nothing."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from farmers.importing.records import import_installations
from farmers.models import CropInstallation
from registry.actors import Actor
from registry.models import Program
from tests.factories import UserFactory
from tests.farmers.evidence_helpers import give_plot
from tests.farmers.transition_helpers import make_household

pytestmark = pytest.mark.django_db
SYSTEM = Actor(unrestricted=True)
HEADER = "ref_instalacion;parcela;cultivo;variedad;hectareas;plantas;fecha_de_siembra\n"


def csv_bytes(*rows: str) -> bytes:
    return (HEADER + "".join(f"{row}\n" for row in rows)).encode()


def test_rows_become_installations_and_a_rerun_finds_them(program: Program) -> None:
    plot = give_plot(make_household(program).pk)  # 4 ha
    data = csv_bytes(
        f"A-1;{plot.pk};cacao;ccn51;1,5;1650;15/03/2019",
        f"A-2;{plot.pk};cacao;chuncho;9;500;15/03/2019",  # more than the plot
        f"A-3;{plot.pk};coca;;1;10;15/03/2019",
        "A-4;not-a-plot;cacao;;1;10;15/03/2019",
        f"A-5;{plot.pk};cacao;;1;10;31/02/2019",
    )
    report = import_installations(actor=SYSTEM, source=data, filename="i.csv", dry_run=False)
    outcomes = {
        r.household_ref: (r.outcome, [(e.column, e.code) for e in r.errors]) for r in report.rows
    }
    assert outcomes["A-1"] == ("created", [])
    assert outcomes["A-2"] == ("error", [("area_ha", "installation_exceeds_plot_area")])
    assert outcomes["A-3"][0] == "error" and outcomes["A-3"][1][0][0] == "crop"
    assert outcomes["A-4"] == ("error", [("plot", "does_not_exist")])
    assert outcomes["A-5"] == ("error", [("planting_date", "invalid")])
    made = CropInstallation.objects.get()
    assert (made.variety, str(made.area_ha), made.plants) == ("ccn51", "1.5000", 1650)
    again = import_installations(actor=SYSTEM, source=data, filename="i.csv", dry_run=False)
    assert again.rows[0].outcome == "already_imported"
    assert CropInstallation.objects.count() == 1


def test_xlsx_dry_run_and_the_command(program: Program, tmp_path: Any) -> None:
    plot = give_plot(make_household(program).pk)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        ["installation_ref", "plot", "crop", "variety", "area_ha", "plants", "planting_date"]
    )
    sheet.append(["B-1", str(plot.pk), "cacao", "CCN51", 2, 2000, "2020-06-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = import_installations(
        actor=SYSTEM, source=buffer.getvalue(), filename="i.xlsx", dry_run=True
    )
    assert [r.outcome for r in report.rows] == ["created"], report.rows
    assert not CropInstallation.objects.exists()
    path = tmp_path / "i.xlsx"
    path.write_bytes(buffer.getvalue())
    user = UserFactory.create(username="root", is_superuser=True)
    out = io.StringIO()
    call_command("import_installations", str(path), "--actor", user.username, stdout=out)
    assert "Installations: 1 created" in out.getvalue()
    assert CropInstallation.objects.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(f"C-1;{plot.pk};cacao;;99;10;01/06/2020"))
    with pytest.raises(CommandError, match="1 rows have errors"):
        call_command("import_installations", str(bad), "--actor", user.username, stdout=out)
