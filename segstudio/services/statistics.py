"""Class statistics and suggested weights for a project (used by the CLI, trainer and GUI)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from segstudio.core.classes import ClassTable
from segstudio.core.weights import class_weights
from segstudio.store.project import ClassTotals, Project


@dataclass
class ProjectStats:
    table: ClassTable
    totals: ClassTotals

    def to_json(self) -> dict:
        """The exact shape of ``segstudio stats --json``."""
        return {
            "images": self.totals.n_images,
            "labelled_images": self.totals.n_labelled,
            "ignored_pixels": int(self.totals.ignored),
            "classes": [
                {
                    "id": c.id,
                    "name": c.name,
                    "color": c.hex,
                    "pixels": int(self.totals.pixels[c.id]) if c.id < self.totals.pixels.size else 0,
                    "images": int(self.totals.images[c.id]) if c.id < self.totals.images.size else 0,
                }
                for c in self.table
                if not c.ignore
            ],
        }


def project_stats(project: Project, split: str | None = None) -> ProjectStats:
    return ProjectStats(project.class_table(), project.class_totals(split=split))


def suggest_weights(
    project: Project,
    scheme: str = "sqrt",
    clip: float | None = None,
    split: str | None = None,
    beta: float = 0.999,
) -> np.ndarray:
    """Class-weight vector (length = num_classes) from the stored counts of ``split``."""
    table = project.class_table()
    totals = project.class_totals(split=split)
    return class_weights(
        totals.pixels,
        scheme,
        image_counts=totals.images,
        pixels_of_images_with_class=totals.pixels_of_images_with_class,
        clip=clip,
        beta=beta,
        ignore_ids=table.ignore_ids,
    )
