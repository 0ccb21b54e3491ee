from django.urls import include, path

from config.api import api
from grassroots.accounts.views import home
from grassroots.core.views import healthz

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accounts/", include("grassroots.accounts.urls")),
    path("places/", include("grassroots.places.urls")),
    path("registry/imports/", include("grassroots.registry.imports.urls")),
    path("registry/review/", include("grassroots.registry.review.urls")),
    path("registry/addresses/", include("grassroots.registry.addresses.urls")),
    path("registry/quality/", include("grassroots.registry.quality.urls")),
    path("registry/", include("grassroots.registry.urls")),
    path("cases/", include("grassroots.cases.urls")),
    path("messages/", include("grassroots.notify.urls")),
    path("volunteers/", include("grassroots.volunteers.urls")),
    path("party/", include("grassroots.party.urls")),
    path("estates/", include("grassroots.estates.urls")),
    path("engage/", include("grassroots.engage.urls")),
    path("insights/", include("grassroots.insights.urls")),
    path("api/v1/", api.urls),
    path("open311/v2/", include("grassroots.cases.urls_open311")),
]
