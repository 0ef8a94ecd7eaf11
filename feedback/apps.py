from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback"

    def ready(self) -> None:
        from .api import schema  # noqa: F401  (registers the OpenAPI field extensions)
