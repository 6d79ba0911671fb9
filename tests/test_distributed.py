"""Dask: descriptor transforms, cross_validate and GridSearchCV on a LocalCluster; dask arrays of images."""

import numpy as np
import pytest

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from joblib import parallel_config  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_validate  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.svm import LinearSVC  # noqa: E402

from skvision import HOG, LBP  # noqa: E402
from skvision.datasets import load_textures  # noqa: E402
from skvision.distributed import transform_dask  # noqa: E402


@pytest.fixture(scope="module")
def textures():
    return load_textures(patch_size=24, n_per_class=20, random_state=0, return_X_y=True)


def test_descriptor_transform_under_dask_backend_equals_local(dask_client, textures, backends_take_any_work):
    X, _ = textures
    lbp = LBP(P=8, R=1, method="uniform", grid=(2, 2), batch_size=7, n_jobs=-1).fit(X)
    expected = lbp.set_params(n_jobs=1).transform(X)
    lbp.set_params(n_jobs=-1)
    with distributed.get_task_stream(dask_client) as stream, parallel_config(backend="dask"):
        got = lbp.transform(X)
    np.testing.assert_array_equal(got, expected)
    # The chunks really ran as tasks on the cluster's workers (60 images / 7 per chunk).
    assert len(stream.data) >= 9


def test_cross_validate_and_grid_search_on_the_cluster(dask_client, textures):
    X, y = textures
    pipe = make_pipeline(HOG(pixels_per_cell=(8, 8), cells_per_block=(1, 1)), LinearSVC(dual="auto"))
    grid = {"hog__orientations": [6, 9]}
    local = cross_validate(pipe, X, y, cv=3, n_jobs=1)["test_score"]
    local_search = GridSearchCV(pipe, grid, cv=3, n_jobs=1).fit(X, y)
    with parallel_config(backend="dask"):
        remote = cross_validate(pipe, X, y, cv=3, n_jobs=-1)["test_score"]
        search = GridSearchCV(pipe, grid, cv=3, n_jobs=-1).fit(X, y)
    # Same folds, same deterministic models: the cluster must give the local scores exactly.
    np.testing.assert_allclose(remote, local)
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], local_search.cv_results_["mean_test_score"]
    )
    assert search.best_params_ == local_search.best_params_
    assert local.mean() > 1 / 3  # better than chance on three classes


def test_transform_dask_equals_in_memory(textures):
    X, _ = textures
    hog = HOG(pixels_per_cell=(6, 6), cells_per_block=(2, 2)).fit(X)
    lazy = transform_dask(hog, da.from_array(X, chunks=(11, 12, 12)))
    assert lazy.shape == (X.shape[0], hog.n_features_out_)
    assert lazy.chunks[0] == da.from_array(X, chunks=(11, 24, 24)).chunks[0]
    np.testing.assert_array_equal(lazy.compute(scheduler="synchronous"), hog.transform(X))


def test_transform_dask_with_blocks_a_mask_emptied(textures):
    # Boolean-mask filtering leaves empty blocks; transform refused them as an empty batch.
    X, y = textures
    hog = HOG(pixels_per_cell=(6, 6), cells_per_block=(2, 2)).fit(X)
    images = da.from_array(X, chunks=(10, 24, 24))
    kept = images[da.from_array(y == 2, chunks=10)].compute_chunk_sizes()
    assert 0 in kept.chunks[0]
    got = transform_dask(hog, kept).compute(scheduler="synchronous")
    np.testing.assert_array_equal(got, hog.transform(X[y == 2]))


def test_transform_dask_on_the_cluster(dask_client, textures):
    X, _ = textures
    lbp = LBP(P=8, R=1, method="uniform").fit(X)
    got = dask_client.compute(transform_dask(lbp, da.from_array(X, chunks=(16, 24, 24)))).result()
    np.testing.assert_array_equal(got, lbp.transform(X))


def test_transform_dask_bad_input():
    lbp = LBP().fit(np.zeros((2, 8, 8)))
    with pytest.raises(TypeError, match="must be a dask array"):
        transform_dask(lbp, np.zeros((2, 8, 8)))
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        transform_dask(lbp, da.zeros((8, 8)))
