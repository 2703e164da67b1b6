"""tf.distribute paths on one CPU machine: two workers over 127.0.0.1 (MultiWorkerMirroredStrategy)
and two logical CPU devices in one process (MirroredStrategy), each in fresh processes."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY_ARGS = ["--filters", "4", "--depth", "2", "--batch", "8", "--steps-per-epoch", "3"]


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def child_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    return {**env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "TF_CPP_MIN_LOG_LEVEL": "2",
            "KERAS_BACKEND": "tensorflow", **extra}


class Cluster:
    """``segstudio train`` on each project copy as one TF_CONFIG cluster; every process is
    killed on exit, whatever happened."""

    def __init__(self, projects, args, tmp_path):
        ports = free_ports(len(projects))
        workers = [f"127.0.0.1:{p}" for p in ports]
        self.logs = [tmp_path / f"worker{i}.log" for i in range(len(projects))]
        self.procs = []
        for i, project in enumerate(projects):
            tf_config = json.dumps({"cluster": {"worker": workers}, "task": {"type": "worker", "index": i}})
            with open(self.logs[i], "a") as log:  # O_APPEND: TF C++ logs and Python share the file
                self.procs.append(subprocess.Popen(
                    [sys.executable, "-m", "segstudio", "train", str(project), *args],
                    env=child_env(TF_CONFIG=tf_config, SEGSTUDIO_JOIN_TIMEOUT="120"),
                    stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path))

    def wait(self, i: int, timeout: float) -> int:
        return self.procs[i].wait(timeout=timeout)

    def log(self, i: int) -> str:
        return self.logs[i].read_text()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)


@pytest.fixture
def two_copies(tmp_path):
    from tests.ml.conftest import make_tiny_project

    project, _ = make_tiny_project(tmp_path / "w0")
    project.close()
    shutil.copytree(tmp_path / "w0", tmp_path / "w1")
    return tmp_path / "w0" / "proj", tmp_path / "w1" / "proj"


def open_project(path):
    from segstudio.store.project import Project

    return Project.open(path)


@pytest.mark.timeout(420)
def test_two_workers_train_identical_weights_and_the_chief_records_one_run(two_copies, tmp_path):
    chief, worker = two_copies
    with Cluster(two_copies, [*TINY_ARGS, "--epochs", "2"], tmp_path) as cluster:
        rcs = [cluster.wait(i, 300) for i in (0, 1)]
        assert rcs == [0, 0], cluster.log(0)[-2000:] + cluster.log(1)[-2000:]
        assert "CollectiveAllReduceStrategy over 2 replicas" in cluster.log(0)
        assert "worker 1 of 2: finished" in cluster.log(1)
    with open_project(chief) as p:
        runs = p.runs()
        assert [r.status for r in runs] == ["finished"] and len(p.epochs(runs[0].id)) == 2
        chief_ckpt = Path(runs[0].checkpoint_path)
    with open_project(worker) as p:
        assert p.runs() == []  # the other workers record nothing
    assert sorted(x.name for x in (worker / "runs").iterdir()) == ["worker_1"]
    a = keras.saving.load_model(chief_ckpt, compile=False)
    b = keras.saving.load_model(worker / "runs" / "worker_1" / "checkpoint.keras", compile=False)
    for va, vb in zip(a.weights, b.weights, strict=True):  # batch-norm moving statistics too
        np.testing.assert_array_equal(np.asarray(va), np.asarray(vb), err_msg=va.path)


@pytest.mark.timeout(420)
def test_a_killed_worker_ends_the_others_with_a_message_and_sigterm_ends_a_worker(two_copies, tmp_path):
    with Cluster(two_copies, [*TINY_ARGS, "--epochs", "500"], tmp_path) as cluster:
        deadline = time.monotonic() + 300
        while "epoch 1/" not in cluster.log(1):
            assert time.monotonic() < deadline and cluster.procs[1].poll() is None, cluster.log(1)[-2000:]
            time.sleep(0.5)
        cluster.procs[1].send_signal(signal.SIGTERM)  # TF's coordination service swallowed SIGTERM
        assert cluster.wait(1, 30) == -signal.SIGTERM
        t0 = time.monotonic()
        assert cluster.wait(0, 120) == 1
        assert time.monotonic() - t0 < 90
    last = cluster.log(0).strip().splitlines()
    # TF's collective all-reduce keeps a multiprocessing ThreadPool whose __del__ may print an
    # "Exception ignored" traceback at interpreter exit: look past it to the run's last lines
    ours = [line for line in last if line.startswith(("run ", "model: ", "checkpoint: "))]
    assert any("failed: training stopped: worker 1 stopped answering" in line for line in ours), last[-30:]
    with open_project(two_copies[0]) as p:
        assert [r.status for r in p.runs()] == ["failed"]


@pytest.mark.timeout(120)
def test_a_worker_whose_cluster_never_forms_exits_with_a_message(tiny_project, tmp_path):
    project, _ = tiny_project
    project.close()
    port, unused = free_ports(2)
    tf_config = json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}", f"127.0.0.1:{unused}"]},
                            "task": {"type": "worker", "index": 0}})
    proc = subprocess.run([sys.executable, "-m", "segstudio", "train", str(project.root), *TINY_ARGS],
                          env=child_env(TF_CONFIG=tf_config, SEGSTUDIO_JOIN_TIMEOUT="10"),
                          capture_output=True, text=True, timeout=100)
    assert proc.returncode != 0
    assert "not every worker in TF_CONFIG started within 10 s" in proc.stderr


def mirrored_run(devices: int, tmp_path) -> dict:
    out = tmp_path / f"devices{devices}.json"
    subprocess.run([sys.executable, str(ROOT / "tests" / "ml" / "mirrored_run.py"), str(devices), str(out)],
                   env=child_env(), check=True, timeout=240, capture_output=True)
    return json.loads(out.read_text())


@pytest.mark.timeout(600)
def test_two_logical_devices_match_one_device_loss_and_iou(tmp_path):
    one, two = mirrored_run(1, tmp_path), mirrored_run(2, tmp_path)
    assert one["replicas"] == 1 and two["replicas"] == 2
    assert "MirroredStrategy over 2 replicas" in two["messages"]
    # same global batch split in two: per-replica losses averaged (not summed) and batch norm
    # over the global batch; only the losses' per-replica normalisation differs slightly
    np.testing.assert_allclose(two["losses"], one["losses"], rtol=1e-2)
    # (a 2x per-replica scaling error is what this catches; the split batch normalises each
    # half by its own weights, 0.1-0.3% apart depending on the draw)
    assert two["losses"][0] == pytest.approx(one["losses"][0], rel=5e-3)
    # per-class IoU over the whole validation split, once: every non-void pixel counted once,
    # the same matrix as a plain copy of the weights gives
    assert np.sum(two["confusion"]) == two["val_pixels"]
    assert two["confusion"] == two["confusion_plain"]


@pytest.mark.timeout(420)
def test_ctrl_c_on_one_worker_cancels_every_worker_at_the_same_batch(two_copies, tmp_path):
    with Cluster(two_copies, [*TINY_ARGS, "--epochs", "500"], tmp_path) as cluster:
        deadline = time.monotonic() + 300
        while "epoch 2/" not in cluster.log(1):
            assert time.monotonic() < deadline and cluster.procs[1].poll() is None, cluster.log(1)[-2000:]
            time.sleep(0.5)
        cluster.procs[1].send_signal(signal.SIGINT)
        assert [cluster.wait(i, 120) for i in (1, 0)] == [130, 130]
    assert "worker 1 of 2: cancelled: cancelled" in cluster.log(1)
    assert "cancelled" in cluster.log(0) and "(on another worker)" in cluster.log(0)
    with open_project(two_copies[0]) as p:
        (run,) = p.runs()
        assert run.status == "cancelled"
        epochs_done = len(p.epochs(run.id))
    state = json.loads((two_copies[1] / "runs" / "worker_1" / "checkpoint.keras.json").read_text())
    assert state["epoch"] == epochs_done  # both stopped in the same epoch
