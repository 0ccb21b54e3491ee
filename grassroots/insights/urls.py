from grassroots.insights import urls_dashboards, urls_hotspots, urls_planning, urls_reports

app_name = "insights"

urlpatterns = [
    *urls_dashboards.urlpatterns,
    *urls_hotspots.urlpatterns,
    *urls_reports.urlpatterns,
    *urls_planning.urlpatterns,
]
