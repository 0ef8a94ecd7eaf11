from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("工单")

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI field extensions)
