"""Imported once by the batch workers' forkserver (pipelines.fanout.pool): the rules, pandera's schemas,
the feedback writer and their reference data are loaded here, so every worker forked from it starts warm
(the reader is pipelines.intake.parse_preload's, preloaded beside this)."""

from __future__ import annotations

import pipelines.fanout.batches  # noqa: F401 - what the workers run, with the rules and the writer
import pipelines.validate.rules  # noqa: F401
from pipelines.validate.canonicalize import indicator_columns
from pipelines.validate.returned import shown_columns

indicator_columns()
shown_columns()
