"""TensorFlow work in a child process, reported as JSON lines: training, prediction, export,
device listing.

Why a process and not only a thread: importing TensorFlow, building a model and tracing
the first training step hold Python's GIL for up to seconds at a time (measured: gaps of
1-4.5 s in a 10 ms GUI timer), so a training *thread* still froze painting whenever a run
started. The child imports TF, opens the project itself (SQLite WAL: the GUI keeps reading
and writing) and runs at a lower CPU priority; the parent only reads lines.

Protocol: the parent writes one JSON line (the job) to the child's stdin, then may write
``cancel``. The child writes one JSON object per line to its stdout -- events
(services.job_events: ``to_json()`` there, ``from_json()`` here), then ``{"type": "result", "value": ...}``
or ``{"type": "error", "error": class name, "message": ..., "user": bool}`` -- and anything
else (TF logs, stray prints) goes to stderr.

    ChildJob("train", {...}).run(on_event, cancel_event) -> result value
    for event in ChildJob("predict", {...}).events(): ...
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from segstudio.core.errors import SegstudioError
from segstudio.services.job_events import (
    BatchEvent,
    EpochEvent,
    JobEvent,
    MessageEvent,
    ProgressEvent,
    from_json,
)

KINDS = ("train", "predict", "export", "devices", "serve")
CHILD_NICENESS = 5
#: a frozen (PyInstaller) app has no ``python -m``: its entry script runs child_main() when
#: started with this first argument (packaging/segstudio_entry.py)
CHILD_FLAG = "--segstudio-child-job"


def child_command() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, CHILD_FLAG]
    # -P: ``python -m`` would put the current folder first on sys.path, so a json.py there ran
    return [sys.executable, "-P", "-m", "segstudio.services.subprocess_jobs"]


def child_pythonpath(inherited: str | None) -> str:
    """This package's folder, then the inherited entries -- absolute, and never an empty
    entry (one that means the current folder)."""
    entries = [os.path.abspath(p) for p in (inherited or "").split(os.pathsep) if p]
    return os.pathsep.join([_package_parent(), *entries])


#: PROJECT/logs/<kind>-<time>.log: the whole stderr of a child that failed (TF's log lines
#: stay out of the message the user reads)
LOGS_DIR = "logs"
STDERR_LINES = 5000
_KIND_NAMES = {"train": "training", "predict": "prediction", "serve": "prediction", "export": "export",
               "devices": "device listing"}


def death_message(kind: str, returncode: int | None) -> str:
    """One line for a child that ended without its result: a signal named, SIGKILL explained."""
    what = f"the {_KIND_NAMES.get(kind, kind)} process"
    if returncode is not None and returncode < 0:
        sig = -returncode
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == 9:  # what the kernel's out-of-memory killer sends
            hint = "; try a smaller batch or crop" if kind == "train" else ""
            return f"{what} was killed (signal 9) — most likely out of memory{hint}"
        return f"{what} was killed by {name} (signal {sig})"
    return f"{what} stopped unexpectedly (exit status {returncode})"


def write_log(root: str | Path | None, kind: str, text: str) -> Path | None:
    """The child's stderr in PROJECT/logs (None without a project or when it cannot be written)."""
    if not root or not text:
        return None
    from segstudio.core.atomic import write_text_atomic

    path = Path(root) / LOGS_DIR / f"{kind}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    try:
        path.parent.mkdir(exist_ok=True)
        write_text_atomic(path, text + "\n")
    except OSError:
        return None
    return path


def spawn_child(request: dict) -> subprocess.Popen:
    """``child_command()`` with a safe PYTHONPATH, the request written as its first line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = child_pythonpath(env.get("PYTHONPATH"))
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.pop("QT_QPA_PLATFORM", None)
    proc = subprocess.Popen(
        child_command(), stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env)
    proc.stdin.write(json.dumps(request) + "\n")
    proc.stdin.flush()
    return proc


class ChildError(SegstudioError):
    """The child reported an error (``user``: a SegstudioError, shown as is) or died."""

    def __init__(self, message: str, kind: str = "", user: bool = True, stderr: str = ""):
        super().__init__(message)
        self.kind, self.user, self.stderr = kind, user, stderr


def with_log(message: str, root: str | Path | None, kind: str, text: str) -> str:
    """``message`` naming the log file ``text`` was written to (as it is when none was)."""
    path = write_log(root, kind, text)
    return f"{message} (its full log: {path})" if path else message


def reported_error(event: dict, root: str | Path | None, kind: str, text: str) -> ChildError:
    """The ChildError for a child's ``error`` line; a bug's message (not a user error's)
    names the log holding its traceback."""
    message, user = event.get("message", "failed"), bool(event.get("user"))
    if not user:
        message = with_log(message, root, kind, text)
    return ChildError(message, event.get("error", ""), user, text)


def _package_parent() -> str:
    import segstudio

    return str(Path(segstudio.__file__).resolve().parents[1])


class ChildJob:
    """One job in a fresh ``python -m segstudio.services.subprocess_jobs`` process."""

    def __init__(self, kind: str, job: dict):
        if kind not in KINDS:
            raise ValueError(f"unknown job kind {kind!r}")
        self.kind, self.job = kind, dict(job)
        self.proc: subprocess.Popen | None = None
        self.stderr_tail: deque[str] = deque(maxlen=STDERR_LINES)
        self.result = None
        self._drained: threading.Thread | None = None

    def _start(self) -> subprocess.Popen:
        proc = spawn_child({"kind": self.kind, "job": self.job})
        self._drained = threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True)
        self._drained.start()
        self.proc = proc
        return proc

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        for line in proc.stderr:
            self.stderr_tail.append(line.rstrip())

    def _whole_stderr(self) -> str:
        """All of the child's stderr, once it has exited."""
        if self._drained is not None:
            self._drained.join(5)
        return "\n".join(self.stderr_tail)

    def cancel(self) -> None:
        """Ask the child to stop at its next check (training: after the current batch)."""
        proc = self.proc
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.write("cancel\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass

    def _pass_on(self, cancel: threading.Event | None) -> threading.Event:
        """Send a set ``cancel`` to the child the moment it is set (at once if it already is:
        the child exists by now); setting the returned event ends the watching thread."""
        done = threading.Event()
        if cancel is not None:
            def watch() -> None:
                while not done.is_set():
                    if cancel.wait(0.1):  # woken by the cancel itself; the timeout only lets it end
                        self.cancel()
                        return
            threading.Thread(target=watch, daemon=True).start()
        return done

    def events(self, cancel: threading.Event | None = None) -> Iterator[JobEvent]:
        """Yield the child's events (services.job_events); return (StopIteration.value) the
        result value. A set ``cancel`` stops the child at its next check.

        Closing the generator early cancels the child and waits for it to stop.
        """
        proc = self._start()
        watching = self._pass_on(cancel)
        finished = False
        try:
            for line in proc.stdout:
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    self.stderr_tail.append(line.rstrip())
                    continue
                kind = event.get("type")
                if kind == "result":
                    self.result = event.get("value")
                    finished = True
                elif kind == "error":
                    finished = True
                    if not event.get("user"):  # a bug's traceback goes to the log: wait for all of it
                        proc.wait()
                        text = self._whole_stderr()
                    else:
                        text = "\n".join(self.stderr_tail)
                    raise reported_error(event, self.job.get("root"), self.kind, text)
                else:
                    try:
                        yield from_json(event)
                    except (TypeError, ValueError):  # not an event this version knows
                        self.stderr_tail.append(line.rstrip())
            proc.wait()
            if not finished:
                text = self._whole_stderr()
                raise ChildError(with_log(death_message(self.kind, proc.returncode), self.job.get("root"),
                                          self.kind, text), "", True, text)
            return self.result
        finally:
            watching.set()
            if proc.poll() is None:
                self.cancel()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            for stream in (proc.stdin, proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass

    def run(self, on_event: Callable[[JobEvent], None] | None = None, cancel: threading.Event | None = None):
        """Run to the end, calling ``on_event`` per event; a set ``cancel`` stops the child."""
        gen = self.events(cancel)
        try:
            while True:
                try:
                    event = next(gen)
                except StopIteration as stop:
                    return stop.value
                if on_event is not None:
                    on_event(event)
        finally:
            gen.close()


# ---------------------------------------------------------------------------------- child side
class _Out:
    """Protocol writer on the real stdout (fd 1 itself is pointed at stderr)."""

    def __init__(self) -> None:
        self.stream = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)
        sys.stdout = sys.stderr
        self.lock = threading.Lock()

    def send(self, event: JobEvent | None = None, **fields) -> None:
        """Write an event (or the result/error line given as ``fields``)."""
        with self.lock:
            self.stream.write(json.dumps(event.to_json() if event is not None else fields) + "\n")
            self.stream.flush()


class _Callbacks:
    def __init__(self, out: _Out):
        self.out = out

    def on_batch(self, epoch, step, steps, loss) -> None:
        self.out.send(BatchEvent(int(epoch), int(step), int(steps), float(loss)))

    def on_epoch(self, r) -> None:
        self.out.send(EpochEvent({
            "epoch": int(r.epoch), "epochs": int(r.epochs), "train_loss": r.train_loss, "val_loss": r.val_loss,
            "per_class_iou": list(r.per_class_iou), "fg_miou": r.fg_miou, "pixel_accuracy": r.pixel_accuracy,
            "alarm": r.alarm, "seconds": float(r.seconds), "improved": bool(r.improved),
            "adjustment": r.adjustment, "val_pixels": [int(v) for v in r.val_pixels],
            "elapsed": float(r.elapsed), "minutes": r.minutes}))

    def on_message(self, text) -> None:
        self.out.send(MessageEvent(str(text)))


def _job_train(job: dict, out: _Out, cancel: threading.Event):
    from segstudio.services import corrections, devices
    from segstudio.store.project import Project

    with Project.open(job["root"]) as project, devices.device_scope(job.get("device")):
        run_id = corrections.train_with_corrections(project, job["config"], float(job.get("correction_weight", 1.0)),
                                                    _Callbacks(out), cancel)
        run = project.run(run_id)
        return {"run_id": run_id, "status": run.status, "message": run.message or "",
                "best_fg_miou": run.best_fg_miou, "model_path": run.model_path}


def _job_predict(job: dict, out: _Out, cancel: threading.Event):
    from segstudio.services import prediction_cache
    from segstudio.store.project import Project

    done_ids = []
    with Project.open(job["root"]) as project:
        for done, total, image_id in prediction_cache.predict_steps(
                project, job["image_ids"], model_path=job.get("model_path"), run_id=job.get("run_id"),
                cancelled=cancel.is_set, tta=int(job.get("tta", 1))):
            if image_id is not None:
                done_ids.append(image_id)
            out.send(ProgressEvent(done, total, image_id=image_id))
    return done_ids


def _job_export(job: dict, out: _Out, cancel: threading.Event):
    from segstudio.services import model_export
    from segstudio.store.project import Project

    with Project.open(job["root"]) as project:
        steps = model_export.export_steps(project, int(job["run_id"]), job["folder"], job["formats"])
        for done, total, fmt, _partial in steps:
            out.send(ProgressEvent(done, total, format=fmt))
            if cancel.is_set():
                break
        result = _partial
        return {"files": [str(f) for f in result.files], "cards": [str(c) for c in result.cards],
                "failed": [list(f) for f in result.failed]}


def _job_devices(job: dict, out: _Out, cancel: threading.Event):
    from segstudio.services.devices import device_info

    info = device_info()
    return {"devices": info.devices, "versions": info.versions}


def child_main() -> int:
    out = _Out()
    try:
        os.nice(CHILD_NICENESS)  # the GUI process keeps the CPU when cores are scarce
    except (AttributeError, OSError):
        pass
    cancel = threading.Event()
    first = sys.stdin.readline()

    def watch_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "cancel":
                cancel.set()
        cancel.set()  # the parent went away: stop too

    try:
        request = json.loads(first)
        if request["kind"] == "serve":  # a warm prediction process reads its own requests
            from segstudio.services.warm_predict import serve_child

            serve_child(request["job"], out)
            return 0
        threading.Thread(target=watch_stdin, daemon=True).start()
        fn = {"train": _job_train, "predict": _job_predict, "export": _job_export,
              "devices": _job_devices}[request["kind"]]
        value = fn(request["job"], out, cancel)
    except BaseException as e:
        import traceback

        traceback.print_exc()
        out.send(type="error", error=type(e).__name__, message=str(e) or type(e).__name__,
                 user=isinstance(e, (SegstudioError, OSError, ValueError)))
        return 1
    out.send(type="result", value=value)
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
