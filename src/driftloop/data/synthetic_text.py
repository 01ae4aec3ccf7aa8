"""Generated support tickets whose topic mix can shift: text drift without a downloaded corpus.

Each ticket draws a topic from ``mix``, then words from that topic's vocabulary mixed with
words every topic shares. ``ticket_embeddings`` maps tickets to vectors by a fixed random
projection of their hashed character n-grams, so the same tickets also serve as an embedding
column with no model download.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["TOPICS", "ticket_embeddings", "tickets"]

TOPICS: dict[str, tuple[str, ...]] = {
    "delivery": ("parcel", "courier", "tracking", "delayed", "shipment", "doorstep", "dispatch"),
    "billing": ("invoice", "charged", "refund", "payment", "receipt", "overcharge", "billing"),
    "account": ("password", "login", "locked", "username", "verification", "profile", "reset"),
    "product": ("broken", "defective", "screen", "battery", "warranty", "cracked", "faulty"),
    "returns": ("return", "exchange", "label", "wrongsize", "replacement", "restock", "swap"),
}
_SHARED = ("please", "help", "my", "the", "order", "with", "is", "not", "again", "today", "thanks")


def tickets(
    n: int, mix: Sequence[float] | None = None, *, seed: int = 0
) -> tuple[list[str], list[str]]:
    """``n`` tickets and each one's topic; ``mix`` gives the topics' shares (default equal).

    Examples
    --------
    >>> texts, topics = tickets(3, seed=1)
    >>> len(texts), topics[0] in TOPICS, texts[0] == tickets(3, seed=1)[0][0]
    (3, True, True)
    """
    rng = np.random.default_rng(seed)
    names = list(TOPICS)
    shares = np.full(len(names), 1 / len(names)) if mix is None else np.asarray(mix, float)
    chosen = rng.choice(len(names), size=n, p=shares / shares.sum())
    texts = []
    for topic in chosen:
        length = int(rng.integers(6, 16))
        own = rng.random(length) < 0.4
        words = [
            str(rng.choice(TOPICS[names[topic]])) if mine else str(rng.choice(_SHARED))
            for mine in own
        ]
        texts.append(" ".join(words))
    return texts, [names[t] for t in chosen]


def ticket_embeddings(texts: Sequence[str], dims: int = 64, *, seed: int = 0) -> np.ndarray:
    """Each text as a vector: hashed character n-grams times a fixed random projection.

    Examples
    --------
    >>> ticket_embeddings(["refund please", "parcel delayed"], dims=8).shape
    (2, 8)
    """
    from sklearn.feature_extraction.text import HashingVectorizer

    hashed = HashingVectorizer(analyzer="char_wb", ngram_range=(3, 4), n_features=2**12)
    counts = hashed.transform(list(texts))
    projection = np.random.default_rng(seed).normal(size=(2**12, dims)) / np.sqrt(dims)
    return np.asarray(counts @ projection, dtype=np.float64)
