from django.urls import URLPattern, path

from grassroots.insights import views_reports

urlpatterns: list[URLPattern] = [
    path("reports/monthly/", views_reports.monthly_report, name="monthly_report"),
]
