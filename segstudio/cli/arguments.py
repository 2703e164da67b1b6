"""Argument types for the commands: a bad number is a usage error (exit 2) naming the rule."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from segstudio.core.plan import MAX_STRENGTH


def number(requirement: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    """An argparse type: a finite float for which ``ok`` holds ("must be {requirement}")."""
    def parse(text: str) -> float:
        try:
            x = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not (math.isfinite(x) and ok(x)):
            raise argparse.ArgumentTypeError(f"must be {requirement}, got {text!r}")
        return x
    return parse


def positive_int(text: str) -> int:
    try:
        x = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if x <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return x


#: --clip R: a multiple of the smallest non-zero weight
clip_ratio = number("a number >= 1", lambda r: r >= 1)
#: --beta of the effective-number scheme
beta = number("between 0 and 1 (exclusive)", lambda b: 0 < b < 1)
#: --lr: above 1 Adam only diverges; NaN trains nothing
learning_rate = number("a number > 0 and <= 1", lambda x: 0 < x <= 1)
positive_float = number("a finite number > 0", lambda x: x > 0)
fraction = number("between 0 and 1", lambda x: 0 <= x <= 1)
#: --weight-strength: class weights ** s
weight_strength = number(f"between 0 and {MAX_STRENGTH:g}", lambda x: 0 <= x <= MAX_STRENGTH)
