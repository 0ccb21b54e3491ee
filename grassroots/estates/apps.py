from django.apps import AppConfig


class EstatesConfig(AppConfig):
    name = "grassroots.estates"
    label = "estates"
    verbose_name = "物业与业委会"
