"""Running skvision on a Dask cluster.

Two routes, both documented in ``docs/scaling.md``:

* **joblib's dask backend.** Every ``n_jobs`` in skvision (descriptor chunks) and in
  scikit-learn (``cross_validate``, ``GridSearchCV``) goes through joblib, so
  wrapping the call in ``joblib.parallel_config(backend="dask")`` with a
  ``dask.distributed.Client`` connected sends that work to the cluster.
* **Dask arrays of images.** :func:`transform_dask` applies a fitted transformer
  block by block to a dask array of images that does not fit in memory; the
  result is a lazy dask array, equal to the in-memory ``transform``.

Examples
--------
>>> import dask.array as da
>>> import numpy as np
>>> from skvision import LBP
>>> from skvision.distributed import transform_dask
>>> images = np.random.default_rng(0).integers(0, 256, (20, 16, 16), dtype=np.uint8)
>>> lbp = LBP(P=8, R=1, method="uniform").fit(images)
>>> lazy = transform_dask(lbp, da.from_array(images, chunks=(5, 16, 16)))
>>> lazy.shape, lazy.chunks[0]
((20, 10), (5, 5, 5, 5))
>>> bool(np.allclose(lazy.compute(), lbp.transform(images)))
True
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

__all__ = ["transform_dask"]


def _n_features_out(estimator, sample):
    if hasattr(estimator, "n_features_out_"):
        return int(estimator.n_features_out_)
    try:
        return len(estimator.get_feature_names_out())
    except (AttributeError, TypeError, ValueError):
        # Estimators without names: describe one image to learn the width.
        return int(np.asarray(estimator.transform(sample)).shape[1])


def transform_dask(estimator, images):
    """Transform a dask array of images block by block with a fitted transformer.

    Parameters
    ----------
    estimator : fitted transformer
        Any skvision transformer (descriptor or neural) or a Pipeline ending in one.
    images : dask.array.Array of shape (N, H, W) or (N, H, W, C)
        Chunked along the batch axis; other axes are merged into single chunks
        (every image must be whole inside a block).

    Returns
    -------
    features : dask.array.Array of shape (N, n_features)
        Lazy, float64, chunked like ``images`` along the batch axis. Each block is
        ``estimator.transform`` of the matching block of images: a descriptor's
        result equals the in-memory transform exactly; a network's equals it to
        float rounding (its batches follow the blocks, and a convolution's sums
        depend on the batch: ~1e-5 for PretrainedFeatures on blocks of one image).

    Raises
    ------
    TypeError
        If ``images`` is not a dask array.
    ValueError
        If ``images`` is not 3-D or 4-D.
    """
    try:
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - dask is an optional extra
        raise ImportError("transform_dask needs dask: pip install 'skvision[distributed]'.") from exc

    if not isinstance(images, da.Array):
        raise TypeError(
            f"images must be a dask array; got {type(images).__name__}. "
            "For in-memory arrays call estimator.transform directly."
        )
    if images.ndim not in (3, 4):
        raise ValueError(
            f"images must be a dask array of shape (N, H, W) or (N, H, W, C); got shape {images.shape}."
        )
    check_is_fitted(estimator)
    whole_images = {axis: -1 for axis in range(1, images.ndim)}
    images = images.rechunk(whole_images)
    n_features = _n_features_out(estimator, images[:1].compute())

    def transform_block(block):
        if len(block) == 0:  # a block a boolean mask emptied: transform refuses empty batches
            return np.empty((0, n_features), dtype=np.float64)
        return np.asarray(estimator.transform(block), dtype=np.float64)

    return images.map_blocks(
        transform_block,
        dtype=np.float64,
        drop_axis=list(range(2, images.ndim)),
        chunks=(images.chunks[0], (n_features,)),
        meta=np.empty((0, 0), dtype=np.float64),
    )
