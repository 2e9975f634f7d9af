from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmersConfig(AppConfig):
    """Households and the transition engine."""

    name = "farmers"
    verbose_name = _("Farmers")

    def ready(self) -> None:
        from registry import outbox
        from registry.admin_site import register_admin_page
        from registry.devtools import register_seeder

        from .admin import DASHBOARD_PAGE
        from .admin.annual_page import ANNUAL_REPORT_PAGE
        from .devtools.demo import (
            seed_demo_families,
            seed_demo_installations,
            seed_demo_support,
            seed_demo_training,
        )
        from .transition import RECOMPUTE_TASK, RECOMPUTE_TOPIC
        from .transition.decisions import appeal_facts, decision_facts
        from .transition.evidence import register_provider

        register_admin_page(DASHBOARD_PAGE)
        register_admin_page(ANNUAL_REPORT_PAGE)
        register_seeder(seed_demo_families)
        register_seeder(seed_demo_support)
        register_seeder(seed_demo_installations)
        register_seeder(seed_demo_training)
        register_provider("farmers.decisions", decision_facts)
        register_provider("farmers.appeals", appeal_facts)
        outbox.register(RECOMPUTE_TOPIC, outbox.celery_task(RECOMPUTE_TASK))
        from .importing.pipeline import DUPLICATES_TASK, DUPLICATES_TOPIC

        outbox.register(DUPLICATES_TOPIC, outbox.celery_task(DUPLICATES_TASK))
        from . import webhooks

        webhooks.register()
        from . import exports

        exports.register()
        from registry.admin.alerts import register_household_names

        from .selectors import household_labels

        register_household_names(household_labels)
        self._register_alert_details()

    @staticmethod
    def _register_alert_details() -> None:
        """What the alert page calls the details of the farmers' alerts (engine, rights)."""
        from django.utils.translation import gettext_lazy as _

        from registry.admin.alerts import register_alert_details
        from registry.display import choice_label

        from .choices import RequestKind, Stage
        from .pages.stage import reason_label

        register_alert_details(
            {
                "stage": (_("stage"), lambda value: choice_label(value, Stage)),
                "reason": (_("reason"), reason_label),
                "kind": (_("request"), lambda value: choice_label(value, RequestKind)),
            }
        )
