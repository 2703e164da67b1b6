"""Issue 10: ``kill -9`` during mask saves, many times -- never a torn mask, and the next
open of the project leaves no temp behind."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from segstudio.core.atomic import is_temp_name
from segstudio.io.masks import decode_mask
from segstudio.services.project_import import import_folder
from segstudio.store.project import Project

KILLS = 60
SIZE = 768  # big enough that a PNG save takes tens of milliseconds

SAVER = r"""
import sys
import numpy as np
from segstudio.io.masks import MaskFormat, write_mask
arrays = np.load(sys.argv[2])
versions = [arrays["a"], arrays["b"]]
print("ready", flush=True)
k = 0
while True:
    write_mask(sys.argv[1], versions[k % 2], MaskFormat.INDEX8)
    k += 1
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_kill_during_save_never_tears_a_mask_or_leaks_a_temp(tmp_path):
    rng = np.random.default_rng(0)
    a = rng.integers(0, 4, (SIZE, SIZE), dtype=np.uint8)  # noise: slow to encode
    b = (a + 1) % 4
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((SIZE, SIZE), np.uint8)).save(tmp_path / "images" / "x.png")
    mask = tmp_path / "masks" / "x.png"
    Image.fromarray(a).save(mask)
    project, _ = import_folder(tmp_path / "proj", tmp_path / "images", tmp_path / "masks")
    project.close()
    np.savez(tmp_path / "versions.npz", a=a, b=b)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}

    torn = temps_before_open = temps_after_open = 0
    rnd = random.Random(1)
    for _ in range(KILLS):
        child = subprocess.Popen([sys.executable, "-c", SAVER, str(mask), str(tmp_path / "versions.npz")],
                                 stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rnd.uniform(0.0, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        labels = decode_mask(mask).labels
        torn += not (np.array_equal(labels, a) or np.array_equal(labels, b))
        temps_before_open += sum(is_temp_name(p.name) for p in mask.parent.iterdir())
        Project.open(tmp_path / "proj").close()
        temps_after_open += sum(is_temp_name(p.name) for p in mask.parent.iterdir())
    print(f"\nkills={KILLS} torn={torn} temps_left_by_kills={temps_before_open} "
          f"temps_after_next_open={temps_after_open}")
    assert torn == 0 and temps_after_open == 0
    assert temps_before_open > KILLS // 4  # the kills did land mid-save
