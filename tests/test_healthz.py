"""/healthz: liveness and readiness for the load balancer and the operator."""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_healthz_reports_database_and_tasks(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["tasks"] == "ok"
    assert body["database_vendor"] == connection.vendor
    assert body["task_backend"] == "DatabaseBackend"
    assert body["tasks_ready"] == 0


@pytest.mark.django_db
def test_healthz_needs_no_login_and_only_answers_get(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_healthz_reports_a_broken_database_as_503(client, monkeypatch):
    from django.db.backends.utils import CursorWrapper

    def broken(self, sql, params=None):
        if sql == "SELECT 1":
            raise RuntimeError("database is down")
        return original(self, sql, params)

    original = CursorWrapper.execute
    monkeypatch.setattr(CursorWrapper, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert (body["status"], body["database"], body["database_error"]) == ("error", "error", "RuntimeError")


@pytest.mark.django_db
def test_healthz_reports_a_broken_task_backend_as_503(client, monkeypatch):
    from django_tasks_db.models import DBTaskResult

    def broken(*args, **kwargs):
        raise RuntimeError("no tasks table")

    monkeypatch.setattr(DBTaskResult.objects, "filter", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["tasks"] == "error"
