"""The classic baseline beside every text result: TF-IDF features (word 1-2-grams and
character 2-5-grams within word boundaries) and a logistic regression with balanced class
weights, with scikit-learn. It is fitted on the training split only."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cnnlab.data.text import TextData


@dataclass
class BaselineResult:
    accuracy: float
    macro_f1: float
    seconds: float  # fitting and predicting
    features: int
    predictions: np.ndarray  # test predictions, class indices
    model: Any = field(default=None, repr=False)  # the fitted scikit-learn pipeline


def tfidf_baseline(data: TextData, seed: int = 0, c: float = 1.0) -> BaselineResult:
    """Fit TF-IDF + logistic regression on data's training texts; score the test split."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import FeatureUnion, make_pipeline

    t0 = time.perf_counter()
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True,
                                  lowercase=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2,
                                  sublinear_tf=True, lowercase=True)),
    ])  # fmt: skip
    classifier = LogisticRegression(C=c, class_weight="balanced", max_iter=2000,
                                    random_state=seed)  # fmt: skip
    model = make_pipeline(features, classifier)
    model.fit(data.train_texts, data.train_y)
    pred = model.predict(data.test_texts)
    n = len(model[0].get_feature_names_out())
    return BaselineResult(
        accuracy=float(accuracy_score(data.test_y, pred)),
        macro_f1=float(f1_score(data.test_y, pred, average="macro")),
        seconds=time.perf_counter() - t0,
        features=n,
        predictions=np.asarray(pred),
        model=model,
    )
