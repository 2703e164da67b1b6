import numpy as np

from segstudio.core import alarm_advice as aa

FLOOD = "background flood: 5.0x the true foreground predicted, background recall 90.0%"
COLLAPSE = "foreground collapse: the model predicts 2.0% as many foreground pixels as the validation masks hold"


def test_cli_advice_names_flags_and_skips_what_the_run_does():
    stored = aa.with_advice(FLOOD, {"weights": "balanced"})
    assert stored.startswith(FLOOD) and "--clip" in stored and "--weights to sqrt" in stored
    assert "sqrt" not in aa.with_advice(FLOOD, {"weights": "sqrt"})
    assert "dice" not in aa.with_advice(COLLAPSE, {"loss": "wce+dice"}).split("(", 1)[1]
    assert aa.diagnosis(stored) == FLOOD


def test_advice_in_other_words_and_none_left():
    names = {"weight_strength": "'Weight strength'", "clip": "'Weight clip'", "weights": "'Class weights'"}
    assert aa.advice(FLOOD, {"weights": "sqrt"}, names) == "lower 'Weight strength' or lower 'Weight clip'"
    done = {"weights": "sqrt", "clip": 1.0, "weight_strength": 0.0}
    assert aa.advice(FLOOD, done, names) == "" and aa.with_advice(FLOOD, done) == FLOOD
    assert aa.kind("all fine") is None and aa.advice("all fine", {}) == ""


def test_the_trainer_alarm_carries_the_advice():
    from segstudio.ml.trainer import collapse_alarm

    flooded = np.array([[50, 50], [0, 10]])
    text = collapse_alarm(flooded, settings={"loss": "wce+dice"})
    assert text.startswith(aa.FLOOD) and "--clip" in text
    collapsed = np.array([[100, 0], [10, 0]])
    assert "--loss to wce+dice" not in collapse_alarm(collapsed, settings={"loss": "wce+dice"})
    assert "--loss to wce+dice" in collapse_alarm(collapsed, settings={"loss": "wce"})
