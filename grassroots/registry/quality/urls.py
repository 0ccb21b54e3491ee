from django.urls import path

from grassroots.registry.quality import views

app_name = "quality"
urlpatterns = [
    path("", views.quality, name="quality"),
]
