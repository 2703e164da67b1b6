"""Synthetic data for the demo project: the situation segstudio exists for.

256x256 grayscale images, 32 classes, ~99% background. Class c appears in an image
with a long-tailed probability; each class has its own look (one of 8 brightness
levels x one of 4 textures) so a model can learn every class from the pixels.
"""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 32
BACKGROUND_LEVEL = 60.0


def class_probability(c: int) -> float:
    """Chance that class c (1..31) appears in an image: long-tailed, ~4% for the rarest."""
    return 0.55 * c ** -0.75


def class_look(c: int) -> tuple[float, int]:
    """(mean brightness, texture id) of class c: 8 levels x 4 textures = 32 looks."""
    level = 105.0 + 20.0 * (c % 8)
    texture = (c // 8) % 4  # 0 flat, 1 horizontal stripes, 2 vertical stripes, 3 checker
    return level, texture


def _texture(texture: int, yy: np.ndarray, xx: np.ndarray) -> np.ndarray:
    if texture == 1:
        return np.where((yy // 3) % 2 == 0, 1.0, -1.0)
    if texture == 2:
        return np.where((xx // 3) % 2 == 0, 1.0, -1.0)
    if texture == 3:
        return np.where(((yy // 3) + (xx // 3)) % 2 == 0, 1.0, -1.0)
    return np.zeros_like(yy, dtype=np.float64)


#: object styles of the demo generator: the default small blobs and two variants the
#: training plan is benchmarked on (benchmarks/bench_quality.py)
OBJECT_STYLES = ("blobs", "large", "thin")


def demo_sample(rng: np.random.Generator, size: int = 256, objects: str = "blobs"
                ) -> tuple[np.ndarray, np.ndarray]:
    """One (image uint8 (H, W), mask uint8 (H, W)) pair.

    ``objects``: "blobs" (discs and squares 8-18 px across), "large" (40-120 px across,
    fewer per image) or "thin" (lines 1-3 px wide, 20-90 px long, one brightness per class).
    """
    if objects not in OBJECT_STYLES:
        raise ValueError(f"unknown demo object style {objects!r}; choose from {', '.join(OBJECT_STYLES)}")
    yy, xx = np.mgrid[0:size, 0:size]
    # smooth background: a gentle gradient plus noise, darker than every class
    gx, gy = rng.uniform(-8, 8, 2)
    image = BACKGROUND_LEVEL + gx * (xx / size - 0.5) + gy * (yy / size - 0.5)
    mask = np.zeros((size, size), dtype=np.uint8)
    scale = 0.15 if objects == "large" else 1.0  # large objects: fewer classes per image
    classes = [c for c in range(1, NUM_CLASSES) if rng.random() < scale * class_probability(c)]
    if not classes:
        classes = [int(rng.integers(1, NUM_CLASSES))]
    for c in classes:
        level, texture = class_look(c)
        for _ in range(int(rng.integers(1, 3))):
            if objects == "thin":
                region = _line(rng, yy, xx, size)
                image[region] = 100.0 + 4.5 * c  # too thin for a texture: brightness only
                mask[region] = c
                continue
            r = (rng.uniform(20, 60) if objects == "large" else rng.uniform(4, 9)) * size / 256
            cy, cx = rng.uniform(r + 1, size - r - 1, 2)
            if c % 2:
                region = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                region = (np.abs(yy - cy) <= r * 0.9) & (np.abs(xx - cx) <= r * 0.9)
            image[region] = level + 18.0 * _texture(texture, yy[region], xx[region])
            mask[region] = c
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def _line(rng: np.random.Generator, yy: np.ndarray, xx: np.ndarray, size: int) -> np.ndarray:
    """Pixels within half a width (1-3 px) of a random segment 20-90 px long."""
    width = rng.uniform(1.0, 3.0)
    length = rng.uniform(20, 90) * size / 256
    angle = rng.uniform(0, np.pi)
    dy, dx = np.sin(angle), np.cos(angle)
    margin = length / 2 + 2
    cy, cx = rng.uniform(margin, size - margin, 2)
    ry, rx = yy - cy, xx - cx
    along = ry * dy + rx * dx
    across = np.abs(ry * dx - rx * dy)
    return (np.abs(along) <= length / 2) & (across <= width / 2)


def demo_class_names() -> list[str]:
    textures = ["plain", "h-striped", "v-striped", "checkered"]
    names = ["background"]
    for c in range(1, NUM_CLASSES):
        level, texture = class_look(c)
        names.append(f"{textures[texture]} {int(level)}")
    return names
