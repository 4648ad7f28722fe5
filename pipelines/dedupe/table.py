"""The matcher's prepared rows as columns (RowTable): object arrays by row number, and what is made once per
distinct name or 指标解释 (forms, suffix classes, canonical stems, groups) so that the pairs' features and
descriptions look them up instead of making them per pair or per half."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipelines.dedupe.blocking import texts
from pipelines.dedupe.features import FormCodes, Sides
from pipelines.dedupe.objects import group_words
from pipelines.dedupe.reasons import Side
from pipelines.dedupe.vocabulary import NearSynonymForm, measure_stem
from pipelines.normalize.suffixes import suffix_table


@dataclass(frozen=True)
class RowTable:
    """The prepared rows' columns as object arrays (row number → text)."""

    ids: np.ndarray
    names: np.ndarray
    match: np.ndarray
    definition: np.ndarray
    unit: np.ndarray
    scope: np.ndarray
    level2: np.ndarray
    fclass: np.ndarray  # function class of 项目 indicators, "" otherwise
    origin: np.ndarray
    suffix: np.ndarray  # metric suffix class of the matching form
    canonical: np.ndarray  # the measure stem in canonical words (vocabulary.py)
    groups: np.ndarray  # the groups of people the row's name names (objects.group_words), for the 理由
    forms: np.ndarray  # the distinct matching forms
    form: np.ndarray  # each row's code into forms
    form_suffix: np.ndarray  # each distinct form's metric suffix class
    definitions: np.ndarray  # the distinct 指标解释 texts
    definition_code: np.ndarray  # each row's code into definitions

    @classmethod
    def of(cls, rows: pd.DataFrame, near_synonyms: Sequence[tuple[str, str]]) -> RowTable:
        match = texts(rows["match_name"])
        scopes = texts(rows["scope"])
        forms, form_codes = np.unique(match, return_inverse=True)
        table = suffix_table()
        form_suffix = np.array([table.classify(f) for f in forms], dtype=object)
        canon = NearSynonymForm(near_synonyms)
        stems = np.array([canon(measure_stem(f)) for f in forms], dtype=object)
        canonical = stems[form_codes]
        groups = np.array([group_words(stem) for stem in stems], dtype=object)[form_codes]
        definition = texts(rows["definition"])
        definition_code, definitions = pd.factorize(definition)
        return cls(
            ids=texts(rows["id"]),
            names=texts(rows["name"]),
            match=match,
            definition=definition,
            unit=texts(rows["unit_norm"]),
            scope=scopes,
            level2=texts(rows["level2"]),
            fclass=np.where(scopes == "项目", texts(rows["function_class"]), ""),
            origin=texts(rows["origin"]),
            suffix=form_suffix[form_codes],
            form_suffix=form_suffix,
            canonical=canonical,
            groups=groups,
            forms=forms.astype(object),
            form=form_codes,
            definitions=np.asarray(definitions, dtype=object),
            definition_code=definition_code,
        )

    def sides(self, rows: np.ndarray) -> Sides:
        """One side of the pairs as the features read it (features.Sides)."""
        return Sides(
            self.match[rows],
            self.definition[rows],
            self.unit[rows],
            self.level2[rows],
            self.scope[rows],
            self.fclass[rows],
        )

    def known(
        self,
        a: np.ndarray,
        b: np.ndarray,
        ratio: np.ndarray,
        order: np.ndarray,
        definition_forms: np.ndarray | None = None,
    ) -> FormCodes:
        """What the features need not compute again for pairs (a, b): names' codes and ratios (fuzz.ratio
        as written and in sorted characters, _Worth), 指标解释 codes, the forms' suffix classes, and the
        definitions' forms when made (definition_forms: of self.definitions, in their order)."""
        definitions = (self.definitions, self.definition_code[a], self.definition_code[b])
        return FormCodes(
            self.forms,
            self.form[a],
            self.form[b],
            ratio,
            order,
            definitions,
            definition_forms,
            self.form_suffix,
        )

    def side(self, rows: np.ndarray) -> Side:
        """One side of the pairs as the 理由 read it (reasons.Side)."""
        return Side(
            self.unit[rows],
            self.suffix[rows],
            self.scope[rows],
            self.level2[rows],
            self.fclass[rows],
            self.origin[rows],
            self.groups[rows],
            self.match[rows],
            self.canonical[rows],
        )
