"""The open project and the image being edited, as seen by the widgets.

``AnnotationSession`` owns the :class:`Project`, the class table, the current image and its
:class:`MaskModel`; widgets listen to its signals and call its methods. Work that may take
long (merge, re-index) runs in a qt.workers.Worker thread via :meth:`run_in_thread`; every error goes to the one
:class:`ErrorReporter`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from segstudio.core.classes import ClassInfo, ClassTable
from segstudio.core.editing import HISTORY_REASONS, MaskChange, MaskModel
from segstudio.qt.errors import ErrorReporter
from segstudio.qt.workers.worker import Worker
from segstudio.services import annotation
from segstudio.services.annotation import EditableImage
from segstudio.store.project import ClassTotals, ImageRecord, Project

#: project setting: the image open when the project was last used (reopened with it)
LAST_IMAGE_SETTING = "last_image"


class AnnotationSession(QtCore.QObject):
    projectOpened = QtCore.Signal(object)  # Project | None
    classesChanged = QtCore.Signal(object)  # ClassTable
    statsChanged = QtCore.Signal(object)  # ClassTotals
    imagesChanged = QtCore.Signal()  # statuses / classes present changed
    imageLoaded = QtCore.Signal(object)  # EditableImage | None
    maskSaved = QtCore.Signal(int)  # image id (its corrections are recorded by then)
    dirtyChanged = QtCore.Signal(bool)
    historyChanged = QtCore.Signal(bool, bool)  # can undo, can redo
    busy = QtCore.Signal(str, int, int)  # what, done, total (total 0 = finished)
    hiddenClassesChanged = QtCore.Signal(object)  # frozenset of class ids the overlays leave out

    def __init__(self, errors: ErrorReporter, parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.errors = errors
        self.project: Project | None = None
        self.table = ClassTable([])
        self.totals: ClassTotals | None = None
        self.current: EditableImage | None = None
        self.model: MaskModel | None = None
        self.autosave = True
        #: asked before leaving an edited image when autosave is off: 'save', 'discard' or 'cancel'
        self.ask_unsaved: Callable[[], str] | None = None
        self._last_dirty = False
        self._workers: list = []
        self.hidden_classes: frozenset[int] = frozenset()

    # -- project --------------------------------------------------------------
    def open_project(self, folder: str | Path) -> bool:
        if not self.maybe_save():
            return False
        try:
            project = Project.open(folder)
            table = project.class_table()
        except Exception as e:  # shown to the user
            self.errors.report("Open project", e)
            return False
        self.close_project()
        self.project, self.table = project, table
        self.projectOpened.emit(project)
        self.classesChanged.emit(table)
        self.refresh_stats()
        return True

    def close_project(self) -> None:
        self._set_current(None)
        if self.project is not None:
            self.project.close()
        self.project = None
        self.totals = None
        self.set_hidden_classes(())  # another project, another table

    def images(self) -> list[ImageRecord]:
        if self.project is None:
            return []
        try:
            return self.project.images()
        except Exception as e:
            self.errors.report("List images", e)
            return []

    def class_counts(self) -> tuple[list[int], np.ndarray]:
        """(image ids, pixels per class per image) for the image list."""
        empty = ([], np.zeros((0, 1), np.int64))
        if self.project is None:
            return empty
        try:
            return self.project.counts_matrix(num_classes=max(self.table.num_classes, 1))
        except Exception as e:
            self.errors.report("Image list", e)
            return empty

    def refresh_stats(self) -> None:
        if self.project is None:
            return
        try:
            self.totals = self.project.class_totals()
        except Exception as e:
            self.errors.report("Statistics", e)
            return
        self.statsChanged.emit(self.totals)

    # -- current image --------------------------------------------------------------
    def open_image(self, image_id: int) -> bool:
        """Show an image for editing; unsaved edits of the previous one are saved first."""
        if self.project is None:
            return False
        if self.current is not None and self.current.record.id == image_id:
            return True
        if not self.maybe_save():
            return False
        try:
            image = annotation.load_for_editing(self.project, image_id, self.table)
        except Exception as e:  # unreadable image/mask: report, keep running
            self.errors.report("Open image", e)
            return False
        self._set_current(image)
        try:
            self.project.set_setting(LAST_IMAGE_SETTING, image_id)
        except Exception as e:  # a read-only project still opens images
            self.errors.report("Remember the open image", e)
        return True

    def last_image_id(self) -> int | None:
        """The image open when this project was last used, if it is still in the project."""
        if self.project is None:
            return None
        image_id = self.project.get_setting(LAST_IMAGE_SETTING)
        return image_id if any(r.id == image_id for r in self.images()) else None

    def refresh_current_record(self) -> None:
        """Re-read the open image's record (its status changes when it is predicted)."""
        if self.project is not None and self.current is not None:
            try:
                self.current.record = self.project.image(self.current.record.id)
            except Exception as e:
                self.errors.report("Image record", e)

    def _set_current(self, image: EditableImage | None) -> None:
        self.current = image
        self.model = MaskModel(image.labels) if image is not None else None
        if self.model is not None:
            self.model.subscribe(self._on_mask_change)
        self._last_dirty = False
        self.imageLoaded.emit(image)
        self.dirtyChanged.emit(False)
        self.historyChanged.emit(False, False)

    def _on_mask_change(self, change: MaskChange) -> None:
        if change.reason in HISTORY_REASONS:
            self.historyChanged.emit(self.model.can_undo, self.model.can_redo)
        if change.dirty != self._last_dirty:
            self._last_dirty = change.dirty
            self.dirtyChanged.emit(change.dirty)

    @property
    def dirty(self) -> bool:
        return self.model is not None and self.model.dirty

    def maybe_save(self, ask: Callable[[], str] | None = None) -> bool:
        """Before leaving the image: autosave (default) or ask ('save', 'discard', 'cancel').

        Returns False when leaving should be cancelled (the user said so, or saving failed).
        """
        if not self.dirty:
            return True
        ask = ask or self.ask_unsaved
        choice = "save" if (self.autosave or ask is None) else ask()
        if choice == "cancel":
            return False
        if choice == "discard":
            return True
        return self.save()

    def save(self) -> bool:
        if self.project is None or self.current is None or self.model is None:
            return False
        try:
            annotation.save_mask(self.project, self.current, self.model.labels, self.table)
        except Exception as e:
            self.errors.report("Save mask", e)
            return False
        self.model.mark_saved()
        self.current.record = self.project.image(self.current.record.id)
        self.maskSaved.emit(self.current.record.id)
        self.imagesChanged.emit()
        self.refresh_stats()
        return True

    def undo(self) -> None:
        if self.model is not None:
            self.model.undo()

    def redo(self) -> None:
        if self.model is not None:
            self.model.redo()

    # -- classes --------------------------------------------------------------------
    def set_hidden_classes(self, class_ids) -> None:
        """Which classes the overlays leave out (a view setting: the masks are untouched)."""
        hidden = frozenset(int(i) for i in class_ids)
        if hidden != self.hidden_classes:
            self.hidden_classes = hidden
            self.hiddenClassesChanged.emit(hidden)

    def _reload_classes(self) -> None:
        assert self.project is not None
        self.table = self.project.class_table()
        self.classesChanged.emit(self.table)
        self.refresh_stats()

    def add_class(self, name: str) -> ClassInfo | None:
        if self.project is None:
            return None
        try:
            info = annotation.add_class(self.project, name)
        except Exception as e:
            self.errors.report("Add class", e)
            return None
        self._reload_classes()
        return info

    def update_class(self, class_id: int, **changes) -> bool:
        """changes: name=, color=(r, g, b), ignore=."""
        info = self.table.get(class_id)
        if self.project is None or info is None:
            return False
        try:
            annotation.update_class(self.project, replace(info, **changes))
        except Exception as e:
            self.errors.report("Change class", e)
            return False
        self._reload_classes()
        return True

    def merge_classes(self, source: int, target: int) -> Worker | None:
        """Merge in a worker thread; progress on ``busy``; the open image is saved first and
        reloaded after. Returns the worker (tests wait on its ``finished``)."""
        if self.project is None or not self.maybe_save():
            return None
        project = self.project

        def finished() -> None:
            self.busy.emit("Merging classes", 0, 0)
            self._reload_classes()
            self.imagesChanged.emit()
            reopen = self.current.record.id if self.current else None  # its mask may have changed
            if reopen is not None:
                self._set_current(None)
                self.open_image(reopen)

        def progress(step) -> None:
            done, total, report = step
            self.busy.emit(f"Merging class {source} into {target}", done, max(total, 1))
            if done == total and report.failed:
                self.errors.report("Merge classes", f"{len(report.failed)} masks could not be rewritten, "
                                   f"first: {report.failed[0][0]}: {report.failed[0][1]}")

        return self.run_in_thread(
            "Merge classes", annotation.merge_class_steps, project, source, target,
            on_yield=progress, on_finish=finished,
        )

    def reindex(self, force: bool = False) -> Worker | None:
        """Re-count changed masks (all with ``force``) in a worker thread, with progress."""
        if self.project is None or not self.maybe_save():
            return None
        from segstudio.services.indexing import reindex

        def progress(done: int, total: int) -> None:  # called in the worker: signals are queued
            self.busy.emit("Indexing masks", done, max(total, 1))

        def finished(report) -> None:  # IndexReport
            self.busy.emit("Indexing masks", 0, 0)
            self.refresh_stats()
            self.imagesChanged.emit()
            if report.failed:
                path, problem = report.failed[0]
                self.errors.report("Index masks", f"{len(report.failed)} masks could not be counted; "
                                   f"first: {path}: {problem}")

        return self.run_in_thread("Index masks", reindex, self.project, force=force, progress=progress,
                                  on_return=finished)

    # -- threads --------------------------------------------------------------------
    def shutdown(self, timeout_ms: int = 15000) -> None:
        """Before the window goes: stop background jobs between steps and wait for them, so no
        worker reports to deleted widgets (a merge stops between masks; its backups stay)."""
        for worker in list(self._workers):
            worker.quit()  # generator workers stop at their next step
        deadline = QtCore.QDeadlineTimer(timeout_ms)
        while self._workers and not deadline.hasExpired():
            QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
            QtCore.QThread.msleep(10)

    def run_in_thread(self, what: str, func, *args, on_yield=None, on_return=None,
                      on_finish=None, **kwargs):
        """Run ``func`` (a function or a generator) in a :class:`Worker` thread; errors go to
        the reporter."""
        worker = Worker(func, *args, parent=self, **kwargs)
        if on_yield is not None:
            worker.yielded.connect(on_yield)
        if on_return is not None:
            worker.returned.connect(on_return)
        worker.errored.connect(lambda e: self.errors.report(what, e))
        if on_finish is not None:
            worker.finished.connect(on_finish)
        self._workers.append(worker)
        worker.finished.connect(lambda: self._workers.remove(worker) if worker in self._workers else None)
        self.busy.emit(what, 0, 1)
        worker.start()
        return worker
