"""Training defaults and option names, Keras-free: the one place every layer reads them from.

Importing this module must not import TensorFlow or Keras (the GUI reads it at start-up;
tests/ml/test_config.py checks that). ``ml.trainer`` uses ``TrainConfig``; the CLI's help
texts, ``services.training`` and the training panel read the same values from here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from functools import lru_cache

from segstudio.core.plan import LOSS, LR, WEIGHT_CLIP, WEIGHT_SCHEME

#: loss part -> one line on what it does (CLI help, README); join parts with '+'.
LOSS_PARTS: dict[str, str] = {
    "ce": "plain cross-entropy (no class weights)",
    "wce": "class-weighted cross-entropy, normalised by the weights (PyTorch)",
    "focal": "focal loss, gamma=2, class-weighted",
    "dice": "soft Dice averaged over all classes",
    "gdice": "generalized Dice (Sudre 2017), 1/volume^2 class weights",
    "tversky": "Tversky loss, alpha=beta=0.5 unless given",
}
#: the combinations offered in lists (the panel's loss menu), most useful first
LOSS_CHOICES: tuple[str, ...] = ("wce+dice", "focal+dice", "ce+dice", "wce", "focal", "dice",
                                 "gdice", "tversky", "wce+gdice", "ce")
#: loss parts that take the class weights
WEIGHTED_PARTS = ("wce", "focal")

#: class-weight scheme and clip (max/min weight ratio): the plan's (core.plan), also where no
#: plan is made (the statistics panel, 'segstudio weights' suggestions)
DEFAULT_WEIGHT_SCHEME = WEIGHT_SCHEME
DEFAULT_WEIGHT_CLIP = WEIGHT_CLIP
LR_SCHEDULES = ("cosine", "constant")

#: augmentation part -> what it does to a training crop (CLI help, README); join with '+'.
#: Probabilities and ranges are nnU-Net's (Isensee et al. 2021), on each crop's own pixel range.
AUGMENT_PARTS: dict[str, str] = {
    "flips": "random mirrors and 90-degree turns, image and mask together",
    "intensity": "brightness and contrast x0.75-1.25 (15% of crops each), gamma 0.7-1.5 (30%), "
                 "Gaussian noise (10%); the mask is untouched",
    "scale": "zoom 0.7-1.4 (20% of crops): a larger or smaller window resized to the crop",
}
#: the default: what every earlier benchmark table trained with
DEFAULT_AUGMENT = "flips"
#: the combinations offered in lists (the panel's menu): spec -> its menu text
AUGMENT_CHOICES: dict[str, str] = {
    "flips": "flips and turns",
    "flips+intensity": "flips, turns, intensity",
    "flips+intensity+scale": "flips, turns, intensity, zoom",
    "none": "none",
}


@lru_cache(maxsize=64)  # make_sample asks once per crop
def augment_parts(spec: str) -> frozenset[str]:
    """The parts of an augmentation spec like ``"flips+intensity"``; ``"none"`` is no part."""
    parts = frozenset(p.strip().lower() for p in str(spec).split("+") if p.strip())
    if parts == {"none"}:
        return frozenset()
    unknown = parts - set(AUGMENT_PARTS)
    if unknown or not parts:
        raise ValueError(f"unknown augmentation {spec!r}: join {', '.join(AUGMENT_PARTS)} with '+', "
                         "or 'none'")
    return parts


def canonical_augment(spec: str) -> str:
    """The spec with its parts in AUGMENT_PARTS' order (``"scale+flips"`` -> ``"flips+scale"``)."""
    return "+".join(p for p in AUGMENT_PARTS if p in augment_parts(spec)) or "none"


@dataclass
class TrainConfig:
    """Every trainer option. ``core.plan`` chooses per data set; these are the values of
    whatever it does not choose (and of a Trainer built directly, as in the tests)."""

    loss: str = LOSS
    filters: int = 16
    depth: int = 4
    batch_norm: bool = True
    dropout: float = 0.0
    batch: int = 64
    crop: int = 32
    epochs: int = 10
    steps_per_epoch: int = 50
    minutes: float | None = None  # time budget: train until spent (epochs then only caps it)
    lr: float = LR
    lr_schedule: str = "cosine"  # over steps, or over the time budget with ``minutes``
    warmup_steps: int = 20
    clip_norm: float | None = 1.0
    seed: int = 0
    rare_fraction: float = 0.5
    repeat_threshold: float = 0.3
    class_power: float = 0.5
    focal_gamma: float = 2.0
    weight_strength: float = 1.0  # class weights ** strength; the trainer lowers it on a flood
    # act on collapse/flood alarms (ml.correction): off, since no benchmark run raised one
    # for it to act on (docs/ml.md); --self-correct turns it on
    self_correct: bool = False
    mixed_precision: str = "auto"  # "auto": only when a GPU is present
    jit_compile: bool | str = False
    prior_init: bool = True  # start the logits at the (weighted) class priors
    augment: str = DEFAULT_AUGMENT  # AUGMENT_PARTS joined with '+', or "none"

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}


DEFAULTS = TrainConfig()
