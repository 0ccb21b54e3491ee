from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: the database answers and the task backend is usable."""
    status = {"database": "ok", "tasks": "ok"}
    detail: dict[str, object] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        detail["database_vendor"] = connection.vendor
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        status["database"] = "error"
        detail["database_error"] = type(exc).__name__
    try:
        from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, TaskResultStatus, task_backends

        # The backend itself: ``default_task_backend`` is a proxy whose type name is
        # "ConnectionProxy", so checking it never reached the database queue.
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        detail["task_backend"] = type(backend).__name__
        from django_tasks_db import DatabaseBackend

        if isinstance(backend, DatabaseBackend):
            from django_tasks_db.models import DBTaskResult

            detail["tasks_ready"] = DBTaskResult.objects.filter(status=TaskResultStatus.READY).count()
    except Exception as exc:  # noqa: BLE001
        status["tasks"] = "error"
        detail["tasks_error"] = type(exc).__name__
    healthy = all(v == "ok" for v in status.values())
    return JsonResponse({"status": "ok" if healthy else "error", **status, **detail}, status=200 if healthy else 503)
