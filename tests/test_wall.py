"""The OS wall's own logic, where inputs vary: the seccomp blocks that stand for "any pid but
0 and the child's own" must cover exactly that set, whatever the child's pid."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from graders.run.wall import _blocks


@given(own=st.integers(min_value=1, max_value=(1 << 22)), probe=st.integers(0, (1 << 64) - 1))
def test_the_blocks_tile_exactly_the_pids_below_the_childs_own(own, probe):
    blocks = _blocks(1, own - 1)
    assert len(blocks) <= 2 * 64
    for value in (probe, probe % (own + 2), own - 1, own, 0, 1):
        inside = any(value & mask == start for mask, start in blocks)
        assert inside == (1 <= value <= own - 1)
