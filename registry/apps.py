from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class RegistryConfig(AppConfig):
    """Kernel of the registry, imported by every other app and importing none of them."""

    name = "registry"
    verbose_name = _("Registry")

    def ready(self) -> None:
        # Session sign-in time for the idle and absolute timeouts (issue 13).
        # Webhooks (issue 19): the outbox topic that sends deliveries, the alert event's data.
        from . import (
            checks,  # noqa: F401  (system checks: identifier keys)
            credentials,
            outbox,
            sessions,  # noqa: F401
        )

        # Registers the OpenAPI extensions (Api-Key security scheme).
        from .api import fields, schema  # noqa: F401
        from .webhooks import WEBHOOK_TOPIC, builders

        outbox.register(WEBHOOK_TOPIC, outbox.celery_task("registry.tasks.deliver_webhooks"))
        builders.register()
        # A change to a key, its organization or its area forgets the cached keys (issue 19).
        credentials.connect_signals()
        # Exports (issue 18 point 5): the kernel's alerts list; the apps add theirs.
        from . import exporting, exports

        exports.register()
        outbox.register(exporting.EXPORT_TOPIC, outbox.celery_task(exporting.EXPORT_TASK))
        # ``field__any_of=[…]``: long value lists bound as one array (the import's lookups).
        from . import lookups

        lookups.register()


class RegistryAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with the registry's own site (``RegistryAdminSite``) as
    ``admin.site``: listed in ``INSTALLED_APPS`` in place of ``django.contrib.admin``."""

    default = False
    default_site = "registry.admin_site.RegistryAdminSite"
