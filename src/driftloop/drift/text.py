"""Text drift without a model: character n-grams and four descriptors, by permutation tests.

Each document becomes the shares of its character n-grams (3 to 4 characters inside word
boundaries, scikit-learn's ``CountVectorizer(analyzer="char_wb")``), over the ``TOP_NGRAMS``
most frequent n-grams of both sides pooled (chosen without the labels, so the permutation
test stays exact). The n-gram statistic is the sum over those n-grams of the squared
standardised difference of their mean share; its p-value comes from relabelling documents.

Descriptors, one value per document, each tested the same way (two-sided): ``length``
(characters), ``empty`` (blank or whitespace only), ``non_ascii`` (holds a non-ASCII character)
and ``out_of_vocabulary`` (the share of its words that no reference document has; for a
reference document, or a current one with a copy in the reference, no *other* reference
document, so both sides are measured alike).

The column's p-value is a weighted Bonferroni over the five tests: the n-gram test gets half
the column's rate, each descriptor an eighth (``min(1, 2 p_ngrams, 8 min p_descriptor)``), so
the column holds its stated rate whichever test fires. Documents are capped at ``max_docs`` a
side, drawn at random (seeded).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from driftloop.drift.permutation import (
    Relabellings,
    bounded_rows,
    mean_differences,
    mean_shift,
    permutation_test,
    relabellings,
)
from driftloop.drift.results import Movement

__all__ = ["DESCRIPTORS", "TextDrift", "descriptors", "text_test"]

MAX_DOCS = 2000
TOP_NGRAMS = 500
NGRAM_RANGE = (3, 5)
PERMUTATIONS = 1000
TOP_MOVED = 5
NGRAM_SHARE, DESCRIPTOR_SHARE = 0.5, 0.125
DESCRIPTORS = ("length", "empty", "non_ascii", "out_of_vocabulary")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class TextDrift:
    """The tests of one text column: the n-gram statistic, each descriptor, the combined p."""

    statistic: float
    p_ngrams: float
    p_value: float  # the weighted Bonferroni over the n-gram test and the descriptors
    n_reference: int  # documents tested (at most max_docs)
    n_current: int
    moved: tuple[Movement, ...]
    descriptors: tuple[Movement, ...]


def text_test(
    reference: list[str],
    current: list[str],
    *,
    max_docs: int = MAX_DOCS,
    permutations: int = PERMUTATIONS,
    seed: int = 0,
) -> TextDrift:
    """Test whether two sets of documents come from one distribution.

    Examples
    --------
    >>> ref = ["the parcel arrived late", "refund my order please"] * 60
    >>> cur = ["the parcel arrived late"] * 30 + ["my invoice shows a wrong charge"] * 90
    >>> result = text_test(ref, cur)
    >>> result.p_value < 0.01, result.moved[0].name in "my invoice shows a wrong charge"
    (True, True)
    """
    rng = np.random.default_rng(seed)
    ref_docs = bounded_rows(np.asarray(reference, dtype=object), max_docs, rng).tolist()
    cur_docs = bounded_rows(np.asarray(current, dtype=object), max_docs, rng).tolist()
    labels = relabellings(len(ref_docs), len(cur_docs), permutations, rng)
    shares, names = _ngram_shares(ref_docs + cur_docs)
    scores = _standardised(shares, labels.members, labels.n, labels.m)
    p_ngrams = 1.0
    if names:
        p_ngrams = permutation_test(
            lambda members: (_standardised(shares, members, labels.n, labels.m) ** 2).sum(axis=0),
            labels,
            rng,
            (scores**2).sum(axis=0),
        )
    described = descriptors(ref_docs, cur_docs)
    d_p = [_descriptor_p(described[:, [j]], labels, rng) for j in range(len(DESCRIPTORS))]
    combined = min(1.0, p_ngrams / NGRAM_SHARE, min(d_p) / DESCRIPTOR_SHARE)
    return TextDrift(
        statistic=float((scores[:, 0] ** 2).sum()) if names else 0.0,
        p_ngrams=p_ngrams,
        p_value=combined,
        n_reference=len(ref_docs),
        n_current=len(cur_docs),
        moved=_moved(shares, names, labels.n, scores[:, 0]),
        descriptors=_described(described, labels.n, d_p),
    )


def _ngram_shares(docs: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each document's share of each of the most frequent n-grams (documents x n-grams)."""
    from sklearn.feature_extraction.text import CountVectorizer  # deferred: ~0.5 s to import

    vectorizer = CountVectorizer(
        analyzer="char_wb", ngram_range=NGRAM_RANGE, max_features=TOP_NGRAMS
    )
    try:
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # no document has an n-gram (all empty or one-letter words)
        return np.zeros((len(docs), 0)), []
    dense = counts.toarray().astype(np.float64)
    totals = dense.sum(axis=1, keepdims=True)
    shares = np.divide(dense, totals, out=np.zeros_like(dense), where=totals > 0)
    return shares, list(vectorizer.get_feature_names_out())


def _standardised(values: np.ndarray, members: np.ndarray, n: int, m: int) -> np.ndarray:
    """Mean differences of every labelling over their standard error (columns x labellings)."""
    differences = mean_differences(values, members, n, m)
    variance = values.var(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
    error = np.sqrt(variance * (1 / n + 1 / m))[:, None]
    scores = np.divide(differences, error, out=np.zeros_like(differences), where=error > 0)
    return np.asarray(scores, dtype=np.float64)


def _descriptor_p(values: np.ndarray, labels: Relabellings, rng: np.random.Generator) -> float:
    """The two-sided permutation p-value of one descriptor's mean difference."""
    if np.ptp(values) == 0:
        return 1.0
    return permutation_test(
        lambda members: np.abs(mean_differences(values, members, labels.n, labels.m)[0]),
        labels,
        rng,
    )


def descriptors(reference: list[str], current: list[str]) -> np.ndarray:
    """Each document's descriptors (columns in ``DESCRIPTORS`` order), reference rows first.

    Examples
    --------
    >>> descriptors(["a b", "a c"], ["", "é d"]).tolist()
    [[3.0, 0.0, 0.0, 0.5], [3.0, 0.0, 0.0, 0.5], [0.0, 1.0, 0.0, 0.0], [3.0, 0.0, 1.0, 1.0]]
    """
    ref_words = [set(_WORD.findall(d.lower())) for d in reference]
    frequency = Counter(w for words in ref_words for w in words)
    ref_texts = set(reference)
    rows = []
    for i, doc in enumerate([*reference, *current]):
        words = _WORD.findall(doc.lower())
        # a document does not vouch for itself, nor does its copy in the reference (so that
        # both sides are measured against the other reference documents alike)
        own = 1 if i < len(reference) or doc in ref_texts else 0
        unseen = sum(frequency[w] <= own for w in words)
        rows.append(
            (
                float(len(doc)),
                float(not doc.strip()),
                float(not doc.isascii()),
                unseen / len(words) if words else 0.0,
            )
        )
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(DESCRIPTORS))


def _moved(
    shares: np.ndarray, names: list[str], n: int, scores: np.ndarray
) -> tuple[Movement, ...]:
    """The n-grams whose mean share moved most (ranked by their test score)."""
    ref_mean, cur_mean, smd = mean_shift(shares[:n], shares[n:])
    order = np.argsort(-np.abs(scores), kind="stable")[:TOP_MOVED]
    return tuple(
        Movement(names[j], float(ref_mean[j]), float(cur_mean[j]), float(smd[j])) for j in order
    )


def _described(values: np.ndarray, n: int, p_values: list[float]) -> tuple[Movement, ...]:
    ref_mean, cur_mean, smd = mean_shift(values[:n], values[n:])
    return tuple(
        Movement(name, float(ref_mean[j]), float(cur_mean[j]), float(smd[j]), p_values[j])
        for j, name in enumerate(DESCRIPTORS)
    )
