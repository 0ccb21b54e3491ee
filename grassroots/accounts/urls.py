from django.urls import path

from grassroots.accounts import views, views_sms, views_two_factor

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views_two_factor.login_code, name="login_code"),
    path("login/sms/", views_sms.login_sms, name="login_sms"),
    path("login/sms/send/", views_sms.login_sms_send, name="login_sms_send"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("2fa/", views_two_factor.two_factor, name="two_factor"),
    path("password/", views.password_change, name="password_change"),
]
