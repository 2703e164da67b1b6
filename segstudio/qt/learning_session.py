"""What the window shows of the learning side, in one place beside the AnnotationSession.

``LearningSession`` owns the project's runs, the **active model** (services.model_choice:
the user's choice, remembered per project, else the best finished run), the review queue
with each prediction marked current or out of date, the pending corrections, the current
image's cached prediction, and the training and prediction jobs. Panels never hold the
project: they get this state through the signals below and send requests back.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from PySide6 import QtCore

from segstudio.core.statuses import RunStatus
from segstudio.ml.tta import TTA_VIEWS
from segstudio.qt.annotation_session import AnnotationSession
from segstudio.qt.errors import ErrorReporter
from segstudio.qt.workers.worker import Worker
from segstudio.services import (
    child_tasks,
    corrections,
    model_choice,
    planning,
    prediction_cache,
    training_setup,
)
from segstudio.services.devices import DeviceInfo
from segstudio.services.job_events import BatchEvent, EpochEvent, MessageEvent, ProgressEvent
from segstudio.services.prediction_cache import CachedPrediction, QueueItem
from segstudio.services.training_setup import WeightPreview
from segstudio.services.warm_predict import WarmPredictor, model_key
from segstudio.store.project import Project, RunRecord

_DEVICES: list[DeviceInfo] = []  # what TensorFlow sees does not change while the app runs


@dataclass(frozen=True)
class ModelState:
    """The runs and which one predicts: what the run history, the training panel's
    'Start from' and the predictions panel show."""

    runs: tuple[RunRecord, ...] = ()
    active: RunRecord | None = None
    chosen_id: int | None = None  # the user's pick; None: automatic (best run)
    epochs_done: dict[int, int] = field(default_factory=dict)  # run id -> epochs recorded

    @property
    def model_runs(self) -> list[RunRecord]:
        return [r for r in self.runs if model_choice.has_model(r)]

    @property
    def resumable_runs(self) -> list[RunRecord]:
        return [r for r in self.runs if r.status != RunStatus.FINISHED
                and r.checkpoint_path and Path(r.checkpoint_path).exists()]


@dataclass(frozen=True)
class ShownPrediction:
    """The open image's cached prediction (None: not predicted) and whether the active
    model made it."""

    image_id: int | None
    cached: CachedPrediction | None = None
    current: bool = False
    active_run_id: int | None = None


@dataclass(frozen=True)
class TrainRequest:
    config: dict
    correction_weight: float
    device: str | None


DEVICE_WAIT_MS = 600_000


class LearningSession(QtCore.QObject):
    projectChanged = QtCore.Signal(bool)  # a project is open; first, before its state arrives
    modelsChanged = QtCore.Signal(object)  # ModelState
    queueChanged = QtCore.Signal(object)  # list[QueueItem]
    correctionsChanged = QtCore.Signal(int, int)  # images, pixels pending since the last run
    splitChanged = QtCore.Signal(int, int)  # labelled validation images, labelled images
    predictionChanged = QtCore.Signal(object)  # ShownPrediction for the open image
    predictionsChanged = QtCore.Signal()  # cached results / image statuses changed
    predictingChanged = QtCore.Signal(bool)
    predictionProgress = QtCore.Signal(int, int)  # done, total
    busy = QtCore.Signal(str, int, int)  # like AnnotationSession.busy
    # training: started(), then batch/epoch/message, finished(result) or failed(error), done() last
    trainingStarted = QtCore.Signal()
    trainingBatch = QtCore.Signal(int, int, int, float)  # epoch, step, steps, loss
    trainingEpoch = QtCore.Signal(dict)
    trainingMessage = QtCore.Signal(str)
    trainingFinished = QtCore.Signal(dict)
    trainingFailed = QtCore.Signal(object)
    trainingDone = QtCore.Signal()
    planChanged = QtCore.Signal(object)  # core.plan.Plan for the open project (None: no project)
    devicesReady = QtCore.Signal(object)  # services.devices.DeviceInfo
    devicesFailed = QtCore.Signal()

    def __init__(self, annotation: AnnotationSession, errors: ErrorReporter,
                 parent: QtCore.QObject | None = None):
        super().__init__(parent)
        self.annotation, self.errors = annotation, errors
        self.project: Project | None = None
        self.models = ModelState()
        self.queue: list[QueueItem] = []
        self.include_corrected = False
        self.tta = 1  # views averaged per predicted image (ml.tta.TTA_VIEWS)
        self.pending = (0, 0)
        self.shown = ShownPrediction(None)
        self.prediction_job: Worker | None = None
        self.training_job: Worker | None = None
        self._training_root: Path | None = None
        self._training_t0 = 0.0
        self._device_job: Worker | None = None
        self.query_devices = True  # False: never start the TensorFlow device listing (screenshots)
        self.warm_predict = True  # False: no kept prediction process (each prediction starts one)
        self._warm: WarmPredictor | None = None
        annotation.projectOpened.connect(self.set_project)
        annotation.imageLoaded.connect(lambda image: self.load_prediction())
        annotation.maskSaved.connect(self._mask_saved)
        annotation.statsChanged.connect(lambda _totals: self.refresh_plan())  # a new fingerprint

    # -- project -------------------------------------------------------------------------
    def set_project(self, project: Project | None) -> None:
        """A project opened (or closed): forget everything of the previous one."""
        self.project = project
        self.models, self.queue, self.pending = ModelState(), [], (0, 0)
        self.shown = ShownPrediction(None)
        self.projectChanged.emit(project is not None)
        self.refresh()

    def refresh(self) -> None:
        """Re-read runs, active model, queue, corrections and split; emit them all."""
        self.refresh_models()
        self.refresh_corrections()
        self._refresh_split()
        self.refresh_plan()
        self.load_prediction()

    def refresh_plan(self) -> None:
        """The training plan from the project's fingerprint (milliseconds: the database and,
        where there is one, nvidia-smi)."""
        plan = None
        if self.project is not None:
            try:
                plan = planning.plan_for_project(self.project)
            except Exception as e:
                self.errors.report("Training plan", e)
        self.planChanged.emit(plan)

    def refresh_models(self) -> None:
        state = ModelState()
        if self.project is not None:
            try:
                self.project.mark_interrupted_runs()  # a run whose process died is not 'running'
                runs = self.project.runs()
                active = model_choice.active_model_run(self.project, runs)
                chosen = model_choice.chosen_run_id(self.project)
                if active is None or active.id != chosen:
                    chosen = None  # the pick lost its model file: the best run predicts
                state = ModelState(tuple(runs), active, chosen,
                                   {r.id: len(self.project.epochs(r.id)) for r in runs})
            except Exception as e:
                self.errors.report("Training runs", e)
        self.models = state
        self.modelsChanged.emit(state)
        self.refresh_queue()
        self._sync_warm()

    def _sync_warm(self) -> WarmPredictor | None:
        """Keep one warm prediction process for the active model: started in the background,
        replaced when the model changes, started again if it died."""
        run = self.models.active
        key = (model_key(self.project.root, run.model_path, run.id)
               if self.warm_predict and self.project is not None and run is not None else None)
        if self._warm is not None and self._warm.key != key:
            self._warm.stop(wait=False)  # a request in flight ends after its image
            self._warm = None
        if key is not None and self._warm is None:
            self._warm = WarmPredictor(self.project.root, run.model_path, run.id)
        if self._warm is not None:
            self._warm.start(background=True)
        return self._warm

    @property
    def active_run(self) -> RunRecord | None:
        return self.models.active

    def choose_model(self, run_id: int | None) -> None:
        """Predict (and retrain) with ``run_id``; None: the best run. Remembered per project."""
        if self.project is None:
            return
        try:
            model_choice.choose_model(self.project, run_id)
        except Exception as e:
            self.errors.report("Choose model", e)
        self.refresh_models()
        self.load_prediction()

    def epochs(self, run_id: int) -> list[dict]:
        """A run's epochs as the plain dicts the plots take."""
        if self.project is None:
            return []
        try:
            return [
                {"epoch": e.epoch, "epochs": None, "train_loss": e.train_loss, "val_loss": e.val_loss,
                 "per_class_iou": list(e.per_class_iou), "fg_miou": e.fg_miou,
                 "pixel_accuracy": e.pixel_accuracy, "alarm": e.alarm, "seconds": e.seconds,
                 "adjustment": e.adjustment, "val_pixels": list(e.val_pixels)}
                for e in self.project.epochs(run_id)
            ]
        except Exception as e:
            self.errors.report("Run history", e)
            return []

    # -- review queue, corrections, split ---------------------------------------------------
    def set_include_corrected(self, on: bool) -> None:
        self.include_corrected = bool(on)
        self.refresh_queue()

    def refresh_queue(self) -> None:
        items: list[QueueItem] = []
        if self.project is not None:
            active = self.models.active
            try:
                items = prediction_cache.review_queue(self.project, self.include_corrected,
                                                      active.id if active is not None else None)
            except Exception as e:
                self.errors.report("Review queue", e)
        self.queue = items
        self.queueChanged.emit(items)

    def refresh_corrections(self) -> None:
        pending = (0, 0)
        if self.project is not None:
            try:
                pending = corrections.pending_summary(self.project)
            except Exception as e:
                self.errors.report("Corrections", e)
        self.pending = pending
        self.correctionsChanged.emit(*pending)

    def _refresh_split(self, summary: tuple[int, int] | None = None) -> None:
        if summary is None:
            summary = (0, 0)
            if self.project is not None:
                try:
                    summary = training_setup.split_summary(self.project)
                except Exception as e:
                    self.errors.report("Validation split", e)
        self.splitChanged.emit(*summary)

    def set_validation_percent(self, percent: int) -> None:
        if self.project is None:
            return
        try:
            self._refresh_split(training_setup.set_validation_percent(self.project, percent))
        except Exception as e:
            self.errors.report("Validation split", e)

    def weight_preview(self, scheme: str, clip: float | None,
                       strength: float = 1.0) -> tuple[WeightPreview | None, str]:
        """Class weights and loss shares on the training split, and a problem ('' if none):
        what both loss-share charts draw."""
        pv, problem = None, ""
        if self.project is not None:
            try:
                pv = training_setup.weight_preview(self.project, scheme, clip, strength)
            except ValueError as e:
                problem = str(e)
            except Exception as e:
                self.errors.report("Class weights", e)
        return pv, problem

    def _mask_saved(self, image_id: int) -> None:
        # annotation.save_mask recorded the corrections and refreshed the prediction's scores
        self.refresh_corrections()
        self.refresh_queue()
        self.load_prediction()

    # -- predictions ---------------------------------------------------------------------------
    def load_prediction(self) -> None:
        """Show the open image's cached prediction, marked current or out of date."""
        cur, model = self.annotation.current, self.annotation.model
        active = self.models.active
        shown = ShownPrediction(cur.record.id if cur is not None else None,
                                active_run_id=active.id if active is not None else None)
        if self.project is not None and cur is not None:
            try:
                cached = prediction_cache.load_cached(self.project, cur.record.id)
            except Exception as e:  # a broken cache file: report, show none
                cached = None
                self.errors.report("Cached prediction", e)
            if cached is not None and model is not None and cached.classes.shape != model.shape:
                cached = None  # the image changed size since it was predicted
            if cached is not None:
                current = active is not None and cached.record.run_id == active.id
                shown = ShownPrediction(cur.record.id, cached, current, shown.active_run_id)
        self.shown = shown
        self.predictionChanged.emit(shown)

    @property
    def predicting(self) -> bool:
        return self.prediction_job is not None

    def predict(self, image_ids: list[int]) -> Worker | None:
        """Predict ``image_ids`` with the active model in the background."""
        if self.project is None or not image_ids or self.prediction_job is not None:
            return None
        run = self.models.active
        if run is None:
            self.errors.report("Predict", "no trained model yet: train one in the Training panel first")
            return None
        warm = self._sync_warm()
        if warm is not None:  # the kept process: the model is loaded and traced already
            job = Worker(warm.predict, list(image_ids), pass_abort=True, parent=self, tta=self.tta)
        else:
            job = Worker(child_tasks.predict, self.project.root, list(image_ids), run.model_path, run.id,
                         self.tta, parent=self)
        job.done_ids = []  # the images cached so far (kept when cancelled)
        job.yielded.connect(self._prediction_step)
        job.errored.connect(lambda e: self.errors.report("Predict", e))
        job.finished.connect(self._prediction_finished)
        self.prediction_job = job
        self.predictingChanged.emit(True)
        self.predictionProgress.emit(0, len(image_ids))
        job.start()
        return job

    def set_tta(self, views: int) -> None:
        """Average ``views`` flipped/turned views per image in the next predictions."""
        if views not in TTA_VIEWS:
            raise ValueError(f"test-time augmentation takes {sorted(TTA_VIEWS)} views, not {views}")
        self.tta = views

    def cancel_prediction(self) -> None:
        """Stop after the image being predicted (its result is kept)."""
        if self.prediction_job is not None:
            self.prediction_job.quit()

    def _prediction_step(self, event: ProgressEvent) -> None:
        self.predictionProgress.emit(event.done, event.total)
        self.busy.emit("Predicting", event.done, max(event.total, 1))
        if event.image_id is not None:
            self.prediction_job.done_ids.append(event.image_id)
            if self.shown.image_id == event.image_id:
                self.load_prediction()

    def _prediction_finished(self) -> None:
        job, self.prediction_job = self.prediction_job, None
        ids = job.done_ids if job is not None else []
        if job is not None:
            job.deleteLater()
        self.busy.emit("Predicting", 0, 0)
        self.predictingChanged.emit(False)
        if ids:
            self.annotation.refresh_current_record()
            self.refresh_queue()
            self.predictionsChanged.emit()

    # -- training ---------------------------------------------------------------------------------
    @property
    def training(self) -> bool:
        return self.training_job is not None

    def start_training(self, request: TrainRequest) -> Worker | None:
        """Train in a child process (TensorFlow never loads in the GUI process); the worker
        thread relays its events. The run opens its own Project: the window may switch
        projects while it writes epochs."""
        if self.project is None or self.training_job is not None:
            return None
        job = Worker(child_tasks.train, self.project.root, request.config, request.correction_weight,
                     request.device, pass_abort=True, parent=self)
        job.yielded.connect(self._training_event)
        job.returned.connect(self._training_returned)
        job.errored.connect(self._training_failed)
        job.finished.connect(self._training_done)
        self.training_job = job
        self._training_root = self.project.root
        self._training_t0 = time.perf_counter()
        job.start()
        self.trainingStarted.emit()
        self.trainingMessage.emit("starting the training process (TensorFlow, data, model)…")
        return job

    def cancel_training(self) -> None:
        """The trainer stops after the current batch; the last checkpoint is kept."""
        if self.training_job is not None:
            self.training_job.quit()

    def _training_event(self, event) -> None:  # services.job_events.JobEvent
        if isinstance(event, BatchEvent):
            self.trainingBatch.emit(event.epoch, event.step, event.steps, event.loss)
        elif isinstance(event, EpochEvent):
            self.trainingEpoch.emit(dict(event.report))
        elif isinstance(event, MessageEvent):
            self.trainingMessage.emit(event.text)

    def _training_returned(self, result: dict) -> None:
        self.trainingFinished.emit({**result, "seconds": time.perf_counter() - self._training_t0})

    def _training_failed(self, e: BaseException) -> None:
        self.errors.report("Training", e)
        self.trainingFailed.emit(e)

    def _training_done(self) -> None:
        job, self.training_job = self.training_job, None
        if job is not None:
            job.wait(10000)
            job.deleteLater()
        self.trainingDone.emit()
        if self.project is not None and self.project.root == self._training_root:
            # one event per part, so painting runs between them (all at once: ~350 ms on 2 busy
            # cores); the plan is left as it is: a run changes no fingerprint
            root = self._training_root
            for step in (self.refresh_models, self.refresh_corrections, self._refresh_split,
                         self.load_prediction):
                QtCore.QTimer.singleShot(0, lambda step=step: self.project is not None
                                         and self.project.root == root and step())

    # -- devices ---------------------------------------------------------------------------------------
    def ask_devices(self) -> None:
        """What TensorFlow sees, asked once per app in a child process (importing TF takes
        seconds); the answer arrives on ``devicesReady``."""
        if _DEVICES:
            self.devicesReady.emit(_DEVICES[0])
            return
        if self._device_job is not None or not self.query_devices:
            return

        def ready(info: DeviceInfo) -> None:
            _DEVICES.append(info)
            self.devicesReady.emit(info)

        def failed(e: BaseException) -> None:
            self.errors.report("Devices", e)
            self.devicesFailed.emit()

        self._device_job = Worker(child_tasks.devices, parent=self)
        self._device_job.returned.connect(ready)
        self._device_job.errored.connect(failed)
        self._device_job.start()

    def shutdown(self, ms: int = 60000) -> None:
        """Window closing: stop predicting after the current image, cancel training, wait."""
        for job in (self.prediction_job, self.training_job):
            if job is not None:
                job.quit()
                job.wait(ms)
        if self._warm is not None:
            self._warm.stop()
            self._warm = None
        if self._device_job is not None and self._device_job.is_running:
            # a QThread destroyed while running aborts the process: the listing child always
            # ends (it imports TensorFlow and prints), so wait for it, however loaded the machine
            self._device_job.wait(max(ms, DEVICE_WAIT_MS))
