"""What TensorFlow sees: devices for the training panel, and a scope that pins work to one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import tensorflow as tf


def list_devices() -> list[dict]:
    """[{"name": "/CPU:0" | "/GPU:0", "kind": "CPU" | "GPU", "description": ...}] as TF sees them."""
    out = []
    for kind in ("CPU", "GPU"):
        for i, dev in enumerate(tf.config.list_physical_devices(kind)):
            desc = kind
            if kind == "GPU":
                with contextlib.suppress(Exception):  # details are best-effort
                    desc = tf.config.experimental.get_device_details(dev).get("device_name", "GPU")
            out.append({"name": f"/{kind}:{i}", "kind": kind, "description": desc})
    return out


def versions() -> dict:
    return {"tensorflow": tf.__version__, "keras": keras.__version__, "backend": keras.backend.backend()}


@contextlib.contextmanager
def device_scope(name: str | None) -> Iterator[None]:
    """Run the block on ``name`` ("/CPU:0", "/GPU:0"); None or "auto" leaves TF to choose."""
    if not name or name == "auto":
        yield
        return
    with tf.device(name):
        yield
