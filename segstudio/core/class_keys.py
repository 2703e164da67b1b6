"""Choosing a class from the keyboard: typed digits select by id, keys step through the table.

Typing digits quickly selects the class with that id (napari, ilastik): "1" selects class 1
at once, and "7" within :data:`DIGIT_TIMEOUT` seconds after it turns that into class 17.
Times are passed in (seconds from any monotonic clock), so the logic is tested without waiting.

Example:
    >>> keys = DigitBuffer()
    >>> ids = range(32)
    >>> keys.press("1", 0.0, ids), keys.press("7", 0.3, ids), keys.press("2", 2.0, ids)
    (1, 17, 2)
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

#: seconds within which a digit continues the id typed before it
DIGIT_TIMEOUT = 0.8


@dataclass
class DigitBuffer:
    timeout: float = DIGIT_TIMEOUT
    _typed: str = ""
    _last: float = -math.inf

    def press(self, digit: str, now: float, ids: Collection[int]) -> int | None:
        """The class id to select after typing ``digit`` at time ``now``, or None.

        A digit continues the typed id while that names a class in ``ids`` (and arrives in
        time); otherwise it starts a new id on its own.
        """
        if not (len(digit) == 1 and digit.isdigit()):
            raise ValueError(f"not a digit: {digit!r}")
        fresh = now - self._last > self.timeout
        self._last = now
        for typed in ((digit,) if fresh or not self._typed else (self._typed + digit, digit)):
            if int(typed) in ids:
                self._typed = typed
                return int(typed)
        self._typed = ""
        return None


def step_class(ids: Sequence[int], current: int | None, step: int) -> int | None:
    """The id ``step`` places after ``current`` in ``ids`` (wrapping round); the first id
    when ``current`` is not among them; None for no ids."""
    if not ids:
        return None
    order = list(ids)
    if current not in order:
        return order[0] if step >= 0 else order[-1]
    return order[(order.index(current) + step) % len(order)]
