from django.urls import path

from grassroots.registry.review import views

app_name = "review"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("decided/", views.decided, name="decided"),
    path("pair/<int:pair_id>/", views.pair, name="pair"),
    path("held/", views.held, name="held"),
    path("held/relink/", views.relink, name="relink"),
    path("record/<int:record_id>/split/", views.split, name="split"),
]
