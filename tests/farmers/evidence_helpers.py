"""What a coca-free visit needs to be confirmed (``farmers.evidence``): a plot for its licit
crops, a GPS fix where the household is, a photo."""

from __future__ import annotations

import tempfile
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from farmers import services
from farmers.devtools.demo import square
from farmers.models import Plot, Verification
from registry.actors import Actor

PICHARI_FIX = {"lat": -12.52, "lon": -73.83}  # inside Pichari (080910) in the 2007 outlines
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
ANYONE = Actor(unrestricted=True)


def give_plot(
    household: Any, *, lon: float = -73.83, lat: float = -12.52, side_m: float = 200
) -> Plot:
    """A square plot of ``side_m`` metres (200 m: 4 ha) for the household, south-west corner at
    ``(lon, lat)``."""
    plot, _created = services.plot_create(
        actor=ANYONE,
        household=household,
        name="Chacra de prueba",
        tenure="possession",
        geometry=square(lon, lat, side_m),
        crops=["cacao"],
        channel="test",
    )
    return plot


def attach_photo(visit: Any) -> Verification:
    """Attach a (tiny) PNG to the visit, as the field officer's phone would (stored in a
    temporary media directory)."""
    pk = visit.pk if isinstance(visit, Verification) else visit
    with override_settings(MEDIA_ROOT=tempfile.mkdtemp(prefix="visit-photo-")):
        return services.verification_attach_photo(
            actor=ANYONE,
            verification=Verification.objects.get(pk=pk),
            photo=SimpleUploadedFile("foto.png", PNG, content_type="image/png"),
        )
