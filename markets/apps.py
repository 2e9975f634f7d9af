"""Buyers, market-access contracts, deliveries and payments."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketsConfig(AppConfig):
    """Market access."""

    name = "markets"
    verbose_name = _("Market access")

    def ready(self) -> None:
        from farmers.merging import register_merge_handler
        from farmers.rights_sections import register_access_section
        from farmers.transition.evidence import register_provider
        from registry.devtools import register_seeder

        from .devtools.demo import seed_demo_contracts
        from .selectors import market_access_section, market_facts
        from .services.merge import market_records_merge

        register_provider("markets", market_facts)
        from farmers.reporting.indicators import register_metric

        from .indicators import METRIC, producer_organisation_cells

        register_metric(METRIC, producer_organisation_cells)
        from farmers.reporting.annual import register_section

        from .annual import ORGANISATIONS, SALES

        register_section(ORGANISATIONS)
        register_section(SALES)
        from . import summaries

        summaries.register()
        from farmers.reporting.dashboard import register_dashboard_section

        from .dashboard import sales_panel

        register_dashboard_section("sales", sales_panel, order=60)
        register_merge_handler("markets", market_records_merge)
        register_access_section("markets", market_access_section)
        register_seeder(seed_demo_contracts)
        from . import webhooks

        webhooks.register()
        from . import exports

        exports.register()
        self._register_alert_details()

        from django.urls import path

        from farmers.pages.registry import (
            register_field_urls,
            register_household_action,
            register_household_panel,
        )

        from .pages import contract_panel, membership_join

        register_household_panel("markets", contract_panel, order=60)
        register_household_action(
            "membership-join", _("Join a producer organisation"), "field:membership_join"
        )
        register_field_urls(
            [
                path(
                    "hogares/<uuid:household_id>/organizacion/",
                    membership_join,
                    name="membership_join",
                )
            ]
        )

        from farmers.admin.story import register_admin_section

        from .admin.story import contract_admin_section

        register_admin_section("markets", contract_admin_section, order=60)

    @staticmethod
    def _register_alert_details() -> None:
        """What the alert page calls the details of the compliance alerts (side-selling,
        overdue deliveries)."""
        from django.utils.translation import gettext_lazy as _

        from registry.admin.alerts import register_alert_details

        register_alert_details(
            {
                "delivered_kg": (_("delivered (kg)"), None),
                "expected_kg": (_("expected by now (kg)"), None),
                "licit_ha": (_("licit hectares"), None),
                "norm_kg_per_ha": (_("yield norm (kg/ha a season)"), None),
                "season_expected_kg": (_("expected in the season (kg)"), None),
                "harvest_months": (_("harvest months"), None),
                "from_installations": (_("from the crop installations"), None),
                "season_elapsed": (_("share of the season elapsed"), None),
                "scheduled_kg_to_date": (_("scheduled to date (kg)"), None),
                "delivered_kg_to_date": (_("delivered to date (kg)"), None),
            }
        )
