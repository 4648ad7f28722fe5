"""Forking forced on for the tests that compare the forked and the in-process ways of run_forked.

The product forks only on a safe platform and, unless INDICATORS_FORK says otherwise, only while the process
holds under background.FORK_MAX_RESIDENT_MIB; these tests must fork whatever the test process holds. Import
`forks_on` into a test module (pytest finds fixtures in its globals); a test may still turn forking off.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module", autouse=True)
def forks_on() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INDICATORS_FORK", "1")
        yield
