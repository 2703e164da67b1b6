"""Training on several devices or machines with TensorFlow's own tf.distribute.

Which strategy (TF_CONFIG: MultiWorkerMirrored; several GPUs or logical CPUs: Mirrored),
this process's worker role, the per-batch agreement between workers (stop codes and one
clock), and the workarounds for two Keras 3 faults under a multi-worker strategy. Used by
``ml.trainer``; nothing here imports TensorFlow at module level.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass

import keras


@dataclass(frozen=True)
class WorkerRole:
    """This process's place in a ``TF_CONFIG`` cluster; the chief alone records the run."""

    index: int
    count: int
    is_chief: bool


def worker_role() -> WorkerRole | None:
    """From ``TF_CONFIG`` (no TensorFlow needed): None when this is not a multi-worker run."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return None
    try:
        cfg = json.loads(raw)
        cluster, task = cfg["cluster"], cfg["task"]
        kind, index = str(task["type"]), int(task.get("index", 0))
        count = sum(len(cluster.get(k, [])) for k in ("chief", "worker"))
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"TF_CONFIG is not a TensorFlow cluster spec ({type(e).__name__}: {e}): {raw}") from None
    # TensorFlow's rule: the "chief" task, or worker 0 when the cluster names no chief
    is_chief = kind == "chief" or (kind == "worker" and index == 0 and "chief" not in cluster)
    return WorkerRole(index if kind == "worker" else 0, count, is_chief)


def strategy_for_devices():
    """MultiWorkerMirrored with TF_CONFIG; Mirrored over several GPUs, or over several logical
    CPUs when the CPU was split (tests); else None (the default strategy)."""
    import tensorflow as tf

    if os.environ.get("TF_CONFIG"):
        worker_role()  # a malformed TF_CONFIG fails here with a readable message
        # no CommunicationOptions(timeout_seconds=...): TF keeps one thread per collective alive
        # for the whole timeout (~100 per step here: thousands within a minute, then abort()).
        # A dead worker is found by the coordination service's heartbeats instead.
        with _exit_unless_done(JOIN_TIMEOUT_S, "not every worker in TF_CONFIG started within "
                               f"{JOIN_TIMEOUT_S:g} s (one failed before training, or an address or port "
                               "is wrong): start them all"):
            strategy = tf.distribute.MultiWorkerMirroredStrategy()
        _restore_sigterm()
        return strategy
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    cpus = tf.config.list_logical_devices("CPU")
    if not gpus and len(cpus) > 1:
        return tf.distribute.MirroredStrategy([d.name for d in cpus])
    return None


#: seconds a worker waits for the others to join its cluster before it gives up
JOIN_TIMEOUT_S = float(os.environ.get("SEGSTUDIO_JOIN_TIMEOUT", "120"))


#: a separate process: the parent may be blocked inside TensorFlow holding the GIL, where no
#: thread or signal handler of its own can run
_WATCHDOG = """
import os, sys, time
parent, seconds, message = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
time.sleep(seconds)
if os.getppid() == parent:
    sys.stderr.write("segstudio train: error: " + message + "\\n")
    sys.stderr.flush()
    os.kill(parent, 9)
"""


@contextlib.contextmanager
def _exit_unless_done(seconds: float, message: str):
    """Kill this process with ``message`` if the block has not returned after ``seconds``:
    joining a cluster blocks inside TensorFlow, out of reach of exceptions and signals."""

    if getattr(sys, "frozen", False):  # a packaged app's executable is not a Python to run -c with
        yield
        return
    watchdog = subprocess.Popen([sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(seconds), message])
    try:
        yield
    finally:
        watchdog.kill()
        watchdog.wait()


def _restore_sigterm() -> None:
    """TensorFlow's coordination service installs a SIGTERM "preemption notifier" that only
    records the signal, so ``kill`` no longer ends a worker; put the default action back."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, signal.SIG_DFL)



# what a batch's end decides; across workers the largest wins
GO, TIME_UP, CANCEL, NAN = 0, 1, 2, 3


class WorkerAgreement:
    """One all-reduce per batch over all workers of (which stop codes were raised, elapsed
    seconds): a cancel, NaN or spent budget on one worker stops all at the same batch (the
    largest code wins), and the learning rate of a time-budgeted run follows one clock (the
    workers' mean), so the weights stay identical."""

    def __init__(self, strategy):
        import tensorflow as tf

        self.tf, self.strategy = tf, strategy

    def __call__(self, code: int, elapsed: float) -> tuple[int, float]:
        tf = self.tf
        raised = [float(code == c) for c in (TIME_UP, CANCEL, NAN)]
        local = self.strategy.experimental_distribute_values_from_function(
            lambda _: tf.constant([*raised, elapsed], tf.float64))
        total = self.strategy.reduce(tf.distribute.ReduceOp.SUM, local, axis=None).numpy()
        agreed = max((c for c, n in zip((TIME_UP, CANCEL, NAN), total[:3], strict=True) if n > 0),
                     default=GO)
        return agreed, float(total[3] / self.strategy.num_replicas_in_sync)


def synchronize_batch_norm(model: keras.Model) -> None:
    """Batch statistics over the global batch, not each replica's share: the same numbers as one
    device, and moving averages that stay identical on every worker (each worker's own would
    drift apart, and with them its validation and the model it saves)."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.synchronized = True


def per_replica_logs(model: keras.Model) -> None:
    """Second Keras 3 multi-worker fault: fit reduces each replica's scalar logs with
    ``strategy.reduce("MEAN", v, axis=0)``, which fails on a scalar ("Invalid reduction
    dimension 0"). Give each log a length-1 axis: the reduce then averages the replicas."""
    import tensorflow as tf

    step = model.train_step
    model.train_step = lambda data: {k: tf.reshape(v, (1,)) for k, v in step(data).items()}


def lost_worker_message(error: Exception) -> str | None:
    """One line for a collective that failed because another worker died, hung or failed."""
    import tensorflow as tf

    text = str(error)
    if not isinstance(error, tf.errors.OpError) or "Collective ops is aborted" not in text:
        return None  # this worker's own failure: raised as it is
    own = role.index if (role := worker_role()) else -1
    tasks = sorted({int(t) for t in re.findall(r"/job:worker/replica:\d+/task:(\d+)", text)} - {own})
    who = ("worker " + ", ".join(map(str, tasks))) if tasks else "another worker"
    return (f"training stopped: {who} stopped answering ({type(error).__name__}; it died, was killed "
            "or failed: see its own output)")


def build_from_spec(model: keras.Model, element_spec) -> None:
    """Work around Keras 3 fit under a tf.distribute strategy: before training it builds the model
    from a first batch averaged over the replicas with ``strategy.reduce``, which cannot take an
    (x, y) tuple across workers ("Attempt to convert a value (PerReplica...) to a Tensor",
    keras-team/keras#20585). Build from the dataset's element spec instead: shapes and dtypes
    are all that build reads."""
    build = model._maybe_symbolic_build
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: build(data_batch=element_spec)


