"""Indexing on real masks: counts equal np.bincount; re-index reads only what changed."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

from segstudio.cli import main
from segstudio.core.classes import VOC_VOID
from segstudio.core.errors import BadFileError
from segstudio.core.stats import count_classes
from segstudio.io.masks import MaskFormat, write_mask
from segstudio.services.indexing import index_image, reindex
from segstudio.services.project_import import import_folder


def _by_stem(project):
    return {r.abs_path.stem: r for r in project.images()}


def _expected(mask: np.ndarray) -> dict[int, int]:
    bc = np.bincount(mask.reshape(-1))
    return {int(c): int(bc[c]) for c in np.flatnonzero(bc)}


def _touch_later(path, seconds: float = 5.0) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + int(seconds * 1e9)))


# -- counts ---------------------------------------------------------------------------

def test_counts_equal_bincount(tiny_project, tiny_dataset):
    recs = _by_stem(tiny_project)
    for stem, mask in tiny_dataset.masks.items():
        assert tiny_project.image_class_counts(recs[stem].id) == _expected(mask)
        assert recs[stem].ignored_pixels == 0
    for stem in tiny_dataset.unlabelled:
        assert tiny_project.image_class_counts(recs[stem].id) == {}
    totals = tiny_project.class_totals()
    np.testing.assert_array_equal(totals.pixels, tiny_dataset.counts())
    np.testing.assert_array_equal(totals.images, tiny_dataset.images_per_class())


@pytest.mark.parametrize("dtype, top", [(np.uint8, 4), (np.uint8, 256), (np.uint16, 3000)])
@pytest.mark.parametrize("shape", [(32, 32), (7, 13), (1, 1), (5, 8), (0, 4)])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.5, 1.0])
def test_count_classes_equals_bincount(dtype, top, shape, density):
    rng = np.random.default_rng(hash((str(dtype), top, shape, density)) % 2**32)
    m = np.zeros(shape, dtype=dtype)
    hit = rng.random(shape) < density
    m[hit] = rng.integers(1, top, hit.sum())
    expected = np.bincount(m.reshape(-1).astype(np.int64), minlength=top)
    mc = count_classes(m, top)
    np.testing.assert_array_equal(mc.pixels, expected[:top])
    assert mc.ignored == 0
    # an ignore id moves its pixels to `ignored`
    mc = count_classes(m, top, ignore_ids=(1,))
    assert mc.ignored == expected[1] and mc.pixels[1] == 0
    assert mc.pixels.sum() + mc.ignored == m.size


def test_count_classes_non_contiguous_view():
    m = np.zeros((16, 16), dtype=np.uint8)
    m[::3, ::2] = 5
    view = m[1:, ::3]  # strided, odd size
    np.testing.assert_array_equal(count_classes(view, 6).pixels, np.bincount(view.reshape(-1), minlength=6))


# -- re-index -------------------------------------------------------------------------

def test_unchanged_reindex_counts_nothing(tiny_project, tiny_dataset):
    rep = reindex(tiny_project)
    assert rep.checked == len(tiny_dataset.masks)
    assert rep.counted == 0
    assert rep.failed == []
    assert reindex(tiny_project, force=True).counted == len(tiny_dataset.masks)


def test_reindex_after_editing_one_mask(tiny_project, tiny_dataset):
    recs = _by_stem(tiny_project)
    before = {s: tiny_project.image_class_counts(recs[s].id) for s in tiny_dataset.masks}
    edited = tiny_dataset.masks_dir / "img02.png"
    new = tiny_dataset.masks["img02"].copy()
    new[:10, :10] = 3
    new[20:, 20:] = 2
    Image.fromarray(new).save(edited)
    _touch_later(edited)

    rep = reindex(tiny_project)
    assert rep.counted == 1
    assert rep.failed == []
    recs = _by_stem(tiny_project)
    assert tiny_project.image_class_counts(recs["img02"].id) == _expected(new)
    for stem in tiny_dataset.masks:
        if stem != "img02":
            assert tiny_project.image_class_counts(recs[stem].id) == before[stem]
    st = edited.stat()
    assert recs["img02"].indexed_mask_bytes == st.st_size
    assert recs["img02"].indexed_mask_mtime == st.st_mtime
    assert reindex(tiny_project).counted == 0  # and now it is up to date again


def test_reindex_notices_mtime_only_and_size_only_changes(tiny_project, tiny_dataset):
    path = tiny_dataset.masks_dir / "img00.png"
    _touch_later(path)  # same bytes, new mtime
    assert reindex(tiny_project).counted == 1
    st = path.stat()
    Image.fromarray(tiny_dataset.masks["img00"]).save(path, compress_level=0)  # same pixels, new size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # and the old mtime
    assert path.stat().st_size != st.st_size
    assert reindex(tiny_project).counted == 1
    rec = _by_stem(tiny_project)["img00"]
    assert tiny_project.image_class_counts(rec.id) == _expected(tiny_dataset.masks["img00"])


def test_index_image_after_edit_updates_db(tiny_project, tiny_dataset):
    rec = _by_stem(tiny_project)["img01"]
    new = np.full((32, 32), 2, np.uint8)
    new[0, :7] = 1
    write_mask(rec.abs_mask_path, new, MaskFormat.INDEX8)
    upd = index_image(tiny_project, rec.id)
    assert upd.image_id == rec.id
    assert upd.pixels.tolist() == [0, 7, 32 * 32 - 7, 0]
    assert tiny_project.image_class_counts(rec.id) == {1: 7, 2: 32 * 32 - 7}
    assert tiny_project.class_totals().pixels.tolist() == (
        tiny_dataset.counts() - np.bincount(tiny_dataset.masks["img01"].reshape(-1), minlength=4)
        + np.array([0, 7, 32 * 32 - 7, 0])
    ).tolist()
    assert reindex(tiny_project).counted == 0  # index_image recorded the new size/mtime


def test_index_image_errors(tiny_project, tiny_dataset):
    recs = _by_stem(tiny_project)
    with pytest.raises(BadFileError, match="no mask"):
        index_image(tiny_project, recs["unlab00"].id)
    recs["img00"].abs_mask_path.unlink()
    with pytest.raises(BadFileError, match="not found"):
        index_image(tiny_project, recs["img00"].id)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(recs["img01"].abs_mask_path)
    with pytest.raises(BadFileError, match="8x8"):
        index_image(tiny_project, recs["img01"].id)


def test_reindex_bad_masks_are_reported_and_cleared(tiny_project, tiny_dataset):
    recs = _by_stem(tiny_project)
    recs["img00"].abs_mask_path.unlink()
    wrong_size = recs["img01"].abs_mask_path
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(wrong_size)
    _touch_later(wrong_size)
    bad_value = recs["img02"].abs_mask_path
    m = tiny_dataset.masks["img02"].copy()
    m[0, 0] = 77
    Image.fromarray(m).save(bad_value)
    _touch_later(bad_value)

    rep = reindex(tiny_project)
    failed = {os.fspath(p): why for p, why in rep.failed}
    assert set(failed) == {os.fspath(recs[s].abs_mask_path) for s in ("img00", "img01", "img02")}
    assert "not found" in failed[os.fspath(recs["img00"].abs_mask_path)]
    assert "8x8" in failed[os.fspath(wrong_size)]
    assert "77" in failed[os.fspath(bad_value)]
    assert rep.counted == 0
    # stale counts of the bad masks are not kept
    assert tiny_project.image_class_counts(recs["img01"].id) == {}
    assert tiny_project.image_class_counts(recs["img02"].id) == {}
    assert tiny_project.image_class_counts(recs["img03"].id) == _expected(tiny_dataset.masks["img03"])

    # fixing a mask makes the next re-index count it again
    Image.fromarray(tiny_dataset.masks["img02"]).save(bad_value)
    _touch_later(bad_value, 10)
    rep = reindex(tiny_project)
    assert rep.counted == 1
    assert tiny_project.image_class_counts(recs["img02"].id) == _expected(tiny_dataset.masks["img02"])


def test_reindex_counts_void_as_ignored(tmp_path, tiny):
    ds = tiny.dataset(tmp_path / "d", n=2, n_unlabelled=0)
    m = ds.masks["img00"].copy()
    m[:3] = VOC_VOID
    write_mask(ds.masks_dir / "img00.png", m, MaskFormat.PALETTE)
    project, report = import_folder(tmp_path / "p", ds.images_dir, ds.masks_dir)
    try:
        assert not report.skipped
        rec = _by_stem(project)["img00"]
        assert rec.ignored_pixels == 3 * 32
        assert VOC_VOID not in project.image_class_counts(rec.id)
        m[3] = VOC_VOID
        write_mask(ds.masks_dir / "img00.png", m, MaskFormat.PALETTE)
        _touch_later(ds.masks_dir / "img00.png")
        assert reindex(project).counted == 1
        assert _by_stem(project)["img00"].ignored_pixels == 4 * 32
        assert project.class_totals().ignored == 4 * 32
    finally:
        project.close()


def test_progress_reports_reach_the_total(tiny_project, tiny_dataset):
    seen = []
    reindex(tiny_project, force=True, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1] == (len(tiny_dataset.masks), len(tiny_dataset.masks))


# -- CLI ------------------------------------------------------------------------------

def test_cli_index(tiny_project, tiny_dataset, capsys):
    root = str(tiny_project.root)
    assert main(["index", root]) == 0
    out = capsys.readouterr().out
    assert "checked 4 masks, counted 0" in out
    assert main(["index", root, "--force"]) == 0
    assert "counted 4" in capsys.readouterr().out
    (tiny_dataset.masks_dir / "img03.png").unlink()
    assert main(["index", root]) == 1
    out, err = capsys.readouterr()
    assert "img03.png: mask file not found" in err
    assert "Traceback" not in err
