"""Load benchmark: a mixed city workload against the production profile, loopback only.

    nice -n 10 .venv/bin/python benchmarks/load.py [--users 20] [--duration 60] [--host URL]
        [--web-workers 3] [--task-workers 1] [--households 2000] [--warmup 10] [--json FILE]

Without ``--host`` it builds its own server in the production profile: a scratch PostgreSQL
database ``grassroots_bench_load_<pid>`` (on ``BENCH_PG_URL``, default
postgres://postgres@127.0.0.1:5432; dropped afterwards) seeded with ``demo_city`` (``--households``,
seed 2026), ``demo_accounts``, ``seed_categories`` and ``demo_cases``; gunicorn with
config/gunicorn.conf.py and ``--web-workers`` sync workers on a free port in 8280-8289;
``--task-workers`` ``db_worker`` processes; the Redis cache (db 7, a prefix of its own) when Redis
answers on 127.0.0.1:6379, else the per-process cache. DEBUG is off and database connections
persist (GRASSROOTS_CONN_MAX_AGE=60), as in production; the per-address rate limits are turned off
because every virtual user comes from 127.0.0.1 (one address would be refused within seconds).
Plain HTTP (no nginx, no TLS): this measures the application, not the proxy.

With ``--host`` it uses a server that is already running (seeded with the demo commands, the demo
logins ``demo_<role>`` / ``grassroots-demo-2026`` and their rate limits off). The host must be a
loopback address: anything else is refused before a single request is sent.

The workload (locust, headless, one process; weights are virtual users per kind):

- residents (4): report a problem through the API with one photo (upload, then submit), look at
  their reports (H5 page and API list), open the report form;
- community workers (2): the triage queue, the case list, case pages, and dispatch (``whistle``)
  of a submitted case to the departments of its duty list;
- grid workers (1): the patrol and verification lists, case pages;
- department officers (2): the inbox, then the next step of a case of theirs (acknowledge,
  start, resolve with a result);
- leaders (1): the dashboard, the assessment ranking, the data-quality page.

Each virtual user logs in once (on start) and then waits 0.5-2 s between tasks. Statistics are
reset after ``--warmup`` seconds and once every user has logged in (logins and cold caches are
not "sustained"; the logins' own figures are printed apart), then measured for ``--duration``
seconds. A 409 on a transition (another virtual user moved the case first) is the
designed answer, counted as a conflict, not an error. Printed: sustained requests per second,
p50/p99 per endpoint and overall, the error count, the worst endpoint (highest p99), and the
machine's load average before and after (the load generator runs on the same machine).
"""

# ruff: noqa: I001 (locust patches the standard library with gevent when imported: it must come first)
from __future__ import annotations

from locust import HttpUser, between, task
from locust.env import Environment

import argparse
import gevent
import io
import ipaddress
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PORTS = range(8280, 8290)
REDIS = ("127.0.0.1", 6379, 7)
DEMO_PASSWORD = "grassroots-demo-2026"  # noqa: S105 (published demo login) grassroots.demo.management.commands.demo_accounts
TRANSITIONS = ("acknowledge", "start", "resolve")  # a department's steps, in order

# What the virtual users need to know about the city: printed as JSON by a child process.
DESCRIBE = """
import json, random
import django
django.setup()
from grassroots.accounts.models import User
from grassroots.cases.models import Category
from grassroots.cases.selectors import duty_for
from grassroots.places.models import Building
resident = User.objects.get(username="demo_resident")
community = resident.area
buildings = list(Building.objects.filter(path__startswith=community.path + ".").select_related("grid")[:400])
# Categories with a department on the duty list where the buildings are: dispatch can succeed.
grid = buildings[0].grid
leaves = [c for c in Category.objects.filter(is_active=True, children__isnull=True)]
dispatchable = [c.pk for c in leaves if duty_for(category=c, area=grid).departments]
print(json.dumps({
    "points": [[b.lon, b.lat] for b in buildings],
    "categories": dispatchable or [c.pk for c in leaves],
}))
"""


# --- safety: loopback only ------------------------------------------------------------------------


def loopback_only(url: str) -> str:
    """The URL without a trailing slash, or SystemExit when its host is not a loopback address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SystemExit(f"--host must be an http(s) URL, not {url!r}")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(parts.hostname, parts.port or 80)}
    except socket.gaierror as error:
        raise SystemExit(f"--host {parts.hostname!r} does not resolve: {error}") from None
    outside = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if outside:
        raise SystemExit(f"refusing to load {parts.hostname!r}: it resolves to {', '.join(outside)}, not loopback")
    return url.rstrip("/")


# --- the server in the production profile -----------------------------------------------------------


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS[:2], timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port in {PORTS}")


def _pg(database: str) -> str:
    return urlunsplit(urlsplit(PG_ADMIN_URL)._replace(path=f"/{database}"))


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(_pg("postgres"), autocommit=True) as conn:
        conn.execute(sql)


def _step(args: list[str], env: dict[str, str]) -> str:
    started = time.monotonic()
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    label = " ".join(a for a in args[1:4] if not a.startswith("-") and "\n" not in a)
    if result.returncode != 0:
        raise SystemExit(f"{label} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")
    print(f"  {label}: {time.monotonic() - started:.0f} s", flush=True)
    return result.stdout


class Server:
    """A scratch database, gunicorn and task workers; ``stop()`` removes everything."""

    def __init__(self, households: int, web_workers: int, task_workers: int) -> None:
        self.database = f"grassroots_bench_load_{os.getpid()}"
        self.prefix = f"load{secrets.token_hex(3)}"
        self.var = tempfile.mkdtemp(prefix="grassroots-load-")
        self.processes: list[subprocess.Popen[bytes]] = []
        self.redis = _redis_up()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRASSROOTS_") and k != "DATABASE_URL"}
        env.update(
            DATABASE_URL=_pg(self.database),
            DJANGO_SETTINGS_MODULE="config.settings",
            PYTHONPATH=str(ROOT),
            GRASSROOTS_VAR_DIR=self.var,
            GRASSROOTS_ENV="development",  # plain HTTP on loopback (production insists on HTTPS)
            GRASSROOTS_DEBUG="0",
            GRASSROOTS_2FA_REQUIRED="0",
            GRASSROOTS_CONN_MAX_AGE="60",
            GRASSROOTS_LOG_LEVEL="WARNING",
            GRASSROOTS_RATE_LIMIT_REPORT="off",
            GRASSROOTS_RATE_LIMIT_LOGIN="off",
            GRASSROOTS_RATE_LIMIT_OPEN311="off",
            GRASSROOTS_RATE_LIMIT_SMS_SEND="off",
        )
        if self.redis:
            env.update(
                GRASSROOTS_CACHE_URL=f"redis://{REDIS[0]}:{REDIS[1]}/{REDIS[2]}",
                GRASSROOTS_CACHE_KEY_PREFIX=self.prefix,
            )
        self.env = env
        print(f"scratch database {self.database}, cache {'Redis db 7' if self.redis else 'per process'}", flush=True)
        _admin(f'CREATE DATABASE "{self.database}"')
        try:
            manage = [PYTHON, "manage.py"]
            _step([*manage, "migrate", "--noinput", "-v0"], env)
            _step([*manage, "init_keys"], env)
            _step([*manage, "demo_city", "--households", str(households), "--seed", "2026", "--replace"], env)
            _step([*manage, "demo_accounts"], env)
            _step([*manage, "seed_categories"], env)
            _step([*manage, "demo_cases"], env)
            self.port = _free_port()
            self.url = f"http://127.0.0.1:{self.port}"
            gunicorn = str(Path(PYTHON).parent / "gunicorn")
            web = [gunicorn, "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}"]
            self.log = Path(self.var) / "server.log"
            out = self.log.open("wb")
            self.processes.append(
                subprocess.Popen([*web, "--workers", str(web_workers)], cwd=ROOT, env=env, stdout=out, stderr=out)
            )
            for i in range(task_workers):
                worker = [*manage, "db_worker", "--no-reload", "--worker-id", f"load-{i + 1}"]
                self.processes.append(subprocess.Popen(worker, cwd=ROOT, env=env, stdout=out, stderr=out))
            self._wait()
        except BaseException:
            self.stop()
            raise

    def _wait(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.processes[0].poll() is not None:
                raise SystemExit(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as answer:  # noqa: S310
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("gunicorn did not become healthy in 120 s")

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if self.redis:
            import redis

            client = redis.Redis(host=REDIS[0], port=REDIS[1], db=REDIS[2])
            keys = list(client.scan_iter(match=f"{self.prefix}:*"))
            if keys:
                client.delete(*keys)
        _admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        shutil.rmtree(self.var, ignore_errors=True)  # keys, uploads and the server log of this run


def cpu_seconds(server: Server) -> dict[str, float]:
    """CPU time (user + system) used so far by the server's processes: web, task workers, PostgreSQL.

    Wall-clock latencies on a shared machine measure the queue for its cores; CPU time per request
    does not, and divides into the capacity of a dedicated core. PostgreSQL backends are found by
    the database name in their process title (``postgres: USER DATABASE HOST``).
    """
    import psutil

    def total(processes: list[psutil.Process]) -> float:
        seconds = 0.0
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.Error:
                continue
            seconds += times.user + times.system
        return seconds

    def tree(pid: int) -> list[psutil.Process]:
        try:
            root = psutil.Process(pid)
            return [root, *root.children(recursive=True)]
        except psutil.Error:
            return []

    backends = []
    for process in psutil.process_iter(["name", "cmdline"]):
        title = " ".join(process.info.get("cmdline") or [])
        if title.startswith("postgres:") and f" {server.database} " in f"{title} ":
            backends.append(process)
    return {
        "web": total(tree(server.processes[0].pid)),
        "tasks": total([p for w in server.processes[1:] for p in tree(w.pid)]),
        "postgres": total(backends),
    }


def describe(env: dict[str, str]) -> dict[str, Any]:
    return json.loads(_step([PYTHON, "-c", DESCRIBE, "describe"], env).strip().splitlines()[-1])


# --- the virtual users --------------------------------------------------------------------------------

CITY: dict[str, Any] = {"points": [], "categories": []}
PHOTOS: list[bytes] = []
CONFLICTS = {"count": 0}
LOGGED_IN = {"count": 0}


def make_photos(n: int = 12) -> list[bytes]:
    """Phone-sized JPEGs (640×480 of noise over a gradient, about 100 KB): the server re-encodes each."""
    from PIL import Image

    photos = []
    rng = random.Random(2026)
    for _ in range(n):
        image = Image.effect_noise((640, 480), 40).convert("RGB")
        tint = Image.new("RGB", (640, 480), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
        buffer = io.BytesIO()
        Image.blend(image, tint, 0.5).save(buffer, "JPEG", quality=80)
        photos.append(buffer.getvalue())
    return photos


class Citizen(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)
    username = ""

    def on_start(self) -> None:
        self.client.get("/accounts/login/", name="login page")
        token = self.client.cookies.get("csrftoken", "")
        form = {"username": self.username, "password": DEMO_PASSWORD, "csrfmiddlewaretoken": token}
        with self.client.post(
            "/accounts/login/", data=form, name="login", allow_redirects=False, catch_response=True
        ) as r:
            if r.status_code != 302:
                r.failure(f"login of {self.username} answered {r.status_code}")
        self.client.headers["X-CSRFToken"] = self.client.cookies.get("csrftoken") or ""
        LOGGED_IN["count"] += 1

    def case_ids(self, query: str, name: str) -> list[dict[str, Any]]:
        with self.client.get(f"/api/v1/cases/?{query}", name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
                return []
            return list(r.json().get("items", []))

    def act(self, case_id: int, wanted: tuple[str, ...], **extra: Any) -> None:
        with self.client.get(f"/api/v1/cases/{case_id}", name="api case detail", catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")
                return
            detail = r.json()
        allowed = {a["action"] for a in detail.get("allowed_actions", [])}
        action = next((a for a in wanted if a in allowed), None)
        if action is None:
            return
        body = {"action": action, "expected_version": detail["version"], **extra}
        with self.client.post(
            f"/api/v1/cases/{case_id}/actions", json=body, name=f"api act {action}", catch_response=True
        ) as r:
            if r.status_code == 409:
                CONFLICTS["count"] += 1
                r.success()  # someone was faster: the designed answer
            elif r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")

    def page(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, catch_response=True) as r:
            if r.status_code != 200:
                r.failure(f"{r.status_code}")


class Resident(Citizen):
    weight = 4
    username = "demo_resident"

    @task(3)
    def report(self) -> None:
        files = {"file": ("photo.jpg", random.choice(PHOTOS), "image/jpeg")}
        with self.client.post("/api/v1/cases/photos", files=files, name="api photo upload", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")
                return
            photo = r.json()["id"]
        lon, lat = random.choice(CITY["points"])
        body = {
            "category_id": random.choice(CITY["categories"]),
            "description": random.choice(["路灯不亮", "垃圾堆放", "井盖缺失", "违章停车", "楼道杂物堵塞"]),
            "lon": lon,
            "lat": lat,
            "photos": [photo],
        }
        with self.client.post("/api/v1/cases/", json=body, name="api report", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"{r.status_code}: {r.text[:200]}")

    @task(2)
    def mine(self) -> None:
        self.page("/cases/h5/mine/", "h5 mine")
        self.case_ids("limit=20", "api case list")

    @task(1)
    def form(self) -> None:
        self.page("/cases/h5/report/", "h5 report form")


class CommunityWorker(Citizen):
    weight = 2
    username = "demo_community_worker"

    @task(2)
    def queue(self) -> None:
        self.page("/cases/queue/", "queue")

    @task(1)
    def everything(self) -> None:
        self.page("/cases/all/", "case list")

    @task(3)
    def case_page(self) -> None:
        items = self.case_ids("limit=50", "api case list")
        if items:
            self.page(f"/cases/{random.choice(items)['id']}/", "case page")

    @task(2)
    def dispatch(self) -> None:
        items = self.case_ids("state=submitted&limit=20", "api case list")
        if items:
            self.act(random.choice(items)["id"], ("whistle",))


class GridWorker(Citizen):
    weight = 1
    username = "demo_grid_worker"

    @task(2)
    def patrol(self) -> None:
        self.page("/cases/patrol/", "patrol")

    @task(1)
    def verify(self) -> None:
        self.page("/cases/verify/", "verify list")

    @task(2)
    def case_page(self) -> None:
        items = self.case_ids("limit=50", "api case list")
        if items:
            self.page(f"/cases/{random.choice(items)['id']}/", "case page")


class Department(Citizen):
    weight = 2
    username = "demo_department_officer"

    @task(2)
    def inbox(self) -> None:
        self.page("/cases/inbox/", "inbox")

    @task(3)
    def answer(self) -> None:
        items = self.case_ids("inbox=true&limit=50", "api inbox")
        if items:
            self.act(random.choice(items)["id"], TRANSITIONS, result="已到现场处理完毕")


class Leader(Citizen):
    weight = 1
    username = "demo_district_leader"

    @task(3)
    def dashboard(self) -> None:
        self.page("/insights/dashboard/", "dashboard")

    @task(1)
    def assessment(self) -> None:
        self.page("/insights/assessment/", "assessment")

    @task(1)
    def quality(self) -> None:
        self.page("/registry/quality/", "data quality")


# --- run and report -------------------------------------------------------------------------------------


def run(host: str, users: int, duration: float, warmup: float, server: Server | None = None) -> dict[str, Any]:
    env = Environment(user_classes=[Resident, CommunityWorker, GridWorker, Department, Leader], host=host)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1.0, users / 5))
    gevent.sleep(warmup)
    # Logins (Argon2 on purpose) belong to the warm-up: wait until every user is in, up to 3 minutes.
    deadline = time.monotonic() + 180
    while LOGGED_IN["count"] < users and time.monotonic() < deadline:
        gevent.sleep(0.5)
    login = env.stats.get("login", "POST")
    logins = {
        "requests": login.num_requests,
        "p50_ms": login.get_response_time_percentile(0.5),
        "max_ms": login.max_response_time,
    }
    env.stats.reset_all()
    CONFLICTS["count"] = 0
    load_before = os.getloadavg()
    cpu_before = cpu_seconds(server) if server else {}
    started = time.monotonic()
    gevent.sleep(duration)
    elapsed = time.monotonic() - started
    load_after = os.getloadavg()
    cpu_used = {k: v - cpu_before[k] for k, v in cpu_seconds(server).items()} if server else {}
    rows: list[dict[str, Any]] = []
    for (name, method), entry in sorted(env.stats.entries.items()):
        if entry.num_requests == 0:
            continue
        rows.append(
            {
                "endpoint": f"{method} {name}",
                "requests": entry.num_requests,
                "errors": entry.num_failures,
                "rps": entry.num_requests / elapsed,
                "p50_ms": entry.get_response_time_percentile(0.5),
                "p99_ms": entry.get_response_time_percentile(0.99),
                "max_ms": entry.max_response_time,
            }
        )
    total = env.stats.total
    errors = {f"{e.method} {e.name}: {e.error}"[:200]: e.occurrences for e in env.stats.errors.values()}
    runner.quit()
    measured = [r for r in rows if r["requests"] >= 5] or rows
    worst = max(measured, key=lambda r: (r["p99_ms"], r["p50_ms"])) if measured else None
    return {
        "users": users,
        "seconds": round(elapsed, 1),
        "requests": total.num_requests,
        "rps": total.num_requests / elapsed,
        "errors": total.num_failures,
        "conflicts": CONFLICTS["count"],
        "p50_ms": total.get_response_time_percentile(0.5),
        "p99_ms": total.get_response_time_percentile(0.99),
        "endpoints": rows,
        "worst": worst["endpoint"] if worst else None,
        "logins_during_warmup": logins,
        "server_cpu_seconds": cpu_used,
        "error_samples": errors,
        "load_before": load_before,
        "load_after": load_after,
        "cores": os.cpu_count(),
    }


def print_report(result: dict[str, Any]) -> None:
    print(f"\n{result['users']} users, {result['seconds']} s measured (after warm-up), {result['cores']} cores")
    print(f"{'endpoint':<34}{'requests':>9}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'errors':>7}")
    for r in result["endpoints"]:
        print(
            f"{r['endpoint']:<34}{r['requests']:>9}{r['rps']:>8.2f}{r['p50_ms']:>8.0f}{r['p99_ms']:>8.0f}"
            f"{r['max_ms']:>8.0f}{r['errors']:>7}"
        )
    print(
        f"{'overall':<34}{result['requests']:>9}{result['rps']:>8.2f}{result['p50_ms']:>8.0f}"
        f"{result['p99_ms']:>8.0f}{'':>8}{result['errors']:>7}"
    )
    print(
        f"\nsustained: {result['rps']:.1f} requests/s; errors: {result['errors']}; "
        f"conflicts (409, designed): {result['conflicts']}"
    )
    print(f"worst endpoint (p99): {result['worst']}")
    login = result["logins_during_warmup"]
    print(
        f"logins during the warm-up (not measured above): {login['requests']}, "
        f"p50 {login['p50_ms']:.0f} ms, max {login['max_ms']:.0f} ms"
    )
    cpu, requests = result["server_cpu_seconds"], result["requests"]
    if cpu and requests:
        per = {k: 1000 * v / requests for k, v in cpu.items()}
        whole = sum(per.values())
        print(
            f"server CPU per request: web {per['web']:.0f} ms, task workers {per['tasks']:.0f} ms, "
            f"PostgreSQL {per['postgres']:.0f} ms; total {whole:.0f} ms, i.e. about "
            f"{1000 / whole:.0f} requests/s of this mix per dedicated core"
        )
    print(
        "load average (1/5/15 min) at start {:.2f} {:.2f} {:.2f}, at end {:.2f} {:.2f} {:.2f}".format(
            *result["load_before"], *result["load_after"]
        )
    )
    for text, n in list(result["error_samples"].items())[:10]:
        print(f"  error ×{n}: {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20, help="concurrent virtual users (default 20)")
    parser.add_argument("--duration", type=float, default=60, help="measured seconds (default 60)")
    parser.add_argument("--warmup", type=float, default=10, help="seconds before measuring (default 10)")
    parser.add_argument("--host", help="a running server on loopback, e.g. http://127.0.0.1:8000")
    parser.add_argument("--web-workers", type=int, default=3, help="gunicorn workers of the server started here")
    parser.add_argument("--task-workers", type=int, default=1, help="db_worker processes of the server started here")
    parser.add_argument("--households", type=int, default=2000, help="size of the seeded demo city (default 2000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if args.users < 1 or args.duration <= 0:
        parser.error("--users and --duration must be positive")
    host = loopback_only(args.host) if args.host else None
    PHOTOS[:] = make_photos()
    server = None
    try:
        if host is None:
            server = Server(args.households, args.web_workers, args.task_workers)
            host = server.url
            CITY.update(describe(server.env))
        else:
            env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
            CITY.update(describe(env))  # the running server's DATABASE_URL must be this environment's
        print(
            f"loading {host}: {args.users} users, {args.warmup:.0f} s warm-up, {args.duration:.0f} s measured",
            flush=True,
        )
        result = run(host, args.users, args.duration, args.warmup, server)
    finally:
        if server is not None:
            server.stop()
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
