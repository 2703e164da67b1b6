"""The folders a project may write in, and sweeping the temps that killed writers left there.

Paths in the database are data, not permission: a crafted ``segstudio.db`` can point a mask
at ``../../etc/passwd``. A write (mask save, class merge) goes only inside the project folder
or inside a folder the project was imported from, as recorded at import.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from segstudio.core.atomic import remove_stale_temps
from segstudio.core.errors import ProjectError
from segstudio.store.models import CorrectionRow, ImageRow, ModelRow, PredictionRow, RunRow

if TYPE_CHECKING:
    from segstudio.store.project import Project

#: Setting: the image and mask folders imports read (absolute paths).
SOURCE_FOLDERS_KEY = "source_folders"


def record_source_folders(project: Project, folders: Iterable[str | Path | None]) -> None:
    known = list(project.get_setting(SOURCE_FOLDERS_KEY, []))
    for f in folders:
        if f is not None and (p := os.path.realpath(f)) not in known:
            known.append(p)
    project.set_setting(SOURCE_FOLDERS_KEY, known)


def write_roots(project: Project) -> list[Path]:
    """The project folder, then the folders it was imported from."""
    roots = [os.path.realpath(project.root), *project.get_setting(SOURCE_FOLDERS_KEY, [])]
    return [Path(os.path.realpath(r)) for r in roots if isinstance(r, str) and os.path.isabs(r)]


def _inside(path: str, root: Path) -> bool:
    try:
        return os.path.commonpath([path, str(root)]) == str(root)
    except ValueError:  # another drive
        return False


def check_writable(project: Project, path: str | Path) -> Path:
    """``path`` if the project may write it (symlinks resolved), else ProjectError naming it."""
    real = os.path.realpath(path)
    if any(_inside(real, root) for root in write_roots(project)):
        return Path(path)
    raise ProjectError(
        f"{path}: outside the project folder and the folders it was imported from; "
        "refusing to write there (import the folder into the project to allow it)")


def _written_folders(project: Project) -> set[Path]:
    """The folders of every file the database says the project wrote or writes."""
    with project.session() as s:
        paths = [
            *s.scalars(select(ImageRow.mask_path).distinct().where(ImageRow.mask_path.is_not(None))),
            *s.scalars(select(RunRow.model_path).distinct().where(RunRow.model_path.is_not(None))),
            *s.scalars(select(RunRow.checkpoint_path).distinct().where(RunRow.checkpoint_path.is_not(None))),
            *s.scalars(select(ModelRow.path).distinct()),
            *s.scalars(select(PredictionRow.path).distinct()),
            *s.scalars(select(CorrectionRow.path).distinct()),
        ]
    return {project.resolve(p).parent for p in paths} | {project.root}


def sweep_stale_temps(project: Project) -> list[Path]:
    """Remove the atomic-write temps that killed writers left in the project's folders
    (only folders it may write in, only names of the temp pattern, only unlocked ones)."""
    removed: list[Path] = []
    try:
        folders = _written_folders(project)
    except (SQLAlchemyError, OSError):  # housekeeping must never stop a project from opening
        return removed
    roots = write_roots(project)
    for folder in sorted(folders):
        if any(_inside(os.path.realpath(folder), root) for root in roots):
            removed += remove_stale_temps(folder)
    return removed
