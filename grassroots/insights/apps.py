from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "grassroots.insights"
    label = "insights"
    verbose_name = "研判分析"
