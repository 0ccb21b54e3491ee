"""Run the web app and a background task worker together until Ctrl-C (used by `make demo`)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Serve the web app on 127.0.0.1:PORT with a task worker beside it; Ctrl-C stops both."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args: object, **options: object) -> None:
        port = options["port"]
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise CommandError("--port must be between 1 and 65535", returncode=2)
        manage = [sys.executable, "manage.py"]
        worker = subprocess.Popen([*manage, "db_worker", "--queue-name", "*", "--no-reload"])  # noqa: S603
        web = subprocess.Popen([*manage, "runserver", "--noreload", f"{options['host']}:{port}"])  # noqa: S603
        self.stdout.write(f"Grassroots on http://{options['host']}:{port}/ (worker pid {worker.pid}); Ctrl-C to stop")
        try:
            while web.poll() is None and worker.poll() is None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    web.wait(timeout=1)
        except KeyboardInterrupt:
            pass
        finally:
            for proc in (web, worker):
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
            for proc in (web, worker):
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if web.returncode not in (0, None, -signal.SIGINT) and web.returncode != 1:
            raise CommandError(f"web server exited with {web.returncode}")
