from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Kernel of the registry, imported by every other app and importing none of them."""

    name = "registry"
    verbose_name = _("Registry")

    def ready(self) -> None:
        # Session sign-in time for the idle and absolute timeouts (issue 13).
        from . import sessions  # noqa: F401

        # Registers the OpenAPI extensions (Api-Key security scheme).
        from .api import fields, schema  # noqa: F401
