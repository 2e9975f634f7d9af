from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FarmersConfig(AppConfig):
    """Households and the transition engine."""

    name = "farmers"
    verbose_name = _("Farmers")
