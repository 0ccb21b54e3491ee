from django.urls import path

from grassroots.registry.addresses import views

app_name = "addresses"
urlpatterns = [
    path("", views.choice_list, name="list"),
    path("<int:choice_id>/", views.choice_detail, name="detail"),
    path("<int:choice_id>/choose/", views.choose, name="choose"),
    path("<int:choice_id>/outside/", views.outside, name="outside"),
    path("<int:choice_id>/search/", views.search, name="search"),
]
