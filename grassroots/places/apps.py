from django.apps import AppConfig


class PlacesConfig(AppConfig):
    name = "grassroots.places"
    label = "places"
    verbose_name = "地点"
