"""URLs of the service guide, admission lists and service centres; included by ``engage.urls``."""

from django.urls import path

from grassroots.engage import guide_views

urlpatterns = [
    path("h5/guide/", guide_views.h5_guides, name="h5_guides"),
    path("h5/guide/<int:guide_id>/", guide_views.h5_guide, name="h5_guide"),
    path("h5/admission/", guide_views.h5_admission, name="h5_admission"),
    path("guide/", guide_views.guides, name="guides"),
    path("guide/<int:guide_id>/", guide_views.guide, name="guide"),
    path("guide/import/", guide_views.guide_import, name="guide_import"),
    path("guide/import/confirm/", guide_views.guide_import_confirm, name="guide_import_confirm"),
    path("admission/", guide_views.admission, name="admission"),
    path("admission/ask/", guide_views.admission_ask, name="admission_ask"),
    path("admission/<int:item_id>/", guide_views.admission_item, name="admission_item"),
    path("centres/", guide_views.centres, name="centres"),
    path("centres/<int:centre_id>/", guide_views.centre, name="centre"),
]
