"""The status bar's readout of the pixel under the cursor: position, image value, the mask's
class and, when a prediction is shown, the predicted class and the model's confidence.

A function of plain values (the window passes what the sessions hold), so it is tested
without a window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from segstudio.core.classes import ClassTable

if TYPE_CHECKING:
    from segstudio.services.prediction_cache import CachedPrediction


def class_name(table: ClassTable, class_id: int) -> str:
    info = table.get(class_id)
    return f"{class_id} {info.name if info else '?'}"


def cursor_text(x: int, y: int, pixels: np.ndarray | None, labels: np.ndarray | None, table: ClassTable,
                prediction: CachedPrediction | None = None) -> str:
    """'x 12, y 40   value 128   mask: 3 vesicle · predicted: 3 vesicle 87%' ('' off the image)."""
    if x < 0 or y < 0 or pixels is None or labels is None or not (y < labels.shape[0] and x < labels.shape[1]):
        return ""
    value = pixels[y, x]
    if np.ndim(value):
        value_text = ", ".join(str(v) for v in value)
    else:
        value_text = f"{value:g}" if pixels.dtype.kind == "f" else str(value)
    text = f"x {x}, y {y}   value {value_text}   mask: {class_name(table, int(labels[y, x]))}"
    if prediction is not None and prediction.classes.shape == labels.shape:
        confidence = float(prediction.confidence[y, x])
        text += f" · predicted: {class_name(table, int(prediction.classes[y, x]))} {confidence:.0%}"
    return text
