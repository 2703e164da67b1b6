"""What to change after a collapse or flood alarm: one list of steps per alarm, rendered in
the words of whoever reads it -- the CLI's flags (``--clip``) or the window's field labels
('Weight clip') -- and leaving out what the run's settings already do (no "use sqrt" when
sqrt is chosen). stdlib only.

An alarm is stored as ``"<diagnosis> (<cause>: <advice in CLI words>)"``; :func:`diagnosis`
gives the first part back, so the window can add its own advice to an alarm of any run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from segstudio.core.plan import MAX_STRENGTH

COLLAPSE = "foreground collapse"
FLOOD = "background flood"
#: schemes gentler than the inverse-frequency ones a flood blames
GENTLE_SCHEMES = ("sqrt", "enet", "none")


@dataclass(frozen=True)
class Step:
    setting: str  # config key
    verb: str  # "lower", "raise" or "set"
    value: str = ""  # what "set" sets
    done: Callable[[Mapping], bool] = lambda s: False  # the settings already do this


def _num(settings: Mapping, key: str, default: float) -> float:
    v = settings.get(key)
    return float(v) if isinstance(v, int | float) else default


STEPS: dict[str, tuple[Step, ...]] = {
    FLOOD: (
        Step("weight_strength", "lower", done=lambda s: _num(s, "weight_strength", 1.0) <= 0.0),
        Step("clip", "lower", done=lambda s: _num(s, "clip", 10.0) <= 1.0),
        Step("weights", "set", "sqrt", done=lambda s: s.get("weights") in GENTLE_SCHEMES),
    ),
    COLLAPSE: (
        Step("weight_strength", "raise", done=lambda s: _num(s, "weight_strength", 1.0) >= MAX_STRENGTH),
        Step("loss", "set", "wce+dice", done=lambda s: "dice" in str(s.get("loss", ""))),
        Step("rare_fraction", "raise", done=lambda s: _num(s, "rare_fraction", 0.5) >= 0.9),
    ),
}
CAUSES = {FLOOD: "class weights too strong", COLLAPSE: "the rare classes weigh too little"}
#: every setting some advice names
SETTINGS = tuple(dict.fromkeys(step.setting for steps in STEPS.values() for step in steps))
#: the CLI's words (no flag for the weight strength: that step is left out there)
CLI_NAMES = {"clip": "--clip", "weights": "--weights", "loss": "--loss", "rare_fraction": "--rare-fraction"}


def kind(alarm: str | None) -> str | None:
    """COLLAPSE, FLOOD or None."""
    return next((k for k in STEPS if alarm and alarm.startswith(k)), None)


def diagnosis(alarm: str) -> str:
    """The alarm without its advice (what the model did)."""
    return alarm.split(" (", 1)[0].rstrip(".") if alarm.endswith(")") else alarm.rstrip(".")


def advice(alarm: str, settings: Mapping[str, object], names: Mapping[str, str] = CLI_NAMES) -> str:
    """'lower A, lower B or set C to sqrt' in ``names``' words (setting key -> how to name it),
    without steps ``settings`` already take or ``names`` has no word for; '' when none is left."""
    parts = []
    for step in STEPS.get(kind(alarm) or "", ()):
        name = names.get(step.setting)
        if name is None or step.done(settings):
            continue
        parts.append(f"set {name} to {step.value}" if step.verb == "set" else f"{step.verb} {name}")
    if len(parts) > 1:
        return ", ".join(parts[:-1]) + " or " + parts[-1]
    return parts[0] if parts else ""


def with_advice(text: str, settings: Mapping[str, object] | None = None) -> str:
    """The stored alarm: ``text`` (the diagnosis) plus its cause and the CLI's advice."""
    k = kind(text)
    hint = advice(text, settings or {})
    return f"{text} ({CAUSES[k]}: {hint})" if k and hint else text
