"""step3 end to end on each reading of the real site that its captures leave open (simulator variants).

The evidence does not show where the image editor opens, whether a click on its strip moves it, whether TAB
wraps, whether a translate press shows a loading state, or whether the drawer keeps the other tabs' content
mounted. The adapter must not depend on any of them: each variant gets a verified step3 run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import simulator
from test_e2e_runs import assert_verified, run

from stepbatch.simulator.faults import Faults

pytestmark = pytest.mark.browser

VARIANTS = {
    "editor opens on image 1, thumb clicks move it": Faults(editor_opens_first=True),
    "editor opens on image 1, thumbs inert, TAB stops at the end": Faults(
        editor_opens_first=True, thumb_click_moves=False, tab_wraps=False
    ),
    "a translate press shows no loading state": Faults(translate_loading=False),
    "the drawer keeps every tab's content, hidden": Faults(keep_tabs_mounted=True),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_step3_is_verified_on_each_site_variant(variant: str, tmp_path: Path):
    faults = Faults(**{**VARIANTS[variant].__dict__, "translate_ms": 30})
    with simulator(tmp_path, faults=faults, codes=2) as sim:
        code, out = run(sim, "step3", tmp_path / "state")
        assert code == 0, out
        assert_verified(sim, step="step3")
