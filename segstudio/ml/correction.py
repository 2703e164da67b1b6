"""The trainer acting on its own alarms: soften the class weighting on a background flood,
strengthen it on a persisting foreground collapse. numpy only (the loss is changed
through ``ml.losses.set_class_weights`` by the caller's ``apply``).

Weights are moved along one knob, the *strength* s: w_c(s) = (w_c / w_background)^s, so
s = 1 is the planned weighting, s = 0 plain (unweighted) and s > 1 stronger. Dice does not
depend on the weights and keeps the rare classes in the loss at every strength.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from segstudio.core.alarm_advice import COLLAPSE, FLOOD
from segstudio.core.plan import MAX_STRENGTH
from segstudio.core.plan import MIN_STRENGTH as PLAN_MIN_STRENGTH

SOFTEN = 0.5  # strength x this on a flood
STRENGTHEN = 1.5  # strength x this on a collapse seen in two epochs running
MIN_STRENGTH = 1 / 16


def weights_at(base: Sequence[float], strength: float, background: int = 0) -> np.ndarray:
    w = np.asarray(base, dtype=np.float64)
    ref = w[background] if w[background] > 0 else (w[w > 0].min() if (w > 0).any() else 1.0)
    out = np.where(w > 0, (w / ref) ** strength, 0.0)
    return out


class Corrector:
    """Keeps the weighting strength; ``after_epoch`` returns what it changed (or None)."""

    def __init__(self, base_weights: Sequence[float] | None, strength: float = 1.0, background: int = 0):
        self.base = None if base_weights is None else np.asarray(base_weights, dtype=np.float64)
        self.strength = float(strength)
        self.background = background
        self._collapses = 0

    def initial(self) -> np.ndarray | None:
        return None if self.base is None else weights_at(self.base, self.strength, self.background)

    def after_epoch(self, alarm: str | None, apply: Callable[[np.ndarray], int]) -> str | None:
        """React to this epoch's alarm; ``apply(weights)`` sets them on the loss (returns parts set)."""
        if self.base is None or alarm is None:
            self._collapses = 0
            return None
        before = self.strength
        if alarm.startswith(FLOOD):
            self._collapses = 0
            self.strength = max(MIN_STRENGTH, self.strength * SOFTEN)
            why = "background flood: class weighting softened"
        elif alarm.startswith(COLLAPSE):
            self._collapses += 1
            if self._collapses < 2:  # the first epochs of most runs look like this
                return None
            self._collapses = 0
            # from no weighting at all (strength 0, set by hand) start at the plan's gentlest
            self.strength = min(MAX_STRENGTH, max(self.strength * STRENGTHEN, PLAN_MIN_STRENGTH))
            why = "foreground collapse in two epochs running: class weighting strengthened"
        else:
            return None
        if self.strength == before or not apply(weights_at(self.base, self.strength, self.background)):
            self.strength = before
            return None
        return f"{why} (strength {before:g} -> {self.strength:g})"
