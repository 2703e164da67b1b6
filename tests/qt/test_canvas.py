"""Canvas + overlay on synthetic arrays: the dirty-rectangle path really repaints what the
user sees, and only re-renders nothing; recolouring is a colour-table change."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6 import QtCore, QtGui, QtWidgets

from segstudio.core.classes import ClassInfo, ClassTable
from segstudio.core.editing import MaskModel


@pytest.fixture
def canvas(qtbot):
    from segstudio.qt.app import make_app
    from segstudio.qt.canvas.image_canvas import ImageCanvas

    make_app()
    c = ImageCanvas()
    qtbot.addWidget(c)
    c.resize(400, 400)
    c.show()
    qtbot.waitExposed(c)
    table = ClassTable([ClassInfo(0, "bg", (0, 0, 0)), ClassInfo(1, "red", (255, 0, 0)),
                        ClassInfo(2, "void", (0, 255, 0), ignore=True)])
    c.set_table(table)
    c.set_overlay_opacity(1.0)
    model = MaskModel(np.zeros((200, 200), np.uint8))
    c.set_image(np.full((200, 200), 128, np.uint8), model)
    c.set_levels(0, 255)
    qtbot.waitUntil(lambda: on_screen(c, 10.5, 10.5)[0] > 100)  # first paint done: gray shows
    return c, model


def on_screen(c, x, y):
    """The pixel as last painted into the window's backing store (not a fresh render)."""
    QtWidgets.QApplication.processEvents()
    win = c.window().windowHandle()
    img = win.screen().grabWindow(c.window().winId()).toImage()
    scene = c.viewbox.mapViewToScene(QtCore.QPointF(x, y))
    p = c.mapTo(c.window(), c.mapFromScene(scene))
    col = img.pixelColor(p)
    return col.red(), col.green(), col.blue()


def test_edit_repaints_only_its_rectangle_without_rerendering(canvas, monkeypatch):
    c, model = canvas
    before = on_screen(c, 100.5, 100.5)
    assert 100 < before[0] < 160  # the gray image
    renders, updates = [], []
    monkeypatch.setattr(c.mask_overlay, "render", lambda: renders.append(1))
    orig_update = c.mask_overlay.update
    monkeypatch.setattr(c.mask_overlay, "update", lambda *a: (updates.append(a), orig_update(*a)))
    with model.stroke():
        model.paint_segment((100.5, 100.5), (100.5, 100.5), radius=5, value=1)
    assert updates and updates[-1][0] == QtCore.QRectF(95, 95, 11, 11)
    after = on_screen(c, 100.5, 100.5)
    assert after != before and after[0] > 200 and after[1] < 60
    assert on_screen(c, 20.5, 20.5) == before  # elsewhere unchanged
    assert not renders  # the indexed QImage wraps the labels: nothing was re-rendered
    model.undo()
    assert on_screen(c, 100.5, 100.5) == before


def test_background_and_ignore_are_transparent_and_recolour_is_a_lut_change(canvas):
    c, model = canvas
    gray = on_screen(c, 50.5, 50.5)
    with model.stroke():
        model.paint_segment((50.5, 50.5), (50.5, 50.5), radius=4, value=2)  # ignore class
    assert on_screen(c, 50.5, 50.5) == gray
    with model.stroke():
        model.paint_segment((150.5, 150.5), (150.5, 150.5), radius=4, value=1)
    c.set_table(ClassTable([ClassInfo(0, "bg", (0, 0, 0)), ClassInfo(1, "blue", (0, 0, 255))]))
    r, g, b = on_screen(c, 150.5, 150.5)
    assert b > 200 and r < 60


def test_uint16_masks_are_shown_through_a_uint8_copy(canvas):
    c, _ = canvas
    model = MaskModel(np.zeros((200, 200), np.uint16))
    c.set_image(np.full((200, 200), 30000, np.uint16), model)
    c.set_levels(0, 65535)
    with model.stroke():
        model.paint_segment((60.5, 60.5), (60.5, 60.5), radius=4, value=1)
    r, g, b = on_screen(c, 60.5, 60.5)
    assert r > 200 and g < 60


def test_brush_outline_follows_the_size(canvas, qtbot):
    c, _ = canvas
    c.set_brush_size(20)
    pos = QtCore.QPointF(c.mapFromScene(c.viewbox.mapViewToScene(QtCore.QPointF(80, 80))))
    vp = c.viewport()
    # a real move event (QTest.mouseMove is skipped when the pointer is already there)
    QtCore.QCoreApplication.sendEvent(vp, QtGui.QMouseEvent(
        QtCore.QEvent.Type.MouseMove, pos, vp.mapToGlobal(pos), QtCore.Qt.MouseButton.NoButton,
        QtCore.Qt.MouseButton.NoButton, QtCore.Qt.KeyboardModifier.NoModifier))
    rect = c.brush_outline.rect()
    assert c.brush_outline.isVisible()
    assert rect.width() == pytest.approx(20) and rect.center().x() == pytest.approx(80, abs=1.5)
