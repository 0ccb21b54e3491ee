"""How the pieces meet: scope resolution on requests, and the serve command's input checks."""

import pytest
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from grassroots.accounts.middleware import ScopeMiddleware
from grassroots.core.scope import Scope, request_scope


def test_request_without_scope_middleware_sees_nothing(tree):
    request = RequestFactory().get("/")
    request.user = tree.users["admin"]
    assert request_scope(request, "places.browse") == Scope.nothing()


@pytest.mark.parametrize(
    ("role", "capability", "expected"),
    [
        ("grid_worker", "places.browse", "3205.320583.001.001.01"),
        ("community_worker", "registry.view", "3205.320583.001.001"),
        ("resident", "places.browse", None),  # residents have no place browser
        ("department_officer", "registry.view", None),  # departments never see the registry
        ("admin", "registry.view", ""),
    ],
)
def test_scope_middleware_resolves_per_capability(tree, role, capability, expected):
    seen = {}

    def view(request):
        seen["scope"] = request_scope(request, capability)
        return None

    request = RequestFactory().get("/")
    request.user = tree.users[role]
    ScopeMiddleware(view)(request)
    assert seen["scope"].area_path == expected


def test_scope_is_read_when_asked_so_token_auth_counts(tree):
    """The API sets request.user after the middleware ran; the resolver must see that user."""
    seen = {}

    def view(request):
        request.user = tree.users["grid_worker"]
        seen["scope"] = request_scope(request, "places.browse")

    request = RequestFactory().get("/")
    ScopeMiddleware(view)(request)
    assert seen["scope"].area_path == tree.grid1.path


@pytest.mark.parametrize("port", ["0", "70000"])
def test_serve_refuses_bad_port_with_exit_code_2(port):
    with pytest.raises(CommandError) as excinfo:
        call_command("serve", "--port", port)
    assert excinfo.value.returncode == 2
