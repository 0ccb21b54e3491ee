"""gunicorn settings of the production profile: `gunicorn -c config/gunicorn.conf.py`.

Every value can be overridden from the environment (the systemd unit reads /etc/grassroots/env),
and command-line flags win over this file (the multi-process test and the load benchmark pass
--bind and --workers). See docs/operations.md, "Production profile".
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

wsgi_app = "config.wsgi:application"
bind = os.environ.get("GRASSROOTS_BIND", "127.0.0.1:8000")
# Sync workers: the pages are short database-bound requests; one request per process keeps a
# slow export from starving the others' threads. 2 × cores + 1 is gunicorn's own rule of thumb.
workers = int(os.environ.get("GRASSROOTS_WEB_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "sync"
# Past this a request is killed (its transaction rolls back); nginx's proxy_read_timeout is above it.
timeout = int(os.environ.get("GRASSROOTS_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then: bounds the growth of any per-process memory (lru caches, arenas).
max_requests = int(os.environ.get("GRASSROOTS_WEB_MAX_REQUESTS", "2000"))
max_requests_jitter = max_requests // 10
# Import Django once in the master: faster starts, shared read-only pages. Nothing opens a
# database connection at import; post_fork closes any anyway so no socket is shared by two workers.
preload_app = True
# Heartbeat files in memory, not on a disk that may stall under load.
worker_tmp_dir = "/dev/shm" if Path("/dev/shm").is_dir() else None  # noqa: S108
# Only the local nginx may set X-Forwarded-For / X-Forwarded-Proto.
forwarded_allow_ips = os.environ.get("GRASSROOTS_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
proxy_allow_ips = forwarded_allow_ips

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GRASSROOTS_LOG_LEVEL", "info").lower()
# No personal data in the access log: no client address, no query string (searches carry names,
# phone and ID numbers), no user agent or referrer; nginx keeps the addresses in its own log with
# the retention 等保 asks for. Time, method, path, status, bytes, milliseconds, worker pid.
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms %(p)s'
# Proxied client bodies are bounded by nginx (client_max_body_size); keep gunicorn's header limits.
limit_request_line = 8190


def post_fork(server: Any, worker: Any) -> None:
    from django.db import connections

    connections.close_all()
