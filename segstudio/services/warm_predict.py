"""One warm prediction process per model: TensorFlow imported, the model loaded and traced
once, then every prediction is a request to the same child.

Why: a fresh child (services.subprocess_jobs) pays the process start, the TF import, the
model load and the first trace -- 5-12 s for one 256x256 image; a warm one only the
forward pass and the cache write.

Protocol (JSON lines, as subprocess_jobs): the first line is
``{"kind": "serve", "job": {"root", "model_path", "run_id"}}``; the child answers
``{"type": "ready", "pid"}`` once loaded and traced. Then per request the parent writes
``{"image_ids": [...], "tta": views}`` (and may write ``cancel``); the child streams ProgressEvents, then
``{"type": "result", "value": ids cached}`` or an ``error`` line, and waits for the next.
The parent closing stdin ends the child.

    warm = WarmPredictor(root, model_path, run_id); warm.start()   # returns at once
    for event in warm.predict(ids): ...                              # ProgressEvents
    warm.stop()
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path

from segstudio.core.errors import SegstudioError
from segstudio.services.job_events import ProgressEvent, from_json
from segstudio.services.subprocess_jobs import (
    STDERR_LINES,
    ChildError,
    death_message,
    reported_error,
    spawn_child,
    with_log,
)

STOP_WAIT_S = 5.0  # an idle child exits at once when its stdin closes; then it is killed


class _Died(Exception):
    pass


def model_key(root: str | Path, model_path: str | Path, run_id: int | None) -> tuple:
    """What a warm process serves: a rewritten model file is another model."""
    try:
        st = os.stat(model_path)
        stamp = (st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = None
    return str(root), str(model_path), run_id, stamp


class WarmPredictor:
    """A kept child that predicts with one model; restarted when it dies (also mid-request:
    the images not yet cached are asked again, once). One request at a time."""

    def __init__(self, root: str | Path, model_path: str | Path, run_id: int | None):
        self.root, self.model_path, self.run_id = str(root), str(model_path), run_id
        self.key = model_key(root, model_path, run_id)
        self.proc: subprocess.Popen | None = None
        self.stderr: deque[str] = deque(maxlen=STDERR_LINES)
        self.stopped = False
        self.starts = 0
        self._request_lock = threading.Lock()
        self._state = threading.RLock()  # proc start/stop and stdin writes

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, background: bool = False) -> None:
        """Start the child unless it runs; it warms up on its own. ``background``: even the
        fork happens in a thread (a fork of the GUI process took ~0.4 s on a busy machine)."""
        if background:
            threading.Thread(target=self.start, daemon=True).start()
            return
        with self._state:
            if self.stopped or self.alive():
                return
            self.stderr.clear()
            self.proc = spawn_child({"kind": "serve", "job": {
                "root": self.root, "model_path": self.model_path, "run_id": self.run_id}})
            self.starts += 1
            threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

    def _drain(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self.stderr.append(line.rstrip())

    def _send(self, proc: subprocess.Popen, line: str) -> None:
        with self._state:
            try:
                proc.stdin.write(line + "\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # it died: the reader sees the end of its stdout

    def stop(self, wait: bool = True) -> None:
        """End the child (no restart after this); ``wait=False``: reap it in a thread."""
        with self._state:
            self.stopped = True
            proc = self.proc
            if proc is None:
                return
            try:
                proc.stdin.close()
            except OSError:
                pass

        def reap() -> None:
            try:
                proc.wait(STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

        if wait:
            reap()
        else:
            threading.Thread(target=reap, daemon=True).start()

    def predict(self, image_ids: Sequence[int], abort: threading.Event | None = None,
                tta: int = 1) -> Iterator[ProgressEvent]:
        """Predict and cache ``image_ids``, averaging ``tta`` views each (ml.tta); yields
        ProgressEvents (done/total over all of them), returns the ids cached. A set ``abort``
        stops after the current image."""
        ids, done_ids = list(image_ids), []
        with self._request_lock:
            for attempt in range(2):
                if self.stopped:
                    return done_ids
                self.start()
                left = [i for i in ids if i not in set(done_ids)]
                try:
                    for event in self._request(self.proc, left, abort, tta):
                        if event.image_id is not None:
                            done_ids.append(event.image_id)
                        yield ProgressEvent(len(done_ids), len(ids), image_id=event.image_id)
                    return done_ids
                except _Died:
                    proc = self.proc
                    if self.stopped or (abort is not None and abort.is_set()):
                        return done_ids
                    if attempt == 1:
                        text = "\n".join(self.stderr)
                        raise ChildError(with_log(death_message("serve", proc.returncode), self.root,
                                                  "predict", text), "", True, text) from None
        return done_ids

    def _request(self, proc: subprocess.Popen, ids: list[int],
                 abort: threading.Event | None, tta: int) -> Iterator[ProgressEvent]:
        finished = threading.Event()
        if abort is not None:
            def watch() -> None:
                while not finished.wait(0.05):
                    if abort.is_set():
                        self._send(proc, "cancel")
                        return
            threading.Thread(target=watch, daemon=True).start()
        self._send(proc, json.dumps({"image_ids": ids, "tta": tta}))
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    self.stderr.append(line.rstrip())
                    continue
                kind = event.get("type")
                if kind == "ready":
                    continue
                if kind == "result":
                    return
                if kind == "error":
                    raise reported_error(event, self.root, "predict", "\n".join(self.stderr))
                try:
                    yield from_json(event)
                except (TypeError, ValueError):
                    self.stderr.append(line.rstrip())
            proc.wait()
            raise _Died()
        finally:
            finished.set()


# ---------------------------------------------------------------------------------- child side
def warm_up(model, project) -> None:
    """Trace the forward pass at the first image's size, so the first request does not."""
    import numpy as np

    from segstudio.ml.predict import predict_image

    images = project.images()
    if images:
        r = images[0]
        shape = (r.height, r.width) if r.channels <= 1 else (r.height, r.width, r.channels)
        predict_image(model, np.zeros(shape, np.uint8))


def serve_child(job: dict, out) -> None:
    """The child's loop (subprocess_jobs.child_main runs it for kind 'serve')."""
    import queue
    import traceback

    requests: queue.Queue = queue.Queue()
    current = [threading.Event()]
    busy = threading.Event()

    def read() -> None:
        for line in sys.stdin:
            line = line.strip()
            if line == "cancel":
                current[0].set()
            elif line:
                current[0] = threading.Event()
                requests.put((json.loads(line), current[0]))
        if not busy.is_set():
            os._exit(0)  # the parent stopped us (or went away) while idle: nothing to finish
        current[0].set()  # mid-request: stop after this image, then end
        requests.put(None)

    threading.Thread(target=read, daemon=True).start()
    from segstudio.services import prediction_cache
    from segstudio.services.prediction import open_model
    from segstudio.store.project import Project

    model_path, run_id = job["model_path"], job.get("run_id")
    model = open_model(model_path)
    with Project.open(job["root"]) as project:
        prediction_cache.check_model_classes(project, model, model_path, project.class_table())
        warm_up(model, project)
    out.send(type="ready", pid=os.getpid())
    while (item := requests.get()) is not None:
        request, cancel = item
        busy.set()
        done_ids = []
        try:
            # opened per request: the window changes images, classes and statuses meanwhile
            with Project.open(job["root"]) as project:
                for done, total, image_id in prediction_cache.predict_steps(
                        project, request["image_ids"], model_path=model_path, run_id=run_id,
                        cancelled=cancel.is_set, model=model, tta=int(request.get("tta", 1))):
                    if image_id is not None:
                        done_ids.append(image_id)
                    out.send(ProgressEvent(done, total, image_id=image_id))
            out.send(type="result", value=done_ids)
        except Exception as e:
            traceback.print_exc()
            out.send(type="error", error=type(e).__name__, message=str(e) or type(e).__name__,
                     user=isinstance(e, (SegstudioError, OSError, ValueError)))
        finally:
            busy.clear()
