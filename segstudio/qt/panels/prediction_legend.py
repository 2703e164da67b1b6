"""What the colours and line styles on the canvas mean when a prediction is shown: a short
HTML legend for the predictions panel, naming the predicted classes with their colours."""

from __future__ import annotations

import html

import numpy as np

from segstudio.core.classes import ClassTable

#: predicted classes named in the legend (the largest first); the rest are counted
LEGEND_CLASSES = 5


def predicted_classes(classes: np.ndarray, hidden=frozenset()) -> list[int]:
    """Foreground ids present in a predicted class map, most pixels first (hidden ones left out)."""
    counts = np.bincount(np.asarray(classes).ravel())
    ids = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] and i != 0 and i not in hidden]
    return ids


def prediction_legend(table: ClassTable, classes: np.ndarray | None, view: str, hidden=frozenset()) -> str:
    """HTML: how the mask and the prediction are drawn in ``view`` ('mask', 'prediction',
    'both') and which colour is which predicted class; '' when no prediction is drawn."""
    if classes is None or view == "mask":
        return ""
    if view == "both":
        head = "Mask: fill + 1-px edge · prediction: <b>2-px outlines</b>"
        mark = "□"
    else:
        head = "Prediction: <b>filled</b> (mask hidden)"
        mark = "■"
    ids = predicted_classes(classes, hidden)
    items = []
    for cid in ids[:LEGEND_CLASSES]:
        info = table.get(cid)
        colour = info.hex if info else "#888888"
        name = html.escape(info.name) if info else "?"
        items.append(f"<span style='color:{colour}'><b>{mark}</b></span>&nbsp;{cid}&nbsp;{name}")
    if len(ids) > LEGEND_CLASSES:
        items.append(f"+{len(ids) - LEGEND_CLASSES} more")
    if not items:
        items.append("background only")
    return head + "<br>" + " &nbsp; ".join(items)
