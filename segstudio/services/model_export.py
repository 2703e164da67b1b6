"""Export a run's model for the export dialog: .keras always, SavedModel / ONNX on request."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from segstudio.core.errors import SegstudioError
from segstudio.store.project import Project

Progress = Callable[[int, int, str], None]


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)  # model files / folders, each with a card beside
    cards: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (format, reason)


def export_targets(folder: str | Path, stem: str, formats: Sequence[str]) -> dict[str, Path]:
    d = Path(folder)
    names = {"keras": f"{stem}.keras", "savedmodel": f"{stem}_savedmodel", "onnx": f"{stem}.onnx"}
    return {f: d / names[f] for f in formats}


def export_steps(project: Project, run_id: int, folder: str | Path, formats: Sequence[str],
                 stem: str | None = None) -> Iterator[tuple[int, int, str, ExportResult]]:
    """Export run ``run_id``'s model as each format (``keras`` is always included).

    Yields (done, total, format, result) after each; a format that fails is recorded in
    ``result.failed`` and the others still run.
    """
    from segstudio.ml.export import card_path
    from segstudio.services.prediction import export

    run = project.run(run_id)
    if not run.model_path or not Path(run.model_path).exists():
        raise SegstudioError(f"run {run_id} has no model file to export")
    fmts = ["keras"] + [f for f in formats if f != "keras"]
    targets = export_targets(folder, stem or f"segstudio_run{run_id:04d}", fmts)
    result = ExportResult()
    yield 0, len(fmts), "", result
    for k, fmt in enumerate(fmts, 1):
        try:
            dst = export(run.model_path, fmt, targets[fmt], project=project)
            result.files.append(dst)
            result.cards.append(card_path(dst))
        except (SegstudioError, OSError, ValueError) as e:
            result.failed.append((fmt, str(e)))
        yield k, len(fmts), fmt, result
    return result
