"""docs/bad-inputs.md is what tests/bad_inputs.py writes, and every fault it lists is checked by
the test it names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bad_inputs import FAULTS, PAGE, page


def test_the_page_is_fresh() -> None:
    assert PAGE.read_text() == page(), "stale: run python -m tests.bad_inputs"


@pytest.mark.parametrize(("what", "test", "says"), FAULTS)
def test_each_fault_is_asserted_by_its_test(what: str, test: str, says: str) -> None:
    assert says in (Path(__file__).parent / test).read_text(), (what, test)
