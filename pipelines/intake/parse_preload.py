"""Imported once by the parse workers' forkserver (pipelines.intake.safe_parse): the reader, its reference data
and the text converter are loaded here, so every worker forked from it starts warm instead of paying
≈ 0.2 s for them on its first workbook. Arrow's allocator is started here too: it reserves ≈ 1 GB of
address space on its first allocation, which must be part of a worker's footprint before its RLIMIT_AS
budget is added, not taken out of that budget. Importing it anywhere else only warms the same caches."""

from __future__ import annotations

import pyarrow as pa

import pipelines.intake.read  # noqa: F401 - the entry point the workers call, with every reader module
from pipelines.intake.sheets import match_sheets
from pipelines.intake.targets import parse_target
from schemas.text import clean_text
from schemas.vocab import reference

reference()
clean_text("預算績效")  # builds the opencc converter
match_sheets(["部门信息"])
parse_target("≥95%")
pa.array(["预算"], type=pa.large_string())
