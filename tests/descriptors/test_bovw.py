"""Bag of visual words: histograms and VLAD against skimage + sklearn loops, empty images, round trips."""

import pickle
import re

import numpy as np
import pytest
import skimage.data
from skimage.feature import ORB, SIFT, daisy
from sklearn.base import clone
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils.estimator_checks import parametrize_with_checks

from skvision._testing import expected_failed_checks, peak_traced_bytes
from skvision.descriptors import BagOfVisualWords
from skvision.descriptors._bovw import _daisy_descriptors, _draw_without_replacement, _FloatPlanes, _stretch

DAISY = {"step": 2, "radius": 8, "rings": 2, "histograms": 6, "orientations": 8}


@pytest.fixture(scope="module")
def textures():
    """Six 40x40 uint8 patches: two each of brick, grass, gravel."""
    sources = [skimage.data.brick(), skimage.data.grass(), skimage.data.gravel()]
    return np.stack([source[r : r + 40, 100:140] for source in sources for r in (0, 200)])


def stretched(image):
    image = image.astype(np.float64)
    return (image - image.min()) / (image.max() - image.min())


def reference_daisy(images, **params):
    return [daisy(stretched(image), **{**DAISY, **params}).reshape(-1, 104) for image in images]


def test_codebook_and_histograms_equal_skimage_daisy_and_minibatch_kmeans(textures):
    bovw = BagOfVisualWords(n_words=12, random_state=0).fit(textures)
    descriptors = reference_daisy(textures)
    kmeans = MiniBatchKMeans(n_clusters=12, random_state=0).fit(np.concatenate(descriptors))
    np.testing.assert_allclose(bovw.codebook_, kmeans.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert bovw.n_descriptors_fit_ == 6 * 144  # 12 x 12 grid points per 40x40 patch
    features = bovw.transform(textures)
    expected = [np.bincount(kmeans.predict(d), minlength=12) / len(d) for d in descriptors]
    np.testing.assert_allclose(features, np.stack(expected))
    assert bovw.get_feature_names_out().tolist() == [f"bovw_word{k}" for k in range(12)]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"normalization": "l2"},
        {"normalization": "daisy"},
        {"normalization": "off", "step": 3},
        {"radius": 5, "rings": 1, "histograms": 4, "orientations": 6, "step": 1},
        {"sigmas": [1, 2, 3], "ring_radii": [3, 6]},
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_daisy_of_a_stack_equals_skimage_image_by_image_bit_for_bit(params, dtype):
    # The descriptors are computed for blocks of images at once (one Gaussian filter per ring
    # over the whole block): every value must still be scikit-image's, flat images included.
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (12, 29, 35)).astype(dtype)
    images[3] = images[3, 0, 0]  # flat
    params = {**DAISY, **params}
    got = _daisy_descriptors(images, params)
    assert len(got) == len(images)
    for image, descriptors in zip(images, got):
        expected = daisy(_stretch(image), **params)
        np.testing.assert_array_equal(descriptors, expected.reshape(-1, expected.shape[-1]))
        assert descriptors.dtype == np.float64


def test_daisy_parameters_fail_as_in_skimage():
    images = np.zeros((2, 20, 20), np.uint8)
    for params in ({"sigmas": [1, 2], "ring_radii": [3, 6]}, {"normalization": "max"}):
        with pytest.raises(ValueError) as expected:
            daisy(images[0].astype(float), **params)
        with pytest.raises(ValueError, match=str(expected.value).replace("(", r"\(").replace(")", r"\)")):
            _daisy_descriptors(images, params)


def test_transform_memory_stays_with_a_block_of_images(textures):
    # Dense descriptors take ~200 bytes per pixel: a chunk of large images described at once
    # held 436 MB for thirty 256x256 images (~120 MB for these eight); blocks of 2**16 pixels
    # keep ~50 MB whatever the number of images.
    brick = skimage.data.brick()
    images = np.stack([brick[r : r + 256, c : c + 256] for r in (0, 200) for c in (0, 80, 160, 240)])
    bovw = BagOfVisualWords(n_words=8, random_state=0).fit(images[:2])
    peak = peak_traced_bytes(lambda: bovw.transform(images))
    assert peak < 80e6, f"{peak / 1e6:.0f} MB"
    one_by_one = np.stack([bovw.transform(image[np.newaxis])[0] for image in images])
    np.testing.assert_array_equal(bovw.transform(images), one_by_one)


def test_a_sampled_fit_draws_as_sampling_every_descriptor_would(textures):
    # The sample of max_descriptors is drawn before describing, and only it is kept: the same
    # draw, in the same order, as taking it from all the descriptors at once.
    bovw = BagOfVisualWords(n_words=6, max_descriptors=300, random_state=0).fit(textures)
    descriptors = np.concatenate(reference_daisy(textures))
    rng = np.random.RandomState(0)
    sample = descriptors[rng.choice(len(descriptors), 300, replace=False)]
    kmeans = MiniBatchKMeans(n_clusters=6, random_state=rng).fit(sample)
    np.testing.assert_allclose(bovw.codebook_, kmeans.cluster_centers_, rtol=1e-12, atol=1e-12)
    assert bovw.n_descriptors_fit_ == 6 * 144


def test_a_sampled_fit_holds_the_sample_not_every_descriptor():
    # Eight 256x256 images give 115,200 DAISY descriptors (96 MB); the fit keeps its 2,000.
    brick = skimage.data.brick()
    images = np.stack([brick[r : r + 256, c : c + 256] for r in (0, 200) for c in (0, 80, 160, 240)])
    bovw = BagOfVisualWords(n_words=8, max_descriptors=2000, random_state=0)
    peak = peak_traced_bytes(lambda: bovw.fit(images))
    assert bovw.n_descriptors_fit_ == 8 * 120 * 120
    assert peak < 60e6, f"{peak / 1e6:.0f} MB"


def test_vlad_is_the_normalised_sum_of_residuals(textures):
    bovw = BagOfVisualWords(n_words=5, encoding="vlad", random_state=0).fit(textures)
    features = bovw.transform(textures)
    assert features.shape == (6, 5 * 104) == (6, bovw.n_features_out_)
    for image_descriptors, got in zip(reference_daisy(textures), features):
        words = bovw.kmeans_.predict(image_descriptors)
        vlad = np.zeros((5, 104))
        for descriptor, word in zip(image_descriptors, words):
            vlad[word] += descriptor - bovw.codebook_[word]
        vlad = np.sign(vlad) * np.sqrt(np.abs(vlad))
        np.testing.assert_allclose(got, (vlad / np.linalg.norm(vlad)).ravel(), atol=1e-12)
    assert bovw.get_feature_names_out()[-1] == "bovw_word4_dim103"


def test_sift_keypoints_and_an_image_without_any(textures):
    bovw = BagOfVisualWords(detector="sift", n_words=6, random_state=0).fit(textures[:3])
    with_flat = np.concatenate([textures[:3], np.full((1, 40, 40), 128, np.uint8)])
    features = bovw.transform(with_flat)
    assert features.shape == (4, 6)
    np.testing.assert_array_equal(features[3], 0.0)  # no keypoint: all-zero histogram
    for image, got in zip(textures[:3], features):
        sift = SIFT()
        sift.detect_and_extract(stretched(image))
        expected = np.bincount(bovw.kmeans_.predict(sift.descriptors.astype(np.float64)), minlength=6)
        np.testing.assert_allclose(got, expected / len(sift.descriptors))


def test_orb_binary_descriptors_and_images_without_keypoints():
    images = np.stack([skimage.data.camera()[200:248, 200:248], skimage.data.astronaut()[:48, 200:248, 0]])
    flat = np.zeros((1, 48, 48), np.uint8)
    bovw = BagOfVisualWords(detector="orb", n_words=4, random_state=0).fit(np.concatenate([images, flat]))
    assert bovw.codebook_.shape == (4, 256)
    features = bovw.transform(np.concatenate([images, flat]))
    orb = ORB()
    orb.detect_and_extract(stretched(images[0]))
    expected = np.bincount(bovw.kmeans_.predict(orb.descriptors.astype(np.float64)), minlength=4)
    np.testing.assert_allclose(features[0], expected / len(orb.descriptors))
    np.testing.assert_array_equal(features[2], 0.0)


@pytest.mark.parametrize("detector", ["sift", "orb"])
def test_a_keypoint_fit_holds_skimage_dtypes_and_learns_the_float64_codebook(detector, monkeypatch):
    # fit holds every image's keypoint descriptors before sampling: in scikit-image's uint8 (SIFT)
    # or bool (ORB), 8 times less than float64; the sample meets MiniBatchKMeans as float64.
    from skvision.descriptors import _bovw

    images = np.stack([skimage.data.camera()[r : r + 96, c : c + 96] for r in (100, 300) for c in (100, 300)])
    held = []
    describe = _bovw._keypoint_descriptors
    monkeypatch.setattr(
        _bovw, "_keypoint_descriptors", lambda *args: held.append(describe(*args)) or held[-1]
    )
    bovw = BagOfVisualWords(detector=detector, n_words=5, max_descriptors=20, random_state=0).fit(images)
    assert {d.dtype for d in held if d is not None} == {np.dtype(np.uint8 if detector == "sift" else bool)}
    extractor = SIFT if detector == "sift" else ORB
    reference = []
    for image in images:
        found = extractor()
        found.detect_and_extract(stretched(image))
        reference.append(found.descriptors.astype(np.float64))
    descriptors = np.concatenate(reference)
    assert bovw.n_descriptors_fit_ == len(descriptors) > 20
    rng = np.random.RandomState(0)
    sample = descriptors[rng.choice(len(descriptors), 20, replace=False)]
    kmeans = MiniBatchKMeans(n_clusters=5, random_state=rng).fit(sample)
    np.testing.assert_array_equal(bovw.codebook_, kmeans.cluster_centers_)
    # VLAD residuals of ORB's bool descriptors are float differences, as of their float64 copies.
    vlad = BagOfVisualWords(detector=detector, n_words=5, encoding="vlad", random_state=0).fit(images)
    words = vlad.kmeans_.predict(reference[0])
    residuals = np.zeros_like(vlad.codebook_)
    np.add.at(residuals, words, reference[0] - vlad.codebook_[words])
    expected = np.sign(residuals) * np.sqrt(np.abs(residuals))
    np.testing.assert_allclose(vlad.transform(images[:1])[0], (expected / np.linalg.norm(expected)).ravel())


@pytest.mark.parametrize(
    "params",
    [
        {"detector": "sift", "n_words": 4},
        {"detector": "daisy", "n_words": 4},  # every descriptor: the unsampled path
        {"detector": "daisy", "n_words": 4, "max_descriptors": 50},  # the sampled path
        {"detector": "daisy", "n_words": 4, "max_descriptors": 50, "n_jobs": 2},
    ],
)
def test_verbose_fit_shows_the_images_described_and_learns_the_same(textures, params, capsys):
    quiet = BagOfVisualWords(random_state=0, **params).fit(textures)
    capsys.readouterr()
    talking = BagOfVisualWords(random_state=0, verbose=1, **params).fit(textures)
    bar = capsys.readouterr().err
    assert f"BagOfVisualWords fit ({params['detector']})" in bar
    assert "6/6" in bar.splitlines()[-1] or "6/6" in bar.split("\r")[-1]
    np.testing.assert_array_equal(talking.codebook_, quiet.codebook_)


def test_parallel_detection_pickle_and_clone_give_identical_results(textures):
    bovw = BagOfVisualWords(n_words=8, random_state=0).fit(textures)
    expected = bovw.transform(textures)
    parallel = clone(bovw).set_params(n_jobs=2).fit(textures)
    np.testing.assert_array_equal(parallel.codebook_, bovw.codebook_)
    np.testing.assert_array_equal(parallel.set_params(batch_size=2).transform(textures), expected)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(bovw)).transform(textures), expected)


@pytest.mark.parametrize("detector", ["daisy", "orb"])
def test_fit_shares_its_work_as_transform_does(textures, detector, monkeypatch):
    # Loky's workers took ~5 s to start for a fit of 20 small images (6x one process): fit
    # follows the transform's plan, serial under its threshold, else threads or processes.
    from skvision.descriptors import _base, _bovw

    calls = []
    real_parallel = _bovw.Parallel

    def recording_parallel(**kwargs):
        calls.append((kwargs["n_jobs"], kwargs.get("prefer")))
        return real_parallel(**kwargs)

    monkeypatch.setattr(_bovw, "Parallel", recording_parallel)
    if detector == "orb":
        sources = [skimage.data.camera(), skimage.data.astronaut()[..., 0], skimage.data.brick()]
        images = np.stack(
            [source[r : r + 48, c : c + 48] for source in sources for r in (0, 200) for c in (200, 300)]
        )
    else:
        images = textures
    params = {"max_descriptors": 200} if detector == "daisy" else {}
    serial = BagOfVisualWords(detector=detector, n_words=4, random_state=0, **params)
    small = clone(serial).fit(images[:2])
    calls.clear()
    parallel_small = clone(serial).set_params(n_jobs=2).fit(images[:2])
    assert calls and set(calls) == {(1, None)}
    np.testing.assert_array_equal(parallel_small.codebook_, small.codebook_)
    monkeypatch.setattr(_base, "_MIN_PARALLEL_SECONDS", {"threads": 0.0, "processes": 0.0})
    serial.fit(images)
    calls.clear()
    threaded = clone(serial).set_params(n_jobs=2).fit(images)
    # DAISY on threads; ORB holds the GIL (threads 1.07x): joblib's processes.
    assert calls and set(calls) == {(2, "threads" if detector == "daisy" else None)}
    np.testing.assert_array_equal(threaded.codebook_, serial.codebook_)


def test_detector_params_reach_skimage(textures):
    bovw = BagOfVisualWords(n_words=4, detector_params={"step": 8, "radius": 6}, random_state=0).fit(textures)
    per_image = daisy(stretched(textures[0]), **{**DAISY, "step": 8, "radius": 6})
    assert bovw.n_descriptors_fit_ == 6 * per_image.shape[0] * per_image.shape[1]
    assert bovw.codebook_.shape == (4, per_image.shape[2])


@pytest.mark.parametrize(
    "params, pattern",
    [
        ({"detector": "surf"}, "detector"),
        ({"detector_params": {"sigma": 2}}, "detector_params"),
        ({"detector": "sift", "detector_params": {"upsampling": 3}}, "detector_params"),
        ({"n_words": 0}, "n_words"),
        ({"encoding": "fisher"}, "encoding"),
        ({"max_descriptors": 0}, "max_descriptors"),
        ({"n_words": 1000}, "fewer than n_words=1000"),
    ],
)
def test_invalid_parameters_are_named(textures, params, pattern):
    with pytest.raises(ValueError, match=pattern):
        BagOfVisualWords(**params).fit(textures)


@pytest.mark.parametrize(
    "params, minimum",
    [
        ({}, "17x17"),
        ({"detector_params": {"radius": 15}}, "31x31"),
        ({"detector": "sift"}, "16x16"),
        ({"detector": "orb"}, "41x41"),
    ],
)
def test_images_too_small_give_the_minimum_size(params, minimum):
    with pytest.raises(ValueError, match=f"at least {minimum}"):
        BagOfVisualWords(**params).fit(np.zeros((2, 12, 40)))


@parametrize_with_checks(
    [BagOfVisualWords(n_words=4, random_state=0)], expected_failed_checks=expected_failed_checks
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_a_long_quiet_fit_says_it_is_still_running(textures, monkeypatch, capsys):
    # BagOfVisualWords(detector='sift').fit of 600 64x64 images ran 29 s without a word at verbose=0
    # (and BSIF's ICA on many patches 25 s): a fit has no images to count, so a thread says it runs.
    import time

    from skvision import _talk

    bovw = BagOfVisualWords(n_words=4, max_descriptors=200, random_state=0)
    expected = clone(bovw).fit(textures).codebook_
    assert capsys.readouterr().err == ""  # a short fit says nothing
    monkeypatch.setattr(_talk, "LONG_CALL_FIRST_SECONDS", 0.05)
    monkeypatch.setattr(_talk, "LONG_CALL_SECONDS", 0.1)
    real_fit = BagOfVisualWords._fit_images

    def slow_fit(self, images):
        time.sleep(0.32)
        real_fit(self, images)

    monkeypatch.setattr(BagOfVisualWords, "_fit_images", slow_fit)
    started = time.perf_counter()
    np.testing.assert_array_equal(clone(bovw).fit(textures).codebook_, expected)
    elapsed = time.perf_counter() - started
    lines = capsys.readouterr().err.splitlines()
    # At 0.05 s, then every 0.1 s while the fit runs (a loaded machine makes it run longer).
    assert 2 <= len(lines) <= 1 + elapsed / 0.1, lines
    assert all(
        re.fullmatch(
            rf"BagOfVisualWords: fit on {len(textures)} images, still running, \d+\.\d s so far", line
        )
        for line in lines
    ), lines
    clone(bovw).set_params(verbose=1).fit(textures)
    assert "still running" not in capsys.readouterr().err  # verbose: its bar instead
    with _talk.long_fit_lines_off():  # compare's splits say how they go themselves
        clone(bovw).fit(textures)
    assert capsys.readouterr().err == ""


def test_sift_work_is_estimated_at_its_own_cost():
    # SIFT was estimated at DAISY's cost per pixel (5x too low): a transform of 600 64x64 images went in
    # two chunks of ~8 s, and its progress lines, which wait for a chunk, never came.
    images = np.zeros((600, 64, 64), np.uint8)
    costs = {det: BagOfVisualWords(detector=det)._pixel_cost_ns() for det in ("daisy", "sift", "orb")}
    assert costs["sift"] > 4 * costs["daisy"] and costs["orb"] > 1.5 * costs["daisy"]
    sift = BagOfVisualWords(detector="sift")
    starts, _ = sift._chunk_starts(images, "serial", 1)
    assert len(starts) >= 5  # chunks of at most about 2 s of work


@pytest.mark.parametrize("channels", ["gray", "each"])
def test_fit_converts_the_planes_a_slice_at_a_time(channels):
    # The float64 planes of every training image took 10x the memory of uint8 RGB images (24x with
    # channels='each'); slices of the stack, converted when asked, hold the same values.
    rng = np.random.default_rng(0)
    images = np.concatenate([rng.integers(0, 256, (5, 20, 20, 3)) / 255, rng.random((5, 20, 20, 3))])
    bovw = BagOfVisualWords(n_words=4, channels=channels, random_state=0)
    bovw.fit(images)
    whole = np.concatenate([plane for _, plane in bovw._planes(images)])
    planes = _FloatPlanes(bovw, images)
    assert planes.shape == whole.shape
    for start, stop in [(0, len(whole)), (3, 7), (8, 13), (9, 30), (4, 4)]:
        np.testing.assert_array_equal(planes[start:stop], whole[start:stop])


def test_fit_memory_stays_near_the_images():
    images = np.random.default_rng(0).integers(0, 256, (300, 64, 64, 3), dtype=np.uint8)
    bovw = BagOfVisualWords(n_words=8, max_descriptors=2000, channels="each", random_state=0)
    peak = peak_traced_bytes(lambda: bovw.fit(images))
    assert peak < 12 * images.nbytes, f"{peak / images.nbytes:.1f}x the images"  # was 24x


def test_the_sample_of_many_descriptors_is_drawn_in_memory_of_its_own_size():
    # RandomState.choice(replace=False) permuted every index: 500 MB for the 62.5 million DAISY descriptors
    # of 100,000 64x64 images. Up to 2**24 descriptors the draw is the same as before.
    small = _draw_without_replacement(np.random.RandomState(0), 5000, 300)
    np.testing.assert_array_equal(small, np.random.RandomState(0).choice(5000, 300, replace=False))
    drawn = []
    peak = peak_traced_bytes(
        lambda: drawn.append(_draw_without_replacement(np.random.RandomState(0), 62_500_000, 100_000))
    )
    indices = drawn[0]
    assert peak < 20e6, f"{peak / 1e6:.0f} MB"
    assert len(np.unique(indices)) == 100_000 and 0 <= indices.min() and indices.max() < 62_500_000
    again = _draw_without_replacement(np.random.RandomState(0), 62_500_000, 100_000)
    np.testing.assert_array_equal(again, indices)
