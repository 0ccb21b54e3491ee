"""``manage.py train_routing``: train a new smart-dispatch model version from the closed cases."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from grassroots.cases.routing import MIN_SAMPLES
from grassroots.cases.services.routing import TooLittleHistoryError, routing_train
from grassroots.places.models import Area


class Command(BaseCommand):
    help = "训练智能分派模型（新版本）。 Train a new routing model from closed cases (and recorded dispatcher choices)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--area", default="", help="area path to learn from only (default: the whole platform)")
        parser.add_argument("--min-samples", type=int, default=MIN_SAMPLES, help="fewer cases: keep the keywords")

    def handle(self, *args: Any, **options: Any) -> None:
        area = None
        if options["area"]:
            area = Area.objects.filter(path=options["area"]).first()
            if area is None:
                raise CommandError(f"no area with path {options['area']!r}")
        try:
            row = routing_train(actor=None, area=area, min_samples=options["min_samples"])
        except TooLittleHistoryError as error:
            self.stdout.write(f"not trained: {error.message}")
            return
        model, keywords = row.accuracy["model"], row.accuracy["keywords"]
        self.stdout.write(
            f"routing model {row.path or 'all'} v{row.version}: {row.samples} cases "
            f"({row.choice_samples} from dispatcher choices), {row.train_seconds:.1f} s, {len(row.blob) // 1024} KiB\n"
            f"hold-out {row.test_samples} latest cases: category top-1 {model['category_top1']:.3f} "
            f"top-3 {model['category_top3']:.3f}, department top-1 {model['department_top1']:.3f} "
            f"top-3 {model['department_top3']:.3f}\n"
            f"keyword baseline: category top-1 {keywords['category_top1']:.3f} top-3 {keywords['category_top3']:.3f}, "
            f"department top-1 {keywords['department_top1']:.3f} top-3 {keywords['department_top3']:.3f}"
        )
