"""Smart dispatch: from a case's text (and place) to ranked categories and departments.

A pure engine (no Django imports): labels are plain strings (the services use primary keys),
samples are plain dataclasses, a trained model is bytes. ``Router`` is the learned model
(character n-gram TF-IDF + a place one-hot, multinomial logistic regression per head);
``KeywordRouter`` is the duty-list keyword fallback used while there is too little history.
"""

from grassroots.cases.routing.engine import (
    MIN_SAMPLES,
    Accuracy,
    KeywordRouter,
    Prediction,
    Ranked,
    Router,
    Sample,
    TooLittleHistory,
    evaluate,
    load_router,
    split_by_time,
)
from grassroots.cases.routing.text import default_keywords, normalise

__all__ = [
    "MIN_SAMPLES",
    "Accuracy",
    "KeywordRouter",
    "Prediction",
    "Ranked",
    "Router",
    "Sample",
    "TooLittleHistory",
    "default_keywords",
    "evaluate",
    "load_router",
    "normalise",
    "split_by_time",
]
