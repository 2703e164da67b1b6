"""Export a trained model as .keras, TF SavedModel or ONNX, each with a model card JSON beside it."""

from __future__ import annotations

import json
from pathlib import Path

import keras

from segstudio.core.atomic import copy_atomic, write_atomic, write_text_atomic
from segstudio.core.errors import SegstudioError
from segstudio.ml.predict import load_model

FORMATS = ("keras", "savedmodel", "onnx")


def card_path(model_path: str | Path) -> Path:
    """``model.keras`` -> ``model.card.json``; a SavedModel folder ``m`` -> ``m.card.json``."""
    p = Path(model_path)
    return p.with_name((p.stem if p.suffix else p.name) + ".card.json")


def write_card(model_path: str | Path, card: dict) -> Path:
    out = card_path(model_path)
    write_text_atomic(out, json.dumps(card, indent=1, allow_nan=False))
    return out


def read_card(model_path: str | Path) -> dict:
    p = card_path(model_path)
    return json.loads(p.read_text()) if p.exists() else {}


def input_spec(model: keras.Model) -> dict:
    return {
        "name": model.inputs[0].name if model.inputs else "image",
        "shape": ["batch", "height", "width", int(model.input_shape[-1])],
        "dtype": "float32",
        "values": "raw pixel values (0-255 for 8-bit images); the model normalises them itself",
        "size_multiple": _size_multiple(model),
        "output": "softmax probabilities (batch, height, width, classes); argmax = class id",
    }


def _size_multiple(model: keras.Model) -> int:
    from segstudio.ml.unet import model_depth

    return 2 ** model_depth(model)


def export_model(model_path: str | Path, fmt: str, out: str | Path, card: dict | None = None) -> Path:
    """Write ``model_path`` (a .keras file) as ``fmt`` at ``out``, plus ``out``'s model card."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise SegstudioError(f"unknown export format {fmt!r}; choose from {', '.join(FORMATS)}")
    src, dst = Path(model_path), Path(out)
    model = load_model(src, compile=False)
    card = dict(card if card is not None else read_card(src))
    card.setdefault("input", input_spec(model))
    card["format"] = fmt
    dst.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "keras":
        if dst.suffix != ".keras":
            raise SegstudioError(f"{dst}: a Keras export needs a .keras file name")
        if src.resolve() != dst.resolve():
            copy_atomic(src, dst)
    elif fmt == "savedmodel":
        if dst.exists():
            raise SegstudioError(f"{dst}: already exists; choose a new folder for the SavedModel")
        _export_savedmodel(model, dst)
        card["serving_signature"] = "serve (inputs: raw float32 images NHWC) -> probabilities"
    else:
        _export_onnx(model, dst)
    write_card(dst, card)
    return dst


def _export_savedmodel(model: keras.Model, dst: Path) -> None:
    """One ``serve`` endpoint taking a plain NHWC float32 tensor named ``image``.

    (``model.export`` on a reloaded functional model would expect a one-element list.)
    """
    import tensorflow as tf

    archive = keras.export.ExportArchive()
    archive.track(model)
    spec = tf.TensorSpec((None, None, None, int(model.input_shape[-1])), tf.float32, name="image")
    archive.add_endpoint(name="serve", fn=lambda image: model(image, training=False), input_signature=[spec])
    archive.write_out(str(dst), verbose=False)


def _export_onnx(model: keras.Model, dst: Path) -> None:
    try:
        import tensorflow as tf
        import tf2onnx  # optional extra: pip install 'segstudio[onnx]'
    except ImportError:
        raise SegstudioError(
            "ONNX export needs tf2onnx: pip install 'segstudio[onnx]' (tf2onnx, onnxruntime)"
        ) from None
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    spec = tf.TensorSpec((None, None, None, int(model.input_shape[-1])), tf.float32, name="image")
    concrete = tf.function(lambda image: model(image, training=False)).get_concrete_function(spec)
    # freeze weights and captured constants (the Normalization mean/variance) into the graph;
    # converted unfrozen, they would become extra required ONNX inputs
    frozen = convert_variables_to_constants_v2(concrete)
    write_atomic(dst, lambda tmp: tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        input_names=[t.name for t in frozen.inputs],
        output_names=[t.name for t in frozen.outputs],
        opset=17, output_path=str(tmp),
    ))
