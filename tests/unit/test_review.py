"""core.review: rare classes, review scores and ranking, highlight maps, accepting, corrections."""

import numpy as np
import pytest

from segstudio.core import review


def test_rare_classes_from_pixel_shares():
    px = [9_800, 150, 40, 0, 10]  # class 1 is 1.5 %: not rare; 3 absent -> rare
    assert review.rare_class_ids(px) == [2, 3, 4]
    assert review.rare_class_ids(px, ignore_ids=[4]) == [2, 3]
    assert review.rare_class_ids(px, share=0.02) == [1, 2, 3, 4]
    assert review.rare_class_ids([0, 0, 0]) == [1, 2]


def test_scores_uncertainty_on_rare_pixels_and_disagreement():
    classes = np.zeros((4, 4), np.uint8)
    classes[0, :2] = 2  # two pixels predicted rare class 2
    conf = np.full((4, 4), 0.9, np.float32)
    conf[0, 0], conf[0, 1] = 0.5, 0.7
    labels = np.zeros((4, 4), np.uint8)
    labels[0, 0] = 2  # agrees
    labels[3, 3] = 2  # missed by the model
    labels[1, 1] = 255  # ignore
    s = review.score_prediction(classes, conf, labels, rare_ids=[2], ignore_ids=[255])
    assert s.rare_pixels == 2
    assert s.rare_uncertainty == pytest.approx(((1 - 0.5) + (1 - 0.7)) / 2)
    # rare pixels in mask or prediction: (0,0) (0,1) (3,3); differ at (0,1) and (3,3)
    assert s.disagreement == pytest.approx(2 / 3)
    assert s.score == pytest.approx(s.rare_uncertainty + 2 / 3)
    assert s.mean_confidence == pytest.approx(conf.mean())
    unlabelled = review.score_prediction(classes, conf, None, rare_ids=[2])
    assert unlabelled.disagreement is None and unlabelled.score == pytest.approx(s.rare_uncertainty)


def test_no_rare_pixels_scores_zero():
    s = review.score_prediction(np.zeros((3, 3), np.uint8), np.full((3, 3), 0.2), None, rare_ids=[1])
    assert s.rare_pixels == 0 and s.rare_uncertainty == 0.0 and s.score == 0.0


def test_rank_most_useful_first_ties_by_id():
    assert review.rank([(3, 0.2), (1, 0.9), (2, 0.2)]) == [(1, 0.9), (2, 0.2), (3, 0.2)]


def test_highlight_maps():
    conf = np.array([[0.1, 0.95], [0.59, 0.6]], np.float32)
    assert review.low_confidence_map(conf, 0.6).tolist() == [[1, 0], [1, 0]]
    classes = np.array([[1, 2], [0, 0]], np.uint8)
    labels = np.array([[1, 3], [255, 0]], np.uint8)
    assert review.disagreement_map(classes, labels, [255]).tolist() == [[0, 1], [0, 0]]
    assert review.disagreement_map(classes, labels).tolist() == [[0, 1], [1, 0]]


def test_accept_where_whole_and_region():
    classes = np.array([[1, 1], [2, 0]], np.uint8)
    labels = np.array([[1, 0], [0, 0]], np.uint8)
    assert review.accept_where(classes, labels).tolist() == [[False, True], [True, False]]
    region = np.array([[True, True], [False, False]])
    assert review.accept_where(classes, labels, region).tolist() == [[False, True], [False, False]]
    with pytest.raises(ValueError):
        review.accept_where(classes, labels, np.ones((3, 3), bool))


def test_corrected_pixels_accumulate_and_weights():
    ref = np.zeros((3, 3), np.uint8)
    saved = ref.copy()
    saved[0, 0] = 4
    first = review.corrected_pixels(saved, ref)
    assert first.sum() == 1
    saved2 = ref.copy()
    saved2[2, 2] = 1
    both = review.corrected_pixels(saved2, ref, first)
    assert both[0, 0] and both[2, 2] and both.sum() == 2
    w = review.pixel_weights(both, 5.0, (3, 3))
    assert w.dtype == np.float32 and w[0, 0] == 5.0 and w[1, 1] == 1.0 and w.sum() == 7 + 10
    assert review.pixel_weights(both, 1.0) is None
    assert review.pixel_weights(np.zeros((3, 3), bool), 5.0) is None
    assert review.pixel_weights(both, 5.0, (4, 4)) is None  # image changed size
    with pytest.raises(ValueError):
        review.corrected_pixels(saved, np.zeros((2, 2), np.uint8))


def test_outline_keeps_borders_only():
    c = np.zeros((5, 5), np.uint8)
    c[1:4, 1:4] = 3
    o = review.outline(c)
    assert o[2, 2] == 0  # inside
    assert o[1, 1] == 3 and o[1, 2] == 3
    assert set(np.unique(o)) == {0, 3}
