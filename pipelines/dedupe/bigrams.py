"""Character-bigram overlap of two names (the pair features' bigram_dice, features.py): the Dice overlap of
their distinct character bigrams, every pair's in one C pass of rapidfuzz."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import LCSseq


def bigrams(text: str) -> set[str]:
    return {text[k : k + 2] for k in range(len(text) - 1)} if len(text) > 1 else {text}


_BIGRAM_CODES = 0x110000 - 0x10000  # distinct bigrams bigram_dice can write as code points


def bigram_dice(forms: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Dice overlap of the two forms' distinct character bigrams (a one-character form is its own bigram).

    Each form's distinct bigrams become one string of increasing code points (a code per distinct bigram):
    the longest common subsequence of two increasing sequences is their intersection, so one C pass of
    rapidfuzz counts the shared bigrams of every pair."""
    coded = _coded_bigrams(forms)
    if coded is not None:
        texts, sizes = coded
        pairs_a, pairs_b = list(texts[ia]), list(texts[ib])
        shared = process.cpdist(pairs_a, pairs_b, scorer=LCSseq.similarity, workers=1).astype(np.float64)
    else:  # more distinct bigrams than code points: intersect the sets
        sets = [frozenset(bigrams(str(f))) for f in forms]
        sizes = np.fromiter(map(len, sets), dtype=np.float64, count=len(sets))
        pairs = zip(ia.tolist(), ib.tolist(), strict=True)
        shared = np.fromiter((len(sets[i] & sets[j]) for i, j in pairs), dtype=np.float64, count=len(ia))
    return 2 * shared / np.maximum(sizes[ia] + sizes[ib], 1)


def _coded_bigrams(forms: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Per form, its distinct bigrams as one string of increasing code points from U+10000 (no surrogates;
    one code point per distinct bigram of all the forms, numbered in one order) and how many it has; None
    when there are more distinct bigrams than code points. Made from the forms' code points at once (numpy),
    not a set and a sort per form: a bigram is a pair of code points as one integer, a form of one character
    (or none) is its own."""
    texts = [str(f) for f in forms]
    if not texts:
        return np.empty(0, dtype=object), np.empty(0)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    utf32 = "".join(texts).encode("utf-32-le", "surrogatepass")
    points = np.frombuffer(utf32, dtype=np.uint32).astype(np.int64)
    starts = np.cumsum(lengths) - lengths
    pair_at = np.ones(len(points), dtype=bool)  # a bigram starts at every character but a form's last
    pair_at[(starts + lengths - 1)[lengths > 0]] = False
    at = np.flatnonzero(pair_at)
    few = np.flatnonzero(lengths < 2)
    owner = np.concatenate([np.repeat(np.arange(len(texts)), np.maximum(lengths - 1, 0)), few])
    alone = np.full(len(few), -0x110001, dtype=np.int64)  # below zero: an empty form, a character c as -(c+1)
    one = lengths[few] == 1
    alone[one] = -(points[starts[few[one]]] + 1)
    # Hashed, not sorted (np.unique's inverse sorts): any one numbering of the bigrams will do.
    code, distinct = pd.factorize(np.concatenate([points[at] * 0x110000 + points[at + 1], alone]))
    if len(distinct) > _BIGRAM_CODES:
        return None
    ordered = np.sort(owner * len(distinct) + code)
    per_form = ordered[
        np.r_[True, ordered[1:] != ordered[:-1]]
    ]  # each form's codes, increasing, form by form
    sizes = np.bincount(per_form // len(distinct), minlength=len(texts))
    joined = (0x10000 + per_form % len(distinct)).astype(np.uint32).tobytes().decode("utf-32-le")
    bounds = np.concatenate([[0], np.cumsum(sizes)]).tolist()
    coded = np.array([joined[bounds[k] : bounds[k + 1]] for k in range(len(texts))], dtype=object)
    return coded, sizes.astype(np.float64)
