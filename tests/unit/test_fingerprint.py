"""The dataset fingerprint: objects and extents per class, measured while indexing, kept current."""

import json
import subprocess
import sys

import numpy as np
from PIL import Image

from segstudio.core.fingerprint import EXTENT_EDGES, histogram_quantile
from segstudio.services.fingerprint import measure_objects


def _disc(m, cy, cx, r, c):
    yy, xx = np.mgrid[: m.shape[0], : m.shape[1]]
    m[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = c


def test_objects_are_connected_components_with_their_bounding_box_extent():
    m = np.zeros((64, 64), np.uint8)
    _disc(m, 10, 10, 3, 1)  # 7 px across
    _disc(m, 40, 40, 8, 1)  # 17 px across
    m[50, 2:30] = 2  # a 1-px line, 28 px long
    m[60, 60] = 2  # a single pixel
    objs = measure_objects(m, [0, 1, 2])
    assert 0 not in objs  # background is not an object
    n1, h1 = objs[1]
    n2, h2 = objs[2]
    assert (n1, n2) == (2, 2)
    # 7 px falls in the bin up to 8, 17 px in the bin up to 24; 28 px up to 32 and 1 px up to 1
    assert h1[EXTENT_EDGES.index(8)] == 1 and h1[EXTENT_EDGES.index(24)] == 1
    assert h2[EXTENT_EDGES.index(32)] == 1 and h2[EXTENT_EDGES.index(1)] == 1
    assert histogram_quantile(h1, 0.95) == 24 and histogram_quantile(h1, 0.5) == 8


def test_diagonal_neighbours_are_one_object():
    m = np.zeros((8, 8), np.uint8)
    for i in range(6):
        m[i, i] = 3
    assert measure_objects(m, [3])[3][0] == 1


def test_indexing_stores_the_fingerprint_and_reindex_keeps_it_current(tiny_project, tiny_dataset):
    fp = tiny_project.fingerprint(None)
    assert fp.measured_images == 4 and fp.images == 4 and fp.width_min == 32 and fp.channels == 1
    assert len(fp.intensity) == 3 and fp.intensity[0] <= fp.intensity[1] <= fp.intensity[2]
    red = next(c for c in fp.classes if c.id == 1)
    assert red.objects >= 1 and red.extent_p95 is not None and red.extent_p95 <= 8
    # paint one big red square into a mask: re-index measures it
    m = tiny_dataset.masks["img00"].copy()
    m[:, :] = 0
    m[2:30, 2:30] = 1
    Image.fromarray(m).save(tiny_dataset.masks_dir / "img00.png")
    from segstudio.services.indexing import reindex

    assert reindex(tiny_project).counted == 1
    red = next(c for c in tiny_project.fingerprint(None).classes if c.id == 1)
    assert red.extent_p95 == 32  # 28 px across: the bin up to 32


def test_projects_indexed_before_fingerprints_get_them_on_the_next_index(tiny_project):
    from segstudio.services.indexing import reindex
    from segstudio.store.models import FingerprintRow

    with tiny_project.session() as s, s.begin():
        s.query(FingerprintRow).delete()
    assert tiny_project.fingerprint(None).measured_images == 0
    assert reindex(tiny_project).counted == 4
    assert tiny_project.fingerprint(None).measured_images == 4


def test_stats_json_has_the_fingerprint(tiny_project):
    out = subprocess.run([sys.executable, "-m", "segstudio", "stats", str(tiny_project.root), "--json"],
                         capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    fp = data["fingerprint"]
    assert fp["images"] == 4 and {c["id"] for c in fp["classes"]} == {0, 1, 2, 3}
    assert all("extent_p95" in c and "objects" in c for c in fp["classes"])
