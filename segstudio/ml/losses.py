"""Imbalance-aware segmentation losses on sparse integer targets.

Every loss takes ``y_true`` as integer class maps (B,H,W) or (B,H,W,1) -- never
one-hot -- and ``y_pred`` as softmax probabilities (B,H,W,C). Pixels equal to
``ignore_index`` (and ids outside 0..C-1) count nowhere. The definitions are the
ones PyTorch and MONAI use, so numbers compare across tools. Each loss reduces
the whole batch to one scalar itself (the normalisations below are global, not
per-sample means), and ``sample_weight`` is accepted as a per-pixel weight map
(B,H,W) that multiplies each pixel's contribution -- the hook for weighing up
corrected pixels.

Only ``keras.ops`` is used, so the losses also run on the JAX backend.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import ops

from segstudio.ml.config import LOSS_PARTS

_EPS = 1e-7

__all__ = [
    "WeightedCrossEntropy",
    "FocalLoss",
    "DiceLoss",
    "GeneralizedDiceLoss",
    "TverskyLoss",
    "SumLoss",
    "NAMES",
    "get",
]


def _prepare(y_true, y_pred, ignore_index, sample_weight):
    """-> (labels int32 (B,H,W) with ignored set to 0, pixel weights float32 (B,H,W), probs f32)."""
    y_pred = ops.cast(y_pred, "float32")
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == len(y_pred.shape):  # (B,H,W,1)
        y_true = ops.squeeze(y_true, axis=-1)
    labels = ops.cast(y_true, "int32")
    num_classes = y_pred.shape[-1]
    valid = ops.logical_and(labels >= 0, labels < num_classes)
    if ignore_index is not None:
        valid = ops.logical_and(valid, labels != int(ignore_index))
    labels = ops.where(valid, labels, ops.zeros_like(labels))
    pix_w = ops.cast(valid, "float32")
    if sample_weight is not None:
        sw = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
        if len(sw.shape) == len(y_pred.shape):
            sw = ops.squeeze(sw, axis=-1)
        pix_w = pix_w * sw
    return labels, pix_w, y_pred


def _class_sums(labels, pix_w, y_pred):
    """Per-class (sum p_c g_c, sum p_c, sum g_c) over batch and pixels, without one-hot."""
    num_classes = y_pred.shape[-1]
    flat_labels = ops.reshape(labels, (-1,))
    flat_w = ops.reshape(pix_w, (-1,))
    flat_p = ops.reshape(y_pred, (-1, num_classes))
    p_true = ops.take_along_axis(flat_p, flat_labels[:, None], axis=-1)[:, 0]
    tp = ops.segment_sum(p_true * flat_w, flat_labels, num_segments=num_classes)
    g = ops.segment_sum(flat_w, flat_labels, num_segments=num_classes)
    p = ops.sum(flat_p * flat_w[:, None], axis=0)
    return tp, p, g


def _weighted_nll(labels, pix_w, y_pred, class_weights, gamma):
    p_true = ops.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
    p_true = ops.clip(p_true, _EPS, 1.0)
    w = pix_w
    if class_weights is not None:
        w = w * ops.take(ops.cast(class_weights, "float32"), labels)
    term = -ops.log(p_true)
    if gamma:
        term = term * ops.power(1.0 - p_true, gamma)
    total = ops.sum(w)
    return ops.where(total > 0, ops.sum(w * term) / ops.maximum(total, _EPS), 0.0)


class _SegLoss(keras.losses.Loss):
    """Base: sparse targets, ignore_index, a scalar per batch, per-pixel sample weights."""

    def __init__(self, ignore_index: int | None = None, name: str | None = None, **kwargs):
        kwargs.pop("reduction", None)
        super().__init__(name=name, reduction="sum_over_batch_size", **kwargs)
        self.ignore_index = None if ignore_index is None else int(ignore_index)

    def __call__(self, y_true, y_pred, sample_weight=None):
        labels, pix_w, probs = _prepare(y_true, y_pred, self.ignore_index, sample_weight)
        return self.compute(labels, pix_w, probs)

    def call(self, y_true, y_pred):
        labels, pix_w, probs = _prepare(y_true, y_pred, self.ignore_index, None)
        return self.compute(labels, pix_w, probs)

    def compute(self, labels, pix_w, probs):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name, "ignore_index": self.ignore_index}


class _ClassWeighted(_SegLoss):
    """Class weights live in a non-trainable variable: ``set_class_weights`` changes them
    between steps without re-tracing the training step (the self-correcting trainer)."""

    def _init_weights(self, class_weights):
        self.class_weights = None if class_weights is None else [float(w) for w in class_weights]
        self._weights = None if class_weights is None else keras.Variable(
            self.class_weights, trainable=False, dtype="float32", name="class_weights")

    def set_class_weights(self, class_weights: Sequence[float]) -> None:
        if self._weights is None:
            raise ValueError(f"{self.name} was built without class weights")
        self.class_weights = [float(w) for w in class_weights]
        self._weights.assign(self.class_weights)


@keras.saving.register_keras_serializable(package="segstudio")
class WeightedCrossEntropy(_ClassWeighted):
    """Σ w[y]·(−log p_y) / Σ w[y] over non-ignored pixels (PyTorch ``cross_entropy(weight=...)``).

    Args:
        class_weights: length-C weights, or None for plain cross-entropy.
        ignore_index: class id whose pixels count nowhere.

    Examples:
        >>> loss = WeightedCrossEntropy([1.0, 4.0], ignore_index=255)
        >>> float(loss(np.array([[[0, 1]]]), np.array([[[[0.5, 0.5], [0.5, 0.5]]]])))  # doctest: +SKIP
        0.6931...
    """

    def __init__(self, class_weights: Sequence[float] | None = None, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "weighted_cross_entropy", **kw)
        self._init_weights(class_weights)

    def compute(self, labels, pix_w, probs):
        return _weighted_nll(labels, pix_w, probs, self._weights, 0.0)

    def get_config(self):
        return {**super().get_config(), "class_weights": self.class_weights}


@keras.saving.register_keras_serializable(package="segstudio")
class FocalLoss(_ClassWeighted):
    """Σ w[y]·(1−p_y)^γ·(−log p_y) / Σ w[y]; γ=0 is ``WeightedCrossEntropy``."""

    def __init__(self, gamma: float = 2.0, class_weights=None, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "focal_loss", **kw)
        self.gamma = float(gamma)
        self._init_weights(class_weights)

    def compute(self, labels, pix_w, probs):
        return _weighted_nll(labels, pix_w, probs, self._weights, self.gamma)

    def get_config(self):
        return {**super().get_config(), "gamma": self.gamma, "class_weights": self.class_weights}


@keras.saving.register_keras_serializable(package="segstudio")
class DiceLoss(_SegLoss):
    """1 − mean_c (2Σ p_c g_c + s)/(Σ p_c + Σ g_c + s), sums over batch and pixels, all C classes."""

    def __init__(self, smooth: float = 1e-5, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "dice_loss", **kw)
        self.smooth = float(smooth)

    def compute(self, labels, pix_w, probs):
        tp, p, g = _class_sums(labels, pix_w, probs)
        dice = (2.0 * tp + self.smooth) / (p + g + self.smooth)
        return 1.0 - ops.mean(dice)

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="segstudio")
class GeneralizedDiceLoss(_SegLoss):
    """Sudre et al. 2017: w_c = 1/(Σ g_c)², absent classes take the largest finite w.

    1 − (2 Σ_c w_c Σ p_c g_c + s) / (Σ_c w_c Σ (p_c + g_c) + s)
    """

    def __init__(self, smooth: float = 1e-5, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "generalized_dice_loss", **kw)
        self.smooth = float(smooth)

    def compute(self, labels, pix_w, probs):
        tp, p, g = _class_sums(labels, pix_w, probs)
        present = g > 0
        w = 1.0 / ops.square(ops.where(present, g, ops.ones_like(g)))
        w_max = ops.max(ops.where(present, w, ops.zeros_like(w)))
        w_max = ops.where(w_max > 0, w_max, 1.0)  # nothing present: all weights equal
        w = ops.where(present, w, w_max)
        num = 2.0 * ops.sum(w * tp) + self.smooth
        den = ops.sum(w * (p + g)) + self.smooth
        return 1.0 - num / den

    def get_config(self):
        return {**super().get_config(), "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="segstudio")
class TverskyLoss(_SegLoss):
    """1 − mean_c (TP_c + s)/(TP_c + α FP_c + β FN_c + s); α weighs false positives, β false negatives."""

    def __init__(self, alpha=0.5, beta=0.5, smooth=1e-5, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "tversky_loss", **kw)
        self.alpha, self.beta, self.smooth = float(alpha), float(beta), float(smooth)

    def compute(self, labels, pix_w, probs):
        tp, p, g = _class_sums(labels, pix_w, probs)
        fp, fn = p - tp, g - tp
        t = (tp + self.smooth) / (tp + self.alpha * fp + self.beta * fn + self.smooth)
        return 1.0 - ops.mean(t)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta, "smooth": self.smooth}


@keras.saving.register_keras_serializable(package="segstudio")
class SumLoss(_SegLoss):
    """The sum of several of the losses above (e.g. weighted CE + Dice)."""

    def __init__(self, losses: Sequence, ignore_index=None, name=None, **kw):
        super().__init__(ignore_index=ignore_index, name=name or "sum_loss", **kw)
        self.losses = [
            keras.saving.deserialize_keras_object(x) if isinstance(x, dict) else x for x in losses
        ]

    def __call__(self, y_true, y_pred, sample_weight=None):
        total = 0.0
        for loss in self.losses:
            total = total + loss(y_true, y_pred, sample_weight=sample_weight)
        return total

    def compute(self, labels, pix_w, probs):
        total = 0.0
        for loss in self.losses:
            total = total + loss.compute(labels, pix_w, probs)
        return total

    def get_config(self):
        return {
            **super().get_config(),
            "losses": [keras.saving.serialize_keras_object(x) for x in self.losses],
        }


#: name -> one line on what it does (CLI help, README); defined Keras-free in ml.config.
NAMES: dict[str, str] = LOSS_PARTS


def set_class_weights(loss: keras.losses.Loss, class_weights: Sequence[float]) -> int:
    """Give every class-weighted part of ``loss`` new weights; returns how many parts took them."""
    parts = loss.losses if isinstance(loss, SumLoss) else [loss]
    n = 0
    for part in parts:
        if isinstance(part, _ClassWeighted) and part.class_weights is not None:
            part.set_class_weights(class_weights)
            n += 1
    return n


def get(
    spec: str,
    class_weights: Sequence[float] | None = None,
    ignore_index: int | None = None,
    **options,
) -> keras.losses.Loss:
    """Build a loss from a name or a '+'-joined sum of names, e.g. ``"wce+dice"``.

    Options go to the parts that take them (``gamma``, ``smooth``, ``alpha``, ``beta``).
    """
    parts = [p.strip().lower() for p in spec.split("+") if p.strip()]
    if not parts:
        raise ValueError("empty loss name")
    built = []
    for name in parts:
        if name == "ce":
            built.append(WeightedCrossEntropy(None, ignore_index))
        elif name == "wce":
            built.append(WeightedCrossEntropy(class_weights, ignore_index))
        elif name == "focal":
            built.append(FocalLoss(options.get("gamma", 2.0), class_weights, ignore_index))
        elif name == "dice":
            built.append(DiceLoss(options.get("smooth", 1e-5), ignore_index))
        elif name == "gdice":
            built.append(GeneralizedDiceLoss(options.get("smooth", 1e-5), ignore_index))
        elif name == "tversky":
            built.append(
                TverskyLoss(
                    options.get("alpha", 0.5), options.get("beta", 0.5),
                    options.get("smooth", 1e-5), ignore_index,
                )
            )
        else:
            raise ValueError(f"unknown loss {name!r}; choose from {', '.join(NAMES)} joined by '+'")
    return built[0] if len(built) == 1 else SumLoss(built, ignore_index, name=spec)
