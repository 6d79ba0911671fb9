"""Persistence: every fitted estimator survives pickle and joblib, alone and in a Pipeline; skorch
save_params / load_params; a model pickled on a GPU loads on a CPU-only machine.

What a CPU-only machine cannot cover (run these on a GPU when one is there): real CUDA tensors in the
pickle (here CPU tensors are *labelled* CUDA, which exercises the deserialisation path that fails on a
CPU-only machine but not CUDA's storage itself); predictions of a GPU-trained model computed on the CPU
(different kernels: equal to float tolerance only, not bitwise); loading a CPU pickle onto a GPU; the
float16 gradient scaler of ``precision='16-mixed'`` (CUDA only); CUDA random-generator state in
checkpoints.
"""

from __future__ import annotations

import contextlib
import functools
import io
import pickle
import warnings

import joblib
import numpy as np
import pytest
import torch
import torch.serialization
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from tests._estimators import ESTIMATORS, IDS, fit, good_X, good_y

BY_NAME = {name: (estimator, kind) for name, estimator, kind in ESTIMATORS}
#: Estimators whose model is a skorch net (``net_``; CNNFeatures keeps it in ``estimator_.net_``).
SKORCH_BASED = ["CNNClassifier", "CNNRegressor", "CNNFeatures", "AutoencoderFeatures", "GANFeatures"]
NEURAL = SKORCH_BASED + ["PretrainedFeatures"]
TRANSFORMERS = [name for name, estimator, _ in ESTIMATORS if hasattr(estimator, "transform")]
OUTPUT_METHODS = ("transform", "predict", "predict_proba")


@functools.cache
def _fitted_payload(name):
    """The pickled fitted estimator ``name`` (fitted once per worker; tests unpickle their own copy)."""
    estimator, kind = BY_NAME[name]
    return pickle.dumps(fit(clone(estimator), kind))


def fitted(name):
    return pickle.loads(_fitted_payload(name))


def outputs(estimator, X):
    """Every output method the estimator has, on ``X``."""
    found = {m: getattr(estimator, m)(X) for m in OUTPUT_METHODS if hasattr(estimator, m)}
    assert found, f"{type(estimator).__name__} has none of {OUTPUT_METHODS}"
    return found


def assert_same_outputs(restored, expected, X):
    # Bitwise: the same weights run through the same CPU kernels, so any difference is a lost state.
    got = outputs(restored, X)
    assert got.keys() == expected.keys()
    for method, value in expected.items():
        assert np.array_equal(got[method], value), f"{method} differs after the round trip"


def skorch_net(estimator):
    return estimator.estimator_.net_ if hasattr(estimator, "estimator_") else estimator.net_


# ------------------------------------------------------------------------------------ pickle / joblib
@pytest.mark.parametrize("name", IDS)
def test_pickle_round_trip_keeps_every_output(name):
    _, kind = BY_NAME[name]
    X = good_X(kind)
    estimator = fitted(name)
    expected = outputs(estimator, X)
    restored = pickle.loads(pickle.dumps(estimator))
    assert type(restored) is type(estimator)
    assert_same_outputs(restored, expected, X)


@pytest.mark.parametrize("compress", [0, 3])
@pytest.mark.parametrize("name", IDS)
def test_joblib_round_trip_keeps_every_output(name, compress, tmp_path):
    _, kind = BY_NAME[name]
    X = good_X(kind)
    estimator = fitted(name)
    expected = outputs(estimator, X)
    path = tmp_path / f"{name}.joblib"
    joblib.dump(estimator, path, compress=compress)
    assert_same_outputs(joblib.load(path), expected, X)


@pytest.mark.parametrize("name", TRANSFORMERS)
def test_pipeline_with_a_final_sklearn_estimator_round_trips(name, tmp_path):
    estimator, kind = BY_NAME[name]
    X, y = good_X(kind), good_y("classifier")
    pipeline = make_pipeline(clone(estimator), LogisticRegression(max_iter=1000)).fit(X, y)
    expected = {m: getattr(pipeline, m)(X) for m in ("predict", "predict_proba")}
    joblib.dump(pipeline, tmp_path / "pipeline.joblib")
    for restored in (joblib.load(tmp_path / "pipeline.joblib"), pickle.loads(pickle.dumps(pipeline))):
        for method, value in expected.items():
            assert np.array_equal(getattr(restored, method)(X), value), method


# ------------------------------------------------------------------------------ skorch params files
@pytest.mark.parametrize("saved_on", ["cpu", "cuda"])
@pytest.mark.parametrize("name", SKORCH_BASED)
def test_skorch_save_params_load_params_into_a_fresh_net_of_a_clone(name, saved_on, tmp_path):
    estimator, kind = BY_NAME[name]
    X = good_X(kind)
    trained = fitted(name)
    expected = outputs(trained, X)
    files = {key: tmp_path / f"{key}.file" for key in ("f_params", "f_optimizer", "f_history")}
    # 'cuda': the files as a GPU run writes them (see as_if_saved_on_cuda); load_params maps them to the CPU.
    with as_if_saved_on_cuda() if saved_on == "cuda" else contextlib.nullcontext():
        skorch_net(trained).save_params(**files)

    # A clone with another seed, fitted for 0 epochs: an initialised net with different weights.
    with pytest.warns(UserWarning, match="trains nothing"):
        fresh = fit(clone(estimator).set_params(max_epochs=0, random_state=1), kind)
    assert len(skorch_net(fresh).history) == 0
    before = outputs(fresh, X)
    assert not all(np.array_equal(before[m], expected[m]) for m in expected), "the test would prove nothing"

    skorch_net(fresh).load_params(**files)
    assert_same_outputs(fresh, expected, X)
    assert len(skorch_net(fresh).history) == len(skorch_net(trained).history)
    trained_state = skorch_net(trained).optimizer_.state_dict()["state"]
    loaded_state = skorch_net(fresh).optimizer_.state_dict()["state"]
    assert trained_state.keys() == loaded_state.keys() and trained_state
    for key, tensors in trained_state.items():
        for slot, value in tensors.items():
            assert torch.equal(torch.as_tensor(loaded_state[key][slot]), torch.as_tensor(value)), (key, slot)


# ------------------------------------------------------------------------------------- CPU <-> GPU
@contextlib.contextmanager
def as_if_saved_on_cuda():
    """Label every tensor storage serialised in the block as living on ``cuda:0``.

    torch records each storage's device in the payload and restores it there on load; a
    ``cuda`` storage on a machine without CUDA raises unless a ``map_location`` maps it to
    the CPU. Labelling CPU tensors this way reproduces, without a GPU, the payload of a model
    trained on one in the default configuration (where every tensor of a fitted net lives on
    the training device; a ``class_weight`` tensor would be the exception, it stays on the CPU).
    """
    original = torch.serialization.location_tag
    torch.serialization.location_tag = lambda storage: "cuda:0"
    try:
        yield
    finally:
        torch.serialization.location_tag = original


def _mark_as_trained_on_cuda(estimator):
    """Set the device attributes a fit on a GPU leaves behind."""
    if hasattr(estimator, "estimator_"):
        return _mark_as_trained_on_cuda(estimator.estimator_)
    if hasattr(estimator, "net_"):
        estimator.net_.device = "cuda"
        estimator.device_ = "cuda"
    else:  # PretrainedFeatures keeps a torch.device
        estimator.device_ = torch.device("cuda")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU fallback only happens without CUDA")
def test_the_cuda_label_simulation_fails_where_a_gpu_pickle_fails():
    # The simulation is only worth something if it breaks the way a real GPU pickle does.
    with as_if_saved_on_cuda():
        payload = pickle.dumps(torch.ones(3))
    with pytest.raises(RuntimeError, match="CUDA"):
        pickle.loads(payload)
    with as_if_saved_on_cuda():
        buffer = io.BytesIO()
        torch.save(torch.ones(3), buffer)
    assert torch.equal(torch.load(io.BytesIO(buffer.getvalue()), map_location="cpu"), torch.ones(3))


GPU_CASES = [pytest.param(name, {}, id=f"{name}-defaults") for name in NEURAL] + [
    # Callbacks with state: early stopping's best weights and each LR schedule's torch scheduler.
    pytest.param(
        "CNNClassifier",
        {"early_stopping": True, "validation_fraction": 0.25, "lr_schedule": "cosine"},
        id="CNNClassifier-early_stopping-cosine",
    ),
    pytest.param("CNNRegressor", {"lr_schedule": "step"}, id="CNNRegressor-step"),
]


@pytest.mark.skipif(torch.cuda.is_available(), reason="the CPU fallback only happens without CUDA")
@pytest.mark.parametrize("serializer", ["pickle", "joblib"])
@pytest.mark.parametrize(("name", "params"), GPU_CASES)
def test_model_pickled_on_a_gpu_loads_on_a_cpu_only_machine(name, params, serializer, tmp_path):
    estimator, kind = BY_NAME[name]
    X, y = good_X(kind), good_y(kind)
    trained = fit(clone(estimator).set_params(**params), kind) if params else fitted(name)
    expected = outputs(trained, X)
    _mark_as_trained_on_cuda(trained)
    with as_if_saved_on_cuda():
        if serializer == "pickle":
            payload = pickle.dumps(trained)
        else:
            joblib.dump(trained, tmp_path / "model.joblib")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        restored = pickle.loads(payload) if serializer == "pickle" else joblib.load(tmp_path / "model.joblib")
    messages = " ".join(str(w.message) for w in caught)
    assert "CUDA" in messages or "cuda" in messages, "loading onto the CPU must say so"
    # Everything now says CPU and works there.
    inner = restored.estimator_ if hasattr(restored, "estimator_") else restored
    assert torch.device(inner.device_).type == "cpu"
    if hasattr(inner, "net_"):
        assert str(inner.net_.device) == "cpu"
        assert all(p.device.type == "cpu" for p in inner.net_.module_.parameters())
    assert_same_outputs(restored, expected, X)
    if hasattr(restored, "partial_fit"):
        # Training goes on, on the CPU (it used to seed a CUDA generator that is not there).
        extra = {"classes": np.unique(y)} if kind == "classifier" else {}
        epochs = restored.n_epochs_
        restored.partial_fit(X, y, **extra)
        assert restored.n_epochs_ == epochs + 1
