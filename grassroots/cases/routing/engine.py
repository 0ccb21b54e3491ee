"""The learned router, the keyword fallback, evaluation and serialisation.

Features: character 1–3-grams of the normalised text (TF-IDF, sublinear tf; no word
segmentation, so no jieba: Chinese complaint texts are short and character n-grams carry the
words and their variants), plus the prefixes of the place's area path (community, grid), so
that "the same words mean another department in this subdistrict" can be learnt.
Two heads, each a multinomial logistic regression: the category, and the department (a case
sent to two departments is two rows). Probabilities are the confidences shown.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grassroots.cases.routing.text import normalise

MIN_SAMPLES = 200  # fewer usable past cases than this: the keyword fallback answers
MIN_CATEGORIES = 2
PLACE_WEIGHT = 0.6  # how much the place features count beside the text (the text vector has norm 1)
TOP = 3
FORMAT = 1

# ``duty(category_label, place)`` → the departments the duty list names for it there.
Duty = Callable[[str, str], Sequence[str]]


class TooLittleHistory(ValueError):
    """Not enough labelled past cases to learn from; the caller keeps the keyword fallback."""


@dataclass(frozen=True)
class Sample:
    """One labelled past case. ``place`` is an area path; ``at`` orders samples in time."""

    text: str
    place: str = ""
    category: str = ""
    departments: tuple[str, ...] = ()
    at: float = 0.0
    weight: float = 1.0


@dataclass(frozen=True)
class Ranked:
    label: str
    confidence: float  # 0..1


@dataclass(frozen=True)
class Prediction:
    categories: tuple[Ranked, ...]
    departments: tuple[Ranked, ...]
    source: str  # "model" or "keywords"


@dataclass(frozen=True)
class Accuracy:
    samples: int
    category_top1: float
    category_top3: float
    department_samples: int
    department_top1: float
    department_top3: float

    def as_dict(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in self.__dict__.items()}


def place_tokens(place: str) -> list[str]:
    """``"a.b.c.d"`` → ``["p:a.b", "p:a.b.c", "p:a.b.c.d"]`` (subdistrict and below)."""
    parts = [p for p in (place or "").split(".") if p]
    return [f"p:{'.'.join(parts[:n])}" for n in range(2, len(parts) + 1)]


def _top(pairs: Iterable[tuple[str, float]], k: int = TOP) -> tuple[Ranked, ...]:
    ranked = sorted(pairs, key=lambda p: (-p[1], p[0]))[:k]
    return tuple(Ranked(label, round(float(score), 4)) for label, score in ranked if score > 0)


def departments_from_categories(
    categories: Sequence[Ranked], place: str, duty: Duty | None, k: int = TOP
) -> tuple[Ranked, ...]:
    """Departments the duty list names for the ranked categories, weighted by their confidence."""
    if duty is None:
        return ()
    scores: dict[str, float] = defaultdict(float)
    for ranked in categories:
        for department in duty(ranked.label, place):
            scores[department] += ranked.confidence
    return _top(scores.items(), k)


# --- the keyword fallback ----------------------------------------------------------------------


class KeywordRouter:
    """Scores each category by the keywords of its duty-list entry found in the text.

    A keyword counts its length (a longer, more specific phrase weighs more); the confidence is
    the category's share of all the scores. No keyword found: no suggestion (the page says so).
    """

    source = "keywords"

    def __init__(self, keywords: Mapping[str, Sequence[str]]) -> None:
        self.keywords = {label: [normalise(w) for w in words if normalise(w)] for label, words in keywords.items()}

    def rank_categories(self, text: str, k: int = TOP) -> tuple[Ranked, ...]:
        text = normalise(text)
        scores = {label: float(sum(len(w) for w in words if w in text)) for label, words in self.keywords.items()}
        total = sum(scores.values())
        if not total:
            return ()
        return _top(((label, s / total) for label, s in scores.items()), k)

    def predict(self, text: str, place: str = "", duty: Duty | None = None, k: int = TOP) -> Prediction:
        categories = self.rank_categories(text, k)
        return Prediction(categories, departments_from_categories(categories, place, duty, k), self.source)


# --- the learned router ------------------------------------------------------------------------


def _place_analyzer(tokens: list[str]) -> list[str]:
    # A constant anchor keeps the vocabulary non-empty when no sample has a place.
    return ["p:*", *tokens]


@dataclass
class Router:
    """A trained model. Build with ``Router.train``; keep with ``dumps``; restore with ``load_router``."""

    text_vectorizer: Any
    place_vectorizer: Any
    category_model: Any
    department_model: Any | None  # None: no department history (only community-handled cases)
    info: dict[str, Any] = field(default_factory=dict)
    source: str = "model"

    @classmethod
    def train(cls, samples: Sequence[Sample], *, min_samples: int = MIN_SAMPLES, c: float = 20.0) -> Router:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):  # small dense parts: BLAS threads only fight the web workers
            return cls._train(samples, min_samples=min_samples, c=c)

    @classmethod
    def _train(cls, samples: Sequence[Sample], *, min_samples: int, c: float) -> Router:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        usable = [s for s in samples if s.category and normalise(s.text)]
        categories = {s.category for s in usable}
        if len(usable) < min_samples or len(categories) < MIN_CATEGORIES:
            raise TooLittleHistory(
                f"{len(usable)} labelled cases in {len(categories)} categories; "
                f"need {min_samples} in {MIN_CATEGORIES} or more"
            )
        started = time.perf_counter()
        text_vectorizer = TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, 3),
            preprocessor=normalise,
            min_df=2,
            sublinear_tf=True,
            max_features=60_000,
            dtype=_float32(),
        )
        place_vectorizer = TfidfVectorizer(analyzer=_place_analyzer, use_idf=False, norm="l2", dtype=_float32())
        router = cls(text_vectorizer, place_vectorizer, None, None)
        text_vectorizer.fit([s.text for s in usable])
        place_vectorizer.fit([place_tokens(s.place) for s in usable])
        x = router._features([s.text for s in usable], [s.place for s in usable])
        router.category_model = LogisticRegression(C=c, max_iter=300, tol=1e-3)
        router.category_model.fit(x, [s.category for s in usable], sample_weight=[s.weight for s in usable])
        rows = [(i, d) for i, s in enumerate(usable) for d in s.departments]
        if len({d for _, d in rows}) >= 2:
            router.department_model = LogisticRegression(C=c, max_iter=300, tol=1e-3)
            router.department_model.fit(
                x[[i for i, _ in rows]], [d for _, d in rows], sample_weight=[usable[i].weight for i, _ in rows]
            )
        import sklearn

        router.info = {
            "format": FORMAT,
            "sklearn": sklearn.__version__,
            "samples": len(usable),
            "department_rows": len(rows),
            "categories": len(categories),
            "departments": len({d for _, d in rows}),
            "features": len(text_vectorizer.vocabulary_) + len(place_vectorizer.vocabulary_),
            "train_seconds": round(time.perf_counter() - started, 3),
        }
        return router

    def _features(self, texts: Sequence[str], places: Sequence[str]) -> Any:
        from scipy.sparse import hstack

        text = self.text_vectorizer.transform(texts)
        place = self.place_vectorizer.transform([place_tokens(p) for p in places]) * PLACE_WEIGHT
        return hstack([text, place], format="csr")

    def predict_many(
        self, items: Sequence[tuple[str, str]], duty: Duty | None = None, k: int = TOP
    ) -> list[Prediction]:
        if not items:
            return []
        x = self._features([t for t, _ in items], [p for _, p in items])
        category_p = self.category_model.predict_proba(x)
        category_labels = [str(c) for c in self.category_model.classes_]
        department_p = self.department_model.predict_proba(x) if self.department_model is not None else None
        department_labels = [str(c) for c in self.department_model.classes_] if self.department_model else []
        found = []
        for row, (_, place) in enumerate(items):
            categories = _top(zip(category_labels, category_p[row], strict=True), k)
            if department_p is not None:
                departments = _top(zip(department_labels, department_p[row], strict=True), k)
            else:
                departments = departments_from_categories(categories, place, duty, k)
            found.append(Prediction(categories, departments, self.source))
        return found

    def predict(self, text: str, place: str = "", duty: Duty | None = None, k: int = TOP) -> Prediction:
        return self.predict_many([(text, place)], duty, k)[0]

    def dumps(self) -> bytes:
        """Pickled bytes; only ever loaded back from the platform's own database (see ``load_router``)."""
        buffer = io.BytesIO()
        pickle.dump({"format": FORMAT, "router": self}, buffer, protocol=pickle.HIGHEST_PROTOCOL)
        return buffer.getvalue()


def _float32() -> Any:
    import numpy

    return numpy.float32


def digest(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def load_router(blob: bytes, sha256: str) -> Router:
    """Unpickle a model the platform itself trained and stored, after checking its SHA-256.

    Unpickling runs code named in the data, so this must never see bytes from outside: the only
    caller reads the ``RoutingModel`` row that ``routing_train`` wrote (never an upload or an API
    field). The hash catches a truncated or mixed-up row, not an attacker who can already write
    the database.
    """
    if digest(blob) != sha256:
        raise ValueError("routing model blob does not match its sha256")
    data = pickle.loads(blob)  # noqa: S301 (our own row, verified above)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("router"), Router):
        raise ValueError("not a routing model of this format")
    return data["router"]


# --- evaluation --------------------------------------------------------------------------------

Predictor = Callable[[Sequence[tuple[str, str]]], list[Prediction]]


def evaluate(predict_many: Predictor, samples: Sequence[Sample]) -> Accuracy:
    """Top-1 / top-3 of categories, and of departments (a hit: any of the case's departments)."""
    predictions = predict_many([(s.text, s.place) for s in samples])
    c1 = c3 = d1 = d3 = dn = 0
    for sample, prediction in zip(samples, predictions, strict=True):
        labels = [r.label for r in prediction.categories]
        c1 += bool(labels) and labels[0] == sample.category
        c3 += sample.category in labels[:TOP]
        if sample.departments:
            dn += 1
            wanted = set(sample.departments)
            departments = [r.label for r in prediction.departments]
            d1 += bool(departments) and departments[0] in wanted
            d3 += bool(wanted & set(departments[:TOP]))
    n = len(samples) or 1
    return Accuracy(len(samples), c1 / n, c3 / n, dn, d1 / (dn or 1), d3 / (dn or 1))


def split_by_time(samples: Sequence[Sample], test_share: float = 0.2) -> tuple[list[Sample], list[Sample]]:
    """The earliest ``1 - test_share`` to learn from, the latest to test on (no peeking at the future)."""
    ordered = sorted(samples, key=lambda s: s.at)
    cut = round(len(ordered) * (1 - test_share))
    return ordered[:cut], ordered[cut:]
