import math

import numpy as np
import pytest

from segstudio.core.metrics import (
    confusion_matrix,
    foreground_miou,
    per_class_dice,
    per_class_iou,
    pixel_accuracy,
    summarize,
)


def test_confusion_matrix_hand_computed():
    t = np.array([[0, 0, 1], [1, 2, 2]])
    p = np.array([[0, 1, 1], [0, 2, 0]])
    cm = confusion_matrix(t, p, 3)
    # rows truth, cols prediction
    assert cm.tolist() == [[1, 1, 0], [1, 1, 0], [1, 0, 1]]


def test_confusion_matrix_accumulates_over_batches_and_ignores():
    cm = np.zeros((3, 3), dtype=np.int64)
    confusion_matrix(np.array([0, 1, 255]), np.array([0, 1, 2]), 3, ignore_index=255, out=cm)
    confusion_matrix(np.array([2, 2, 1]), np.array([2, 0, 1]), 3, ignore_index=255, out=cm)
    assert cm.tolist() == [[1, 0, 0], [0, 2, 0], [1, 0, 1]]
    # an ignore id inside the class range counts nowhere either
    cm2 = confusion_matrix(np.array([0, 1, 2]), np.array([1, 1, 1]), 3, ignore_index=[2])
    assert cm2.sum() == 2


def test_iou_dice_accuracy_hand_computed():
    cm = np.array([[8, 1, 1], [2, 3, 0], [0, 0, 0]])
    iou = per_class_iou(cm)
    assert iou[0] == pytest.approx(8 / (8 + 2 + 2))
    assert iou[1] == pytest.approx(3 / (3 + 1 + 2))
    assert iou[2] == 0.0  # predicted once, never true: FP only
    dice = per_class_dice(cm)
    assert dice[1] == pytest.approx(6 / (6 + 1 + 2))
    assert pixel_accuracy(cm) == pytest.approx(11 / 15)


def test_absent_class_is_nan_and_skipped_by_foreground_mean():
    cm = np.array([[5, 0, 0], [0, 1, 1], [0, 0, 0]])
    cm[2, 2] = 0
    cm[1, 2] = 0
    iou = per_class_iou(cm)
    assert math.isnan(iou[2])
    assert foreground_miou(cm) == pytest.approx(1.0)


def test_background_everywhere_has_high_accuracy_and_zero_foreground_miou():
    truth = np.zeros((64, 64), dtype=np.uint8)
    truth[10:14, 10:14] = 3
    truth[40:42, 5:9] = 7
    pred = np.zeros_like(truth)
    cm = confusion_matrix(truth, pred, 8)
    assert pixel_accuracy(cm) > 0.99
    assert foreground_miou(cm) == 0.0


def test_foreground_miou_excludes_ignore_classes():
    iou = np.array([0.9, 0.5, 0.0, np.nan])
    assert foreground_miou(iou) == pytest.approx(0.25)
    assert foreground_miou(iou, ignore_ids=[2]) == pytest.approx(0.5)


def test_summarize_is_json_ready_with_nan_as_none():
    cm = np.array([[3, 0], [0, 0]])
    s = summarize(cm)
    assert s["per_class_iou"] == [1.0, None]
    assert s["fg_miou"] is None
    assert s["confusion"] == [[3, 0], [0, 0]]


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(np.zeros((2, 2)), np.zeros((3,)), 2)
