from django.apps import AppConfig


class EngageConfig(AppConfig):
    name = "grassroots.engage"
    label = "engage"
    verbose_name = "协商议事与公共服务"
