"""Helpers for testing skvision estimators: scikit-learn's estimator checks, and peak memory.

scikit-learn's common checks feed estimators 2-D feature tables ``(n_samples,
n_features)``. skvision estimators take batches of images ``(N, H, W[, C])`` and
reject 2-D input on purpose (a 2-D array is ambiguous: one image, or flattened
images of unknown size). The checks below therefore cannot apply; every other
check runs and must pass.
"""

from __future__ import annotations

IMAGE_INPUT_REASON = (
    "feeds a 2-D feature table; skvision estimators take image batches (N, H, W[, C]) "
    "and reject 2-D input by design"
)

#: Checks of ``parametrize_with_checks`` that fit or transform on 2-D tables.
CHECKS_NEEDING_2D_TABLES = (
    "check_fit_score_takes_y",
    "check_estimators_overwrite_params",
    "check_dont_overwrite_parameters",
    "check_estimators_fit_returns_self",
    "check_readonly_memmap_input",
    "check_n_features_in_after_fitting",
    "check_positive_only_tag_during_fit",
    "check_estimators_dtypes",
    "check_dtype_object",
    "check_estimators_empty_data_messages",
    "check_pipeline_consistency",
    "check_estimators_nan_inf",
    "check_estimators_pickle",
    "check_f_contiguous_array_estimator",
    "check_transformer_data_not_an_array",
    "check_transformer_general",
    "check_transformer_preserve_dtypes",
    "check_methods_sample_order_invariance",
    "check_methods_subset_invariance",
    "check_fit2d_1sample",
    "check_fit2d_1feature",
    "check_dict_unchanged",
    "check_fit_idempotent",
    "check_fit_check_is_fitted",
    "check_n_features_in",
    "check_fit2d_predict1d",
)


def expected_failed_checks(estimator=None, extra=None) -> dict:
    """The ``expected_failed_checks`` mapping for ``parametrize_with_checks``.

    Parameters
    ----------
    estimator : estimator or None
        Unused by the default list; lets this function serve directly as the
        ``expected_failed_checks`` callable of ``parametrize_with_checks``.
    extra : dict or None
        Further ``{check_name: reason}`` entries specific to one estimator
        (classifier and regressor checks, for example).

    Returns
    -------
    dict of str -> str
        Check name -> one-line reason it cannot apply.
    """
    reasons = {name: IMAGE_INPUT_REASON for name in CHECKS_NEEDING_2D_TABLES}
    if extra:
        reasons.update(extra)
    return reasons


def peak_traced_bytes(function):
    """The peak of the memory ``function()`` allocates through Python and numpy, by ``tracemalloc``.

    Examples
    --------
    >>> import numpy as np
    >>> peak_traced_bytes(lambda: np.ones(10**6)) >= 8 * 10**6
    True
    """
    import tracemalloc

    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def fit_checkpoint(root):
    """The one sub-folder of a ``checkpoint`` folder that a fit wrote its checkpoint to (``fit-<key>``).

    Raises an AssertionError unless there is exactly one.
    """
    from pathlib import Path

    folders = sorted(Path(root).glob("fit-*"))
    assert len(folders) == 1, f"expected one fit's checkpoint in {root}, found {[f.name for f in folders]}"
    return folders[0]
