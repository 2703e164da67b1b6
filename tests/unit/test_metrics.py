import math

import numpy as np
import pytest

from segstudio.core.metrics import (
    confusion_matrix,
    edge_confusion,
    edge_error_share,
    edge_tolerant_iou,
    foreground_miou,
    near_label_edge,
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


def _square_and_shifted():
    truth = np.zeros((8, 8), np.uint8)
    truth[2:6, 2:6] = 1
    pred = np.zeros_like(truth)
    pred[2:6, 3:7] = 1  # the outline drawn one pixel to the right
    return truth, pred


def test_near_label_edge_is_the_band_on_both_sides_of_an_outline():
    truth, _ = _square_and_shifted()
    band = near_label_edge(truth, 1)
    assert band.sum() == 6 * 6 - 2 * 2  # rows/cols 1..6 minus the 2x2 interior
    assert not band[0].any() and not band[3:5, 3:5].any() and band[1, 1] and band[5, 5]
    assert near_label_edge(truth, 2).sum() == 8 * 8 - 0  # 2 px reaches every pixel here
    assert not near_label_edge(np.zeros((5, 5), np.uint8)).any()


def test_an_outline_one_pixel_off_is_all_edge_error_and_a_far_miss_is_not():
    truth, pred = _square_and_shifted()
    cm, edge = confusion_matrix(truth, pred, 2), edge_confusion(truth, pred, 2)
    assert per_class_iou(cm)[1] == pytest.approx(12 / 20)
    assert edge_error_share(cm, edge).tolist() == [1.0, 1.0]
    assert edge_tolerant_iou(cm, edge).tolist() == [1.0, 1.0]
    pred[7, 0] = 1  # a false pixel far from every outline
    cm, edge = confusion_matrix(truth, pred, 2), edge_confusion(truth, pred, 2)
    assert edge_error_share(cm, edge) == pytest.approx([8 / 9, 8 / 9])
    assert edge_tolerant_iou(cm, edge) == pytest.approx([43 / 44, 12 / 13])


def test_edge_confusion_ignores_like_the_confusion_matrix_and_summarize_reports_it():
    truth, pred = _square_and_shifted()
    truth[2:6, 2] = 255  # the left column of the square unlabelled
    cm, edge = confusion_matrix(truth, pred, 2, 255), edge_confusion(truth, pred, 2, 255)
    assert edge.sum() < cm.sum() and 255 not in np.unique(edge)
    out = summarize(cm, edge_cm=edge)
    assert out["edge_tolerance_px"] == 1
    assert out["edge_tolerant_iou"] == pytest.approx([1.0, 1.0])
    assert "edge_error_share" not in summarize(cm)
