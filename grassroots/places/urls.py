from django.urls import path

from grassroots.places import views

app_name = "places"
urlpatterns = [
    path("", views.browser, name="browser"),
    path("area/<int:area_id>/", views.area_detail, name="area"),
    path("building/<int:building_id>/", views.building_detail, name="building"),
    path("dwelling/<int:dwelling_id>/", views.dwelling_detail, name="dwelling"),
    path("map/", views.grid_map, name="map"),
]
