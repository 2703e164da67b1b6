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


def demo_sample(rng: np.random.Generator, size: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """One (image uint8 (H, W), mask uint8 (H, W)) pair."""
    yy, xx = np.mgrid[0:size, 0:size]
    # smooth background: a gentle gradient plus noise, darker than every class
    gx, gy = rng.uniform(-8, 8, 2)
    image = BACKGROUND_LEVEL + gx * (xx / size - 0.5) + gy * (yy / size - 0.5)
    mask = np.zeros((size, size), dtype=np.uint8)
    classes = [c for c in range(1, NUM_CLASSES) if rng.random() < class_probability(c)]
    if not classes:
        classes = [int(rng.integers(1, NUM_CLASSES))]
    for c in classes:
        level, texture = class_look(c)
        for _ in range(int(rng.integers(1, 3))):
            r = rng.uniform(4, 9) * size / 256
            cy, cx = rng.uniform(r + 1, size - r - 1, 2)
            if c % 2:
                region = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
            else:
                region = (np.abs(yy - cy) <= r * 0.9) & (np.abs(xx - cx) <= r * 0.9)
            image[region] = level + 18.0 * _texture(texture, yy[region], xx[region])
            mask[region] = c
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), mask


def demo_class_names() -> list[str]:
    textures = ["plain", "h-striped", "v-striped", "checkered"]
    names = ["background"]
    for c in range(1, NUM_CLASSES):
        level, texture = class_look(c)
        names.append(f"{textures[texture]} {int(level)}")
    return names
