from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketsConfig(AppConfig):
    """Market access."""

    name = "markets"
    verbose_name = _("Market access")
