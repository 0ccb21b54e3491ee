from django.apps import AppConfig


class VolunteersConfig(AppConfig):
    name = "grassroots.volunteers"
    label = "volunteers"
    verbose_name = "志愿力量与动员"
