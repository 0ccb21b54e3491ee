from django.urls import path

from grassroots.cases import photo_views, urls_hotline, urls_measures, urls_qr, urls_resident, urls_staff, views

app_name = "cases"

urlpatterns = [
    path("calendar/", views.calendar_index, name="calendar"),
    path("calendar/<int:year>/", views.calendar_year, name="calendar_year"),
    path("calendar/<int:year>/mark/", views.calendar_year_mark, name="calendar_year_mark"),
    path("calendar/<int:year>/clear/", views.calendar_day_clear, name="calendar_day_clear"),
    path("duty/", views.duty_index, name="duty"),
    path("duty/categories/new/", views.category_new, name="category_new"),
    path("duty/categories/<int:category_id>/", views.category_detail, name="category"),
    path("duty/categories/<int:category_id>/edit/", views.category_edit, name="category_edit"),
    path("duty/assignments/<int:assignment_id>/delete/", views.assignment_delete, name="assignment_delete"),
    path("duty/import/", views.duty_import, name="duty_import"),
    path("duty/import/confirm/", views.duty_import_confirm, name="duty_import_confirm"),
    path("photos/<int:photo_id>/", photo_views.photo, name="photo"),
    *urls_resident.urlpatterns,
    *urls_staff.urlpatterns,
    *urls_hotline.urlpatterns,
    *urls_measures.urlpatterns,
    *urls_qr.urlpatterns,
]
