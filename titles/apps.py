from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TitlesConfig(AppConfig):
    """Land titles: title files, their workflow and SLA clocks, objections and documents."""

    name = "titles"
    verbose_name = _("Land titles")

    def ready(self) -> None:
        from farmers.transition.evidence import register_provider
        from registry.demo import register_seeder

        from .demo import seed_demo_titles
        from .selectors import title_facts

        register_provider("titles", title_facts)
        register_seeder(seed_demo_titles)
