"""One brush dab on a 4096x4096 mask: overlay update by dirty rectangle vs whole re-render.

Runs the real canvas offscreen (the mask overlay shown fitted in a 1200x900 view), paints
dabs through the MaskModel, and times, per dab, until Qt has processed the repaint:

* dirty-rect: the model emits the changed rectangle; the overlay asks Qt to repaint that
  rectangle only (the indexed QImage wraps the label array, so nothing is re-rendered);
* full re-render: the overlay re-wraps the whole label array and the whole item repaints
  (what an overlay without change rectangles must do after every dab);
* RGBA rebuild: lut[labels] for the whole mask, then setImage (the anti-pattern).

Usage: python benchmarks/bench_paint.py [--size 4096] [--dabs 40] [--radius 12] [--json]
Target: dirty-rect >= 10x faster than full re-render and < 16 ms per dab (model + overlay).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--dabs", type=int, default=40)
    ap.add_argument("--radius", type=float, default=12.0)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)

    from PySide6 import QtCore, QtWidgets

    from segstudio.core.classes import ClassTable
    from segstudio.core.editing import MaskModel
    from segstudio.qt.app import make_app
    from segstudio.qt.canvas.image_canvas import ImageCanvas

    app = make_app()
    n = args.size
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (n, n), dtype=np.uint8)
    labels = np.zeros((n, n), np.uint8)
    labels[rng.integers(0, n, 2000), rng.integers(0, n, 2000)] = rng.integers(1, 32, 2000)
    table = ClassTable.from_ids(range(32))
    canvas = ImageCanvas()
    canvas.resize(1200, 900)
    canvas.show()
    canvas.set_table(table)
    model = MaskModel(labels)
    canvas.set_image(pixels, model)
    for _ in range(5):
        app.processEvents()
    overlay = canvas.mask_overlay
    med = statistics.median

    def settle() -> None:
        app.processEvents()  # handles the posted repaint of the view

    def run(mode: str, centres: np.ndarray) -> tuple[list[float], list[float]]:
        model_ms, overlay_ms = [], []
        if mode != "dirty":  # the canvas's own subscription would add the dirty-rect repaint
            canvas._unsubscribe()  # benchmark drives the overlay itself
        for k, (x, y) in enumerate(centres):
            t0 = time.perf_counter()
            with model.stroke():
                model.paint_segment((x, y), (x, y), args.radius, 1 + k % 31)
            t1 = time.perf_counter()
            if mode == "full":
                overlay.refresh_all()
            elif mode == "rgba":
                overlay.setImage(table.lut_rgba()[model.labels], autoLevels=False, lut=None)
            settle()
            t2 = time.perf_counter()
            model_ms.append((t1 - t0) * 1e3)
            overlay_ms.append((t2 - t1) * 1e3)
        if mode != "dirty":
            canvas._unsubscribe = model.subscribe(canvas._on_mask_change)
            overlay.set_labels(model.labels)
        return model_ms, overlay_ms

    def measure(view: str) -> dict:
        """``view``: 'fit' (whole mask in the window) or '1:1' (one mask pixel per screen pixel)."""
        model.reset(labels.copy())
        canvas.set_image(pixels, model, fit=True)
        lo, hi = args.radius, n - args.radius
        if view == "1:1":
            w, h = canvas.viewport().width(), canvas.viewport().height()
            x0, y0 = (n - w) / 2, (n - h) / 2
            canvas.viewbox.setRange(QtCore.QRectF(x0, y0, w, h), padding=0)
            centres = np.column_stack([rng.uniform(x0 + 20, x0 + w - 20, args.dabs),
                                       rng.uniform(y0 + 20, y0 + h - 20, args.dabs)])
        else:
            centres = rng.uniform(lo, hi, (args.dabs, 2))
        for _ in range(3):
            settle()
        # dirty-rect: refresh_rect runs inside the model's change event (so inside the model
        # time); it is timed on its own and added to the overlay time: counted twice, to be safe
        rect_ms: list[float] = []
        orig = overlay.refresh_rect

        def timed_refresh(rect):
            t = time.perf_counter()
            orig(rect)
            rect_ms.append((time.perf_counter() - t) * 1e3)

        overlay.refresh_rect = timed_refresh
        model_dirty, paint_dirty = run("dirty", centres)
        overlay.refresh_rect = orig
        _, full = run("full", centres)
        _, rgba = run("rgba", centres[: max(3, args.dabs // 4)])  # slow: fewer dabs
        dab_model = med(model_dirty)
        dirty = med(paint_dirty) + med(rect_ms)
        return {
            "view": view,
            "model_dab_ms": round(dab_model, 3),
            "overlay_dirty_rect_ms": round(dirty, 3),
            "overlay_full_rerender_ms": round(med(full), 3),
            "overlay_rgba_rebuild_ms": round(med(rgba), 3),
            "speedup_vs_full": round(med(full) / dirty, 1),
            "speedup_vs_rgba": round(med(rgba) / dirty, 1),
            "dab_total_ms": round(dab_model + dirty, 3),
        }

    results = [measure("fit"), measure("1:1")]
    canvas.close()
    ok = all(r["speedup_vs_full"] >= 10 and r["dab_total_ms"] < 16 for r in results)
    if args.json:
        print(json.dumps({"mask": f"{n}x{n}", "dabs": args.dabs, "radius_px": args.radius,
                          "views": results, "target_met": ok}))
    else:
        print(f"one dab (radius {args.radius:g} px) on a {n}x{n} mask in a 1200x900 view, "
              f"median of {args.dabs} dabs (RGBA: {max(3, args.dabs // 4)}):")
        for r in results:
            print(f" view {r['view']}:")
            print(f"  model edit (paint + diff record)   {r['model_dab_ms']:8.3f} ms")
            print(f"  overlay, dirty rectangle           {r['overlay_dirty_rect_ms']:8.3f} ms")
            print(f"  overlay, full re-render            {r['overlay_full_rerender_ms']:8.3f} ms"
                  f"   ({r['speedup_vs_full']}x slower)")
            print(f"  overlay, full RGBA rebuild         {r['overlay_rgba_rebuild_ms']:8.3f} ms"
                  f"   ({r['speedup_vs_rgba']}x slower)")
            print(f"  per dab, model + dirty overlay     {r['dab_total_ms']:8.3f} ms")
        print(f"target (dirty-rect >= 10x faster than full re-render, < 16 ms per dab): "
              f"{'met' if ok else 'NOT met'}")
    QtWidgets.QApplication.processEvents()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
