from django.urls import path

from grassroots.notify import views

app_name = "notify"

urlpatterns = [path("", views.messages_page, name="messages")]
