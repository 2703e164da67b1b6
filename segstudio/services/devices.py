"""Compute devices for the GUI, asked of TensorFlow through ml (the GUI never imports TF)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field


@dataclass(frozen=True)
class DeviceInfo:
    devices: list[dict] = field(default_factory=list)  # {"name", "kind", "description"}
    versions: dict = field(default_factory=dict)

    @property
    def gpus(self) -> list[dict]:
        return [d for d in self.devices if d["kind"] == "GPU"]

    def summary(self) -> str:
        v = self.versions
        tf = f"TensorFlow {v.get('tensorflow', '?')}, Keras {v.get('keras', '?')}"
        if self.gpus:
            names = ", ".join(d["description"] for d in self.gpus)
            return f"{len(self.gpus)} GPU ({names}) — {tf}"
        return f"CPU only: TensorFlow sees no GPU — {tf}"

    def choices(self) -> list[tuple[str, str]]:
        """(label, device name) for a device picker; 'auto' first."""
        first = "Automatic (GPU when present)" if self.gpus else "Automatic (CPU)"
        return [(first, "auto")] + [(f"{d['name'].strip('/')} — {d['description']}", d["name"])
                                    for d in self.devices]


def device_info() -> DeviceInfo:
    """Import TensorFlow (seconds, call it off the GUI thread) and list what it sees."""
    from segstudio.ml import devices

    return DeviceInfo(devices.list_devices(), devices.versions())


def device_scope(name: str | None):  # a context manager
    from segstudio.ml import devices

    return devices.device_scope(name)


def onnx_available() -> bool:
    return importlib.util.find_spec("tf2onnx") is not None
