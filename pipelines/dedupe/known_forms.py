"""What a caller knows already of a batch of pairs' names (FormCodes), and that knowledge narrowed to the
forms and 指标解释 one batch uses: the features' per-form work is then done once, for those alone."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class FormCodes:
    """What a caller knows already of its pairs' names: the distinct matching forms and each side's code into
    them, and fuzz.ratio of the two forms as written (ratio) and with their characters sorted (order), as
    process.cpdist gave them for these very pairs (None: not computed)."""

    forms: np.ndarray
    code_a: np.ndarray
    code_b: np.ndarray
    ratio: np.ndarray | None = None
    order: np.ndarray | None = None
    # (distinct 指标解释 texts, side A's code into them, side B's): factorized once per row by the caller
    definitions: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
    # definitions' texts in definition_form, in their order (None: made per batch of pairs)
    definition_forms: np.ndarray | None = None
    # each form's metric suffix class (suffix_table().classify), in the forms' order (None: made here)
    suffix_classes: np.ndarray | None = None


def narrowed(known: FormCodes) -> FormCodes:
    """known with only the forms and 指标解释 texts its pairs use (codes renumbered in the same order): the
    per-form work is done for these alone (a batch of pairs, half of them, uses only part of the forms)."""
    n = len(known.code_a)
    used, codes = renumbered(np.concatenate([known.code_a, known.code_b]), len(known.forms))
    definitions, cleaned = known.definitions, known.definition_forms
    if definitions is not None:
        texts, da, db = definitions
        used_texts, text_codes = renumbered(np.concatenate([da, db]), len(texts))
        definitions = (texts[used_texts], text_codes[:n], text_codes[n:])
        cleaned = cleaned[used_texts] if cleaned is not None else None
    classes = known.suffix_classes
    return replace(
        known,
        forms=known.forms[used],
        suffix_classes=classes[used] if classes is not None else None,
        code_a=codes[:n],
        code_b=codes[n:],
        definitions=definitions,
        definition_forms=cleaned,
    )


def renumbered(codes: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """np.unique(codes, return_inverse=True) of codes in 0..size-1 by counting, not sorting millions of them:
    the codes used, in order, and each code's position among them."""
    used = np.flatnonzero(np.bincount(codes, minlength=size))
    position = np.zeros(max(size, 1), dtype=np.int64)
    position[used] = np.arange(len(used))
    return used, position[codes]
