"""Magic wand, preserve labels, the accept brush and lasso, typed class ids: pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from segstudio.core.class_keys import DigitBuffer, step_class
from segstudio.core.editing import MaskModel, capsule_region, rasterize_polygon
from segstudio.core.regions import intensity_distance, wand_region
from segstudio.core.tools import PointerEvent, Tool, ToolDriver, ToolSettings


def drive(driver, *events):
    for kind, x, y in events:
        driver.handle(PointerEvent(kind, x, y, "left"))


def test_wand_takes_connected_pixels_within_the_tolerance():
    img = np.full((32, 32), 200, np.uint8)
    img[4:12, 4:12] = 100  # the blob: 100 with a ramp up to 108 ...
    img[4:12, 11] = 108
    img[20:24, 20:24] = 101  # ... a similar blob that does not touch it
    region = wand_region(img, 6, 6, tolerance=8)
    assert region[4:12, 4:12].all() and region.sum() == 64
    assert not wand_region(img, 6, 6, tolerance=7)[:, 11].any()  # 108 is 8 away
    assert not region[20:24, 20:24].any()  # within tolerance but not connected


def test_wand_connectivity_and_rgb_max_channel_distance():
    img = np.zeros((8, 8), np.uint16)
    img[2, 2] = img[3, 3] = 1000  # diagonal neighbours
    assert wand_region(img, 2, 2, 0, connectivity=4).sum() == 1
    assert wand_region(img, 2, 2, 0, connectivity=8).sum() == 2
    rgb = np.zeros((8, 8, 3), np.uint8)
    rgb[:, 4:] = (5, 5, 30)  # one channel far away: not similar at tolerance 10
    assert intensity_distance(rgb, 0, 0)[0, 5] == 30
    assert wand_region(rgb, 0, 0, 10).sum() == 32
    assert wand_region(rgb, 0, 0, 30).sum() == 64
    with pytest.raises(ValueError):
        wand_region(img, 0, 0, 1, connectivity=6)


def test_wand_tool_fills_one_undo_step_and_handles_a_megapixel_image():
    img = np.zeros((1024, 1024), np.uint8)
    img[100:900, 100:900] = 50
    m = MaskModel(np.zeros(img.shape, np.uint8))
    d = ToolDriver(m, ToolSettings(tool=Tool.WAND, label=5, tolerance=3), image=img)
    drive(d, ("press", 500.5, 500.5), ("release", 500.5, 500.5))
    assert (m.labels == 5).sum() == 800 * 800 and m.undo_depth == 1
    m.undo()
    assert not m.labels.any()


@pytest.mark.parametrize("tool", [Tool.BRUSH, Tool.FILL, Tool.POLYGON, Tool.WAND])
def test_paint_over_background_only_keeps_other_classes(tool):
    labels = np.zeros((32, 32), np.uint8)
    labels[:, 16:] = 2
    m = MaskModel(labels)
    d = ToolDriver(m, ToolSettings(tool=tool, label=7, size=64, paint_over=0), image=np.zeros((32, 32), np.uint8))
    if tool == Tool.POLYGON:
        drive(d, ("press", 0, 0), ("move", 32, 0), ("move", 32, 32), ("move", 0, 32), ("release", 0, 32))
    else:
        drive(d, ("press", 8.5, 8.5), ("release", 8.5, 8.5))
    assert (m.labels[:, :16] == 7).all() and (m.labels[:, 16:] == 2).all()


def test_paint_over_one_class_and_the_eraser_ignores_it():
    labels = np.zeros((16, 16), np.uint8)
    labels[:8] = 3
    labels[8:] = 4
    m = MaskModel(labels)
    with m.stroke("paint", only_over=3):
        m.paint_segment((8, 0), (8, 16), radius=20, value=9)
    assert (m.labels[:8] == 9).all() and (m.labels[8:] == 4).all()
    m.undo()
    d = ToolDriver(m, ToolSettings(tool=Tool.ERASER, size=64, paint_over=3))
    drive(d, ("press", 8, 8), ("release", 8, 8))
    assert not m.labels.any()  # erasing is not restricted
    with m.stroke("paint"):  # the restriction ends with its stroke
        m.paint_segment((8, 8), (8, 8), radius=20, value=1)
    assert (m.labels == 1).all()


def prediction_and_model():
    pred = np.zeros((32, 32), np.uint8)
    pred[:, :] = 5
    labels = np.ones((32, 32), np.uint8)
    return pred, MaskModel(labels)


def test_accept_brush_copies_the_prediction_under_the_stroke_only():
    pred, m = prediction_and_model()
    pred[10, 12] = 1  # the prediction agrees with the mask here
    d = ToolDriver(m, ToolSettings(tool=Tool.ACCEPT_BRUSH, size=3), prediction=pred)
    drive(d, ("press", 4.5, 10.5), ("move", 12.5, 10.5), ("move", 20.5, 10.5), ("release", 20.5, 10.5))
    rect, inside = capsule_region((4.5, 10.5), (20.5, 10.5), 1.5, m.shape)  # the swept brush
    box = np.zeros((32, 32), bool)
    box[rect.slices] = inside
    assert box[9:12, 3:22].all() and box.sum() == 3 * 19
    np.testing.assert_array_equal(m.labels[box], pred[box])
    assert (m.labels[~box] == 1).all()
    assert m.undo_depth == 1
    m.undo()
    assert (m.labels == 1).all()
    # no prediction shown: the tool does nothing
    d.prediction = None
    drive(d, ("press", 4.5, 10.5), ("release", 4.5, 10.5))
    assert (m.labels == 1).all() and not d.busy


def test_accept_lasso_copies_the_prediction_inside_the_drawn_shape():
    pred, m = prediction_and_model()
    pred[::2] = 6  # rows alternate, so a wrong copy shows
    d = ToolDriver(m, ToolSettings(tool=Tool.ACCEPT_LASSO), prediction=pred)
    lasso = [(4, 4), (20, 4), (20, 16), (4, 16)]
    drive(d, ("press", *lasso[0]), *[("move", x, y) for x, y in lasso[1:]], ("release", *lasso[-1]))
    box, inside = rasterize_polygon(lasso, m.shape)
    region = np.zeros((32, 32), bool)
    region[box.slices] = inside
    assert region.sum() == 16 * 12
    np.testing.assert_array_equal(m.labels[region], pred[region])
    assert (m.labels[~region] == 1).all() and m.undo_depth == 1
    m.undo()
    assert (m.labels == 1).all()


def test_typed_digits_select_two_digit_ids_in_time():
    keys, ids = DigitBuffer(timeout=0.8), set(range(32))
    assert keys.press("1", 10.0, ids) == 1
    assert keys.press("7", 10.5, ids) == 17
    assert keys.press("3", 10.9, ids) == 3  # 173 is no class: the digit starts afresh
    assert keys.press("1", 11.2, ids) == 31
    assert keys.press("2", 11.5, ids) == 2  # 312 is none either
    assert keys.press("5", 20.0, ids) == 5  # too late to continue
    assert keys.press("0", 20.1, ids) == 0  # 50 is none: background
    assert keys.press("9", 30.0, {0, 1}) is None


def test_step_class_wraps_round():
    assert step_class([0, 1, 2, 5], 2, +1) == 5
    assert step_class([0, 1, 2, 5], 5, +1) == 0
    assert step_class([0, 1, 2, 5], 0, -1) == 5
    assert step_class([0, 1], 9, +1) == 0 and step_class([], 1, 1) is None
