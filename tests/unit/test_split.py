"""The validation split is stratified by class presence and stable."""

import numpy as np

from segstudio.core.split import stratified_split


def _presence(n, classes, seed=0):
    rng = np.random.default_rng(seed)
    p = np.zeros((n, classes), bool)
    p[:, 0] = True
    for c in range(1, classes):  # long-tailed: class c in ~ n * 0.6 / c images, at least 2
        k = max(2, int(n * 0.6 / c))
        p[rng.choice(n, k, replace=False), c] = True
    return p


def test_every_class_with_two_images_is_in_validation_and_keeps_a_training_image():
    keys = [f"images/img_{i:03d}.png" for i in range(60)]
    p = _presence(60, 32)
    val = stratified_split(keys, p, 15)
    for c in range(1, 32):
        assert p[val, c].any(), c
        assert p[~val, c].any(), c
    assert 9 <= val.sum() <= 15  # about 15%, growing up to 25% to hold every class


def test_the_split_does_not_depend_on_the_order_of_the_images():
    keys = [f"images/img_{i:03d}.png" for i in range(40)]
    p = _presence(40, 12, seed=3)
    val = stratified_split(keys, p, 15)
    perm = np.random.default_rng(1).permutation(40)
    val2 = stratified_split([keys[i] for i in perm], p[perm], 15)
    assert [keys[i] for i in np.flatnonzero(val)] == sorted(keys[i] for i in perm[val2])


def test_a_class_in_one_image_stays_in_training_and_two_images_give_one_validation_image():
    keys = ["a.png", "b.png", "c.png"]
    p = np.array([[1, 1, 0], [1, 0, 0], [1, 0, 0]], bool)
    val = stratified_split(keys, p, 15)
    assert not val[0] and val.sum() == 1
    assert stratified_split(["x.png"], p[:1], 15).sum() == 0


def test_an_imported_project_has_every_class_in_validation(tmp_path, tiny):
    from segstudio.services.project_import import import_folder

    ds = tiny.dataset(tmp_path / "d", n=12, n_unlabelled=0)
    project, _ = import_folder(tmp_path / "p", ds.images_dir, ds.masks_dir, ds.classes_file)
    val = project.class_totals("val").images
    train = project.class_totals("train").images
    for c in range(1, 4):
        if ds.images_per_class()[c] >= 2:
            assert val[c] >= 1 and train[c] >= 1
    project.close()
