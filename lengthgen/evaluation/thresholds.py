"""The accuracy thresholds every output names, defined once.

- ``FIT_THRESHOLD``: a run is *fitted* when its benchmark metric at the
  longest training length reaches this.  Below it the run did not learn
  the task in range, and nothing it does beyond the range says anything
  about length generalization.
- ``SOLVED_THRESHOLD``: a length is *solved* when the metric there reaches
  this (the 90% of Delétang et al., 2023).  The extrapolation length is
  the longest length up to which every evaluated length is solved.
- ``SHORTCUT_MARGIN``: a task whose best cheap baseline beats chance by
  more than this at some evaluated length is flagged as shortcut-prone.
"""

from __future__ import annotations

FIT_THRESHOLD = 0.95
SOLVED_THRESHOLD = 0.90
SHORTCUT_MARGIN = 0.10


def thresholds_dict() -> dict[str, float]:
    return {"fit": FIT_THRESHOLD, "solved": SOLVED_THRESHOLD, "shortcut_margin": SHORTCUT_MARGIN}


def legend() -> str:
    return (
        f"fitted: metric >= {100 * FIT_THRESHOLD:.0f}% at the longest training length; "
        f"solved at L: metric >= {100 * SOLVED_THRESHOLD:.0f}% at L"
    )
