"""Benchmark smart dispatch: the learned router against the duty-list keywords on a generated history.

    .venv/bin/python benchmarks/routing.py [--cases 20000] [--days 730] [--subdistricts 4]
        [--label-noise 0.04] [--test-share 0.2] [--seed 2026] [--curve 100 200 500 1000 2000 5000] [--quick]

The history (``grassroots.cases.routing.synthetic``) covers the project's seeded categories
(``seed_categories``' ``DEFAULT_TREE``): residents' words with synonyms, boilerplate, a second
complaint in 15 % of the calls, typos, and ``--label-noise`` of the labels wrong (as dispatchers
err, so about 1 - noise is the ceiling); departments per subdistrict, and for some categories
by the text. Cases are ordered in time: the model learns from the earliest 1 - ``--test-share``
and is tested on the latest, as ``routing_train`` does. The keyword baseline is the fallback the
platform uses before it has history: each category's seeded duty-list words, its name and its
parent's name; departments from the duty list of the ranked categories.

Printed: top-1 / top-3 for categories and departments (model, keywords), training time, model
size, single-case prediction latency p50/p95 and batch throughput, then a learning curve (top-1
by training size) that shows from how many past cases the model is worth using (``MIN_SAMPLES``).
No database: the engine is pure; Django is set up only to read the seeded category tree.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def leaf_categories() -> tuple[list[tuple[str, str]], dict[str, str]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from grassroots.cases.services.seed import DEFAULT_TREE

    leaves = [(code, name) for _, _, _, _, children in DEFAULT_TREE for code, name, _ in children]
    parents = {code: parent for _, parent, _, _, children in DEFAULT_TREE for code, _, _ in children}
    return leaves, parents


def pct(x: float) -> str:
    return f"{x * 100:5.1f} %"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--subdistricts", type=int, default=4)
    parser.add_argument("--label-noise", type=float, default=0.04)
    parser.add_argument("--test-share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--curve", type=int, nargs="*", default=[100, 200, 500, 1000, 2000, 5000])
    parser.add_argument("--quick", action="store_true", help="5,000 cases, a short curve")
    args = parser.parse_args()
    if args.quick:
        args.cases, args.curve = 5_000, [200, 1000]

    import sklearn

    from grassroots.cases.routing import KeywordRouter, Router, default_keywords, evaluate, split_by_time
    from grassroots.cases.routing.synthetic import generate

    leaves, parents = leaf_categories()
    started = time.perf_counter()
    history = generate(
        leaves,
        cases=args.cases,
        days=args.days,
        subdistricts=args.subdistricts,
        label_noise=args.label_noise,
        seed=args.seed,
    )
    learn, held_out = split_by_time(history.samples, args.test_share)
    print(
        f"history: {len(history.samples)} cases over {args.days} days, {len(leaves)} categories, "
        f"{len(history.departments)} departments, {args.subdistricts} subdistricts, label noise {args.label_noise:.0%} "
        f"(generated in {time.perf_counter() - started:.1f} s)"
    )
    print(
        f"learn from the earliest {len(learn)}, test on the latest {len(held_out)}; scikit-learn {sklearn.__version__}"
    )

    started = time.perf_counter()
    router = Router.train(learn)
    train_seconds = time.perf_counter() - started
    blob = router.dumps()
    keywords = KeywordRouter({code: default_keywords(code, [name, parents[code]]) for code, name in leaves})

    def by_keywords(items: list[tuple[str, str]]) -> list:  # type: ignore[type-arg]
        return [keywords.predict(text, place, history.duty_for) for text, place in items]

    model = evaluate(router.predict_many, held_out)
    baseline = evaluate(by_keywords, held_out)
    print()
    print(f"{'':24}{'category top-1':>16}{'top-3':>10}{'department top-1':>19}{'top-3':>10}")
    for name, acc in (("model (char 1-3-gram LR)", model), ("keyword baseline", baseline)):
        print(
            f"{name:24}{pct(acc.category_top1):>16}{pct(acc.category_top3):>10}"
            f"{pct(acc.department_top1):>19}{pct(acc.department_top3):>10}"
        )
    no_keyword = sum(1 for s in held_out if not keywords.rank_categories(s.text))
    print(f"(keywords found nothing in {no_keyword} of {len(held_out)} test cases)")
    print()
    print(
        f"training: {train_seconds:.2f} s for {len(learn)} cases ({router.info['features']} features, "
        f"{router.info['categories']} categories, {router.info['departments']} departments); "
        f"model {len(blob) / 1024:.0f} KiB pickled"
    )

    singles = []
    for sample in held_out[:500]:
        t = time.perf_counter()
        router.predict(sample.text, sample.place)
        singles.append((time.perf_counter() - t) * 1000)
    singles.sort()
    t = time.perf_counter()
    router.predict_many([(s.text, s.place) for s in held_out])
    batch = time.perf_counter() - t
    kw_t = time.perf_counter()
    by_keywords([(s.text, s.place) for s in held_out])
    kw_batch = time.perf_counter() - kw_t
    print(
        f"prediction, one case: p50 {statistics.median(singles):.2f} ms, "
        f"p95 {singles[int(len(singles) * 0.95)]:.2f} ms; "
        f"batch of {len(held_out)}: {len(held_out) / batch:,.0f} cases/s (keywords {len(held_out) / kw_batch:,.0f}/s)"
    )

    if args.curve:
        print()
        print("learning curve (same test cases; training on the latest N before them):")
        print(f"{'N':>7}{'category top-1':>16}{'top-3':>10}{'department top-1':>19}{'train s':>9}")
        for n in args.curve:
            if n > len(learn):
                continue
            t = time.perf_counter()
            small = Router.train(learn[-n:], min_samples=min(n, 50))
            seconds = time.perf_counter() - t
            acc = evaluate(small.predict_many, held_out)
            print(
                f"{n:>7}{pct(acc.category_top1):>16}{pct(acc.category_top3):>10}{pct(acc.department_top1):>19}{seconds:>9.2f}"
            )
        print(
            f"{'keywords':>7}{pct(baseline.category_top1):>16}{pct(baseline.category_top3):>10}{pct(baseline.department_top1):>19}"
        )


if __name__ == "__main__":
    main()
