from django.urls import path

from grassroots.accounts import views, views_two_factor

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views_two_factor.login_code, name="login_code"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("2fa/", views_two_factor.two_factor, name="two_factor"),
]
