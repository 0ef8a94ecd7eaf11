from django.apps import AppConfig


class ImpactConfig(AppConfig):
    name = "issues.impact"
    label = "impact"
    verbose_name = "Impact of fixes"
