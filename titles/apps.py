from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TitlesConfig(AppConfig):
    """Land titles: title files, their workflow and SLA clocks, objections and documents."""

    name = "titles"
    verbose_name = _("Land titles")

    def ready(self) -> None:
        from farmers.merging import register_merge_handler
        from farmers.rights_sections import register_access_section
        from farmers.transition.evidence import register_provider
        from registry.devtools import register_seeder

        from .devtools.demo import seed_demo_titles
        from .selectors import title_access_section, title_facts
        from .services.merge import title_files_merge

        register_provider("titles", title_facts)
        register_merge_handler("titles", title_files_merge)
        register_access_section("titles", title_access_section)
        register_seeder(seed_demo_titles)
        from farmers.reporting.annual import register_section

        from .annual import SECTION

        register_section(SECTION)
        from . import summaries

        summaries.register()
        from farmers.reporting.dashboard import register_dashboard_section

        from .dashboard import titles_panel

        register_dashboard_section("titles", titles_panel, order=50)
        from . import webhooks

        webhooks.register()
        from . import exports

        exports.register()
        self._register_field_pages()
        from farmers.admin.story import register_admin_section

        from .admin_story import title_admin_section

        register_admin_section("titles", title_admin_section, order=50)
        from django.utils.translation import gettext_lazy as _

        from registry.admin.alerts import register_alert_details
        from registry.display import choice_label

        from .choices import TitleStatus

        # What the alert page calls the details of the title files' SLA alerts.
        register_alert_details(
            {"status": (_("status"), lambda value: choice_label(value, TitleStatus))}
        )

    @staticmethod
    def _register_field_pages() -> None:
        """The household panel, the "apply for a title" button (where filing can succeed), its
        page and the title file's page under /campo/."""
        from django.urls import path

        from farmers.pages.registry import (
            register_field_urls,
            register_household_action,
            register_household_panel,
        )

        from .pages import title_apply, title_apply_available, title_file, title_panel

        register_household_panel("titles", title_panel, order=50)
        register_household_action(
            "title-apply",
            _("Apply for a title"),
            "field:title_apply",
            available=title_apply_available,
        )
        register_field_urls(
            [
                path("hogares/<uuid:household_id>/titulo/", title_apply, name="title_apply"),
                path("expedientes/<uuid:application_id>/", title_file, name="title_file"),
            ]
        )
