"""A parse that misbehaves on purpose, by file name, for the worker tests of tests/test_read_fuzz.py.

Workers import it by name, so it lives in its own small module: importing the test module would cost
each fresh worker a second of hypothesis and openpyxl imports.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import python_calamine

from pipelines.intake.read import read_workbook
from pipelines.intake.workbook import Workbook


def hostile_parse(path: Path) -> Workbook:
    """A parse that misbehaves by file name (sent to the workers by name, so module level)."""
    name = path.name
    if name.startswith("native"):  # the real native abort: calamine on the bomb, no check first
        python_calamine.CalamineWorkbook.from_path(str(path))
    if name.startswith("abort"):
        os.abort()
    if name.startswith("exit"):
        os._exit(3)
    if name.startswith("hog"):
        hog = bytearray(8 << 30)  # far beyond the 1 GB the test allows: MemoryError under RLIMIT_AS
        hog[-1] = 1
    if name.startswith("sleep"):
        time.sleep(120)
    if name.startswith("raise"):
        raise RuntimeError("a parser bug")
    return read_workbook(path)
