from django.urls import path

from grassroots.engage import resident_views, staff_views, views_common

app_name = "engage"

urlpatterns = [
    path("h5/topics/", resident_views.h5_topics, name="h5_topics"),
    path("h5/topics/new/", resident_views.h5_propose, name="h5_propose"),
    path("h5/topics/<int:topic_id>/", resident_views.h5_topic, name="h5_topic"),
    path("h5/notices/", resident_views.h5_notices, name="h5_notices"),
    path("h5/notices/<int:notice_id>/", resident_views.h5_notice, name="h5_notice"),
    path("photos/<int:photo_id>/", views_common.photo, name="photo"),
    path("topics/", staff_views.topics, name="topics"),
    path("topics/new/", staff_views.topic_new, name="topic_new"),
    path("topics/<int:topic_id>/", staff_views.topic, name="topic"),
    path("settings/", staff_views.settings_page, name="settings"),
    path("meetings/", staff_views.meetings, name="meetings"),
    path("meetings/<int:meeting_id>/", staff_views.meeting, name="meeting"),
    path("notices/", staff_views.notices, name="notices"),
    path("notices/<int:notice_id>/", staff_views.notice, name="notice"),
]

# The service guide, admission lists and service centres (their own module, in the same namespace).
from grassroots.engage import urls_guide  # noqa: E402

urlpatterns += urls_guide.urlpatterns
