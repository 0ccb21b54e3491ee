from django.urls import path

from grassroots.volunteers import activity_views, need_views, urls_mobilisation, views

app_name = "volunteers"

urlpatterns = [
    # building roles (楼栋长 / 单元长 / 中心户)
    path("roles/", views.roles, name="roles"),
    path("roles/grid/<int:grid_id>/", views.grid_roles, name="grid_roles"),
    path("roles/building/<int:building_id>/", views.building_roles, name="building_roles"),
    path("roles/<int:role_id>/end/", views.role_end, name="role_end"),
    # volunteers and talents
    path("people/", views.volunteer_list, name="volunteers"),
    path("people/register/", views.volunteer_register, name="register"),
    path("people/<int:volunteer_id>/", views.volunteer_detail, name="volunteer"),
    # teams
    path("teams/", views.team_list, name="teams"),
    path("teams/<int:team_id>/", views.team_detail, name="team"),
    path("teams/<int:team_id>/members/<int:person_id>/remove/", views.team_member_remove, name="team_member_remove"),
    path("teams/<int:team_id>/dissolve/", views.team_dissolve, name="team_dissolve"),
    # activities
    path("activities/", activity_views.activity_list, name="activities"),
    path("activities/new/", activity_views.activity_new, name="activity_new"),
    path("activities/<int:activity_id>/", activity_views.activity_detail, name="activity"),
    path("activities/<int:activity_id>/signup/", activity_views.signup_add, name="signup_add"),
    path("activities/<int:activity_id>/cancel/", activity_views.activity_cancel, name="activity_cancel"),
    path("signups/<int:signup_id>/withdraw/", activity_views.signup_withdraw, name="signup_withdraw"),
    path("signups/<int:signup_id>/attendance/", activity_views.attendance, name="attendance"),
    path("hours/", activity_views.hours, name="hours"),
    # needs ↔ resources, matches, projects
    path("needs/", need_views.needs, name="needs"),
    path("needs/new/", need_views.need_new, name="need_new"),
    path("needs/<int:need_id>/close/", need_views.need_close, name="need_close"),
    path("resources/new/", need_views.resource_new, name="resource_new"),
    path("matches/propose/", need_views.propose, name="propose"),
    path("matches/<int:match_id>/accept/", need_views.match_accept, name="match_accept"),
    path("matches/<int:match_id>/decline/", need_views.match_decline, name="match_decline"),
    path("projects/", need_views.project_list, name="projects"),
    path("projects/<int:project_id>/", need_views.project_detail, name="project"),
    *urls_mobilisation.urlpatterns,
]
