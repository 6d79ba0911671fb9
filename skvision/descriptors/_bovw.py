"""Bag of visual words over local descriptors: SIFT, ORB or dense DAISY.

Local descriptors come from scikit-image: keypoints and descriptors from
:class:`skimage.feature.SIFT` or :class:`skimage.feature.ORB`, or DAISY
descriptors on a dense grid (:func:`skimage.feature.daisy`). ``fit`` learns a
codebook of ``n_words`` visual words from the training images' descriptors with
:class:`sklearn.cluster.MiniBatchKMeans`; ``transform`` encodes each image's set
of descriptors as a fixed-length vector:

* ``encoding='hist'``: the fraction of its descriptors nearest to each word
  (a histogram summing to one);
* ``encoding='vlad'``: VLAD (Jégou et al., 2010), the sum of the residuals
  ``descriptor - word`` of the descriptors assigned to each word, concatenated,
  then power-normalised (signed square root) and L2-normalised.

An image in which the detector finds no keypoint (a flat image, or one without
corners) has no descriptor; it gets an all-zero vector.
"""

from __future__ import annotations

import inspect
import itertools
import math
from numbers import Integral

import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from scipy import ndimage as ndi
from skimage import img_as_float
from skimage.feature import ORB, SIFT, daisy
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils import check_random_state

from .._compat import Interval, StrOptions
from .._workers import results_as_they_come
from ._base import BaseDescriptor

__all__ = ["BagOfVisualWords"]

#: skvision's DAISY defaults, sized for small images: scikit-image's radius=15 needs
#: 31x31 pixels for a single descriptor; radius 8 and step 2 give a 32x32 patch 64
#: descriptors. ``detector_params`` overrides them.
DAISY_DEFAULTS = {"step": 2, "radius": 8, "rings": 2, "histograms": 6, "orientations": 8}

# Smallest images where a keypoint detector can return a descriptor at all.
_SIFT_MIN_SIZE = 16  # skimage SIFT builds no octave below 12 pixels (x2 upsampling)
_ORB_MIN_SIZE = 41  # skimage ORB keeps keypoints 20 pixels away from every border

#: Keywords of ``daisy`` that ``detector_params`` may set (descriptors only: no visualisation).
_DAISY_PARAMS = set(inspect.signature(daisy).parameters) - {"image", "visualize"}


def _stretch(image):
    """Map an image's own range to [0, 1]: detector thresholds are on that scale."""
    low, high = image.min(), image.max()
    if high == low:
        return np.zeros_like(image)
    return (image - low) / (high - low)


def _keypoint_descriptors(image, detector, params):
    """SIFT or ORB descriptors ``(k, d)`` of one image (``k`` may be 0; None: no keypoint).

    In scikit-image's own dtype (uint8 for SIFT, bool for ORB): ``fit`` holds every
    training image's descriptors before it samples them, 8 times less memory than
    float64. They become float64 where they meet the codebook.
    """
    image = _stretch(image)
    extractor = SIFT(**params) if detector == "sift" else ORB(**params)
    try:
        extractor.detect_and_extract(image)
    except RuntimeError as exc:
        # skimage signals "no keypoint" by this error; such an image has no descriptor.
        if "found no features" not in str(exc):
            raise
        return None
    return np.asarray(extractor.descriptors)


def _descriptors_of_stack(images, detector, params):
    if detector == "daisy":
        return _daisy_descriptors(images, params)
    return [_keypoint_descriptors(image, detector, params) for image in images]


def _sampled_daisy_block(images, params, rows):
    """Rows ``rows`` of the DAISY descriptors of ``images``, stacked image by image."""
    return np.concatenate(_daisy_descriptors(images, params))[rows]


class _FloatPlanes:
    """The planes a fit describes (``channels='each'``: every image's first channel, then every
    image's second...) as float64 on the working scale, converted a slice at a time when asked.

    All of them at once took 10x the memory of uint8 RGB training images (512 MB for 49 MB
    of 128x128 photos) for a fit that keeps ``max_descriptors`` descriptors. The conversion
    is image by image, so a slice holds the values the whole stack would.
    """

    def __init__(self, descriptor, images):
        self._descriptor, self._images = descriptor, images
        n_channels = images.shape[3] if descriptor.channels == "each" and images.ndim == 4 else 1
        self.shape = (n_channels * len(images), *images.shape[1:3])

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, index):
        """The planes of a slice (step 1) of the stack, as one float64 array."""
        start, stop, _ = index.indices(len(self))
        n_images = len(self._images)
        parts = [np.empty((0, *self.shape[1:]))]
        for channel in range(start // n_images, -(-stop // n_images)):
            first, last = max(start - channel * n_images, 0), min(stop - channel * n_images, n_images)
            if first >= last:
                continue
            images = self._images[first:last]
            _, plane = next(itertools.islice(self._descriptor._unscaled_planes(images), channel, None))
            plane = self._descriptor._on_working_scale(plane, images.dtype)
            parts.append(np.asarray(plane, dtype=np.float64))
        return np.concatenate(parts) if len(parts) > 2 else parts[-1]


#: Descriptors above which ``fit`` draws its sample without permuting all their indices.
_PERMUTE_AT_MOST = 2**24


def _draw_without_replacement(rng, n, k):
    """``k`` distinct indices of ``range(n)`` from the RandomState ``rng``, in random order.

    ``RandomState.choice(n, k, replace=False)`` permutes all ``n`` (kept up to
    ``_PERMUTE_AT_MOST``: the same draw as before); above, a ``Generator`` seeded from
    ``rng`` draws them in memory of the order of ``k``: 62.5 million DAISY descriptors
    of 100,000 64x64 images took 500 MB and 5 s for a sample of 100,000.
    """
    if n <= _PERMUTE_AT_MOST:
        return rng.choice(n, k, replace=False)
    return np.random.default_rng(rng.randint(0, 2**31 - 1)).choice(n, k, replace=False)


#: Steps of ``fit``'s progress bar (``verbose``) when it describes the images in one process.
_FIT_PROGRESS_STEPS = 20

#: Pixels of images described and encoded together in ``transform``.
_ENCODE_BLOCK_PIXELS = 2**16

#: Pixels of images whose DAISY histograms are computed together: with the default rings,
#: ~1 KB of temporaries per pixel, so a block stays in the cache and out of fresh memory.
_DAISY_BLOCK_PIXELS = 2**13


def _daisy_settings(
    step=4, radius=15, rings=3, histograms=8, orientations=8, normalization="l1", sigmas=None, ring_radii=None
):
    """:func:`skimage.feature.daisy`'s parameters, resolved as it resolves them (defaults, errors)."""
    if sigmas is not None and ring_radii is not None and len(sigmas) - 1 != len(ring_radii):
        raise ValueError("`len(sigmas)-1 != len(ring_radii)`")
    if ring_radii is not None:
        rings = len(ring_radii)
        radius = ring_radii[-1]
    if sigmas is not None:
        rings = len(sigmas) - 1
    if sigmas is None:
        sigmas = [radius * (i + 1) / float(2 * rings) for i in range(rings)]
    if ring_radii is None:
        ring_radii = [radius * (i + 1) / float(rings) for i in range(rings)]
    if normalization not in ("l1", "l2", "daisy", "off"):
        raise ValueError("Invalid normalization method.")
    return step, radius, rings, histograms, orientations, normalization, list(sigmas), list(ring_radii)


def _daisy_grid_shape(height, width, step, radius):
    """Rows and columns of the DAISY descriptors of one ``height x width`` image."""
    return len(range(0, height - 2 * radius, step)), len(range(0, width - 2 * radius, step))


def _daisy_descriptors(images, params):
    """Dense DAISY descriptors ``(k, d)`` of each image of a stack, each stretched to [0, 1] first.

    The values of :func:`skimage.feature.daisy` called image by image, bit for
    bit, computed for blocks of images at once: its gradients and orientation
    maps are elementwise, and its 24 Gaussian smoothings per image (one per
    orientation and ring, each a scipy call on a small image) become one
    ``gaussian_filter`` per ring over the block's ``(images, orientations)``
    axes, which filters every image plane as the single call would. The
    descriptors of each image are laid out and normalised as scikit-image does,
    in arrays of the same shape and strides, so that the sums run in the same
    order.
    """
    step, radius, rings, histograms, orientations, normalization, sigmas, ring_radii = _daisy_settings(
        **params
    )
    n_images, height, width = images.shape[:3]
    theta = [2 * math.pi * j / histograms for j in range(histograms)]
    desc_dims = (rings * histograms + 1) * orientations
    offsets = [
        (
            radius + int(round(ring_radii[i] * math.sin(theta[j]))),
            radius + int(round(ring_radii[i] * math.cos(theta[j]))),
        )
        for i in range(rings)
        for j in range(histograms)
    ]
    kappa = orientations / math.pi
    angles = [2 * o * math.pi / orientations - math.pi for o in range(orientations)]
    per_block = max(1, _DAISY_BLOCK_PIXELS // (height * width))
    found = []
    for start in range(0, n_images, per_block):
        block = img_as_float(np.stack([_stretch(image) for image in images[start : start + per_block]]))
        dx = np.zeros(block.shape, dtype=block.dtype)
        dy = np.zeros(block.shape, dtype=block.dtype)
        dx[:, :, :-1] = np.diff(block, n=1, axis=2)
        dy[:, :-1, :] = np.diff(block, n=1, axis=1)
        magnitude = np.sqrt(dx**2 + dy**2)
        orientation = np.arctan2(dy, dx)
        hist = np.empty((len(block), orientations, height, width), dtype=block.dtype)
        for i, angle in enumerate(angles):
            hist[:, i] = np.exp(kappa * np.cos(orientation - angle))
            hist[:, i] = np.multiply(hist[:, i], magnitude)
        # scikit-image's gaussian(..., mode='reflect') is this scipy call on each plane.
        smooth = [
            ndi.gaussian_filter(hist, (0, 0, sigma, sigma), mode="reflect", cval=0, truncate=4.0)
            for sigma in [sigmas[0], *sigmas]
        ]
        # Only the grid points that scikit-image keeps (every ``step``-th of its full grid).
        rows, cols = height - 2 * radius, width - 2 * radius
        grid_shape = _daisy_grid_shape(height, width, step, radius)
        descs = np.empty((len(block), desc_dims, *grid_shape), dtype=block.dtype)
        descs[:, :orientations] = smooth[0][
            :, :, radius : radius + rows : step, radius : radius + cols : step
        ]
        for k, (row, col) in enumerate(offsets):
            ring = 1 + k // histograms
            first = orientations * (k + 1)
            descs[:, first : first + orientations] = smooth[ring][
                :, :, row : row + rows : step, col : col + cols : step
            ]
        for image_descs in descs:
            grid = _normalize_daisy(image_descs.swapaxes(0, 1).swapaxes(1, 2), normalization, orientations)
            found.append(grid.reshape(-1, desc_dims).astype(np.float64, copy=False))
    return found


def _normalize_daisy(descs, normalization, orientations):
    """scikit-image's normalisation of one image's ``(rows, cols, d)`` DAISY grid, in place."""
    if normalization != "off":
        descs += 1e-10
        if normalization == "l1":
            descs /= np.sum(descs, axis=2)[:, :, np.newaxis]
        elif normalization == "l2":
            descs /= np.sqrt(np.sum(descs**2, axis=2))[:, :, np.newaxis]
        elif normalization == "daisy":
            for i in range(0, descs.shape[2], orientations):
                norms = np.sqrt(np.sum(descs[:, :, i : i + orientations] ** 2, axis=2))
                descs[:, :, i : i + orientations] /= norms[:, :, np.newaxis]
    return descs


class BagOfVisualWords(BaseDescriptor):
    """Bag of visual words: a codebook of local descriptors and a histogram or VLAD per image.

    Parameters
    ----------
    detector : {'daisy', 'sift', 'orb'}, default='daisy'
        Local descriptors: dense DAISY (:func:`skimage.feature.daisy`, no
        detection, every image gets descriptors), SIFT keypoints
        (:class:`skimage.feature.SIFT`, 128-d) or ORB keypoints
        (:class:`skimage.feature.ORB`, 256 binary tests, clustered as 0/1 floats).
    detector_params : dict or None, default=None
        Keyword arguments of the skimage detector. For 'daisy' they update
        ``DAISY_DEFAULTS = {'step': 2, 'radius': 8, 'rings': 2, 'histograms': 6,
        'orientations': 8}`` (104-d descriptors, images of at least 17x17); for
        'sift' and 'orb' scikit-image's defaults apply.
    n_words : int, default=64
        Size of the codebook (clusters of MiniBatchKMeans).
    encoding : {'hist', 'vlad'}, default='hist'
        ``'hist'``: fraction of the image's descriptors assigned to each word
        (``n_words`` features). ``'vlad'``: residuals to the words, power- and
        L2-normalised (``n_words * d`` features, ``d`` the descriptor length).
    max_descriptors : int, default=100000
        Descriptors sampled at random from the training images to learn the codebook.
    random_state : int, RandomState instance or None, default=None
        Seeds the sampling and MiniBatchKMeans.
    channels : {'gray', 'each'}, default='gray'
        Describe the luminance, or each channel separately (one codebook learned
        from all channels, encodings concatenated).
    n_jobs : int or None, default=None
        Threads over chunks of images in ``transform`` (``None``: 1 unless inside
        ``joblib.parallel_config``); also joblib workers over images for the
        keypoint detection in ``fit``; work too small to gain from a second core
        runs in one thread, and ``joblib.parallel_config(backend=...)`` sends the
        chunks to that backend. The output is identical whatever ``n_jobs``.
    batch_size : int or None, default=None
        Images per chunk in ``transform``.
    verbose : int, default=0
        Show a progress bar over the images ``fit`` describes (SIFT takes
        seconds per image) and over chunks in ``transform``.

    Attributes
    ----------
    codebook_ : ndarray of shape (n_words, d)
        The visual words.
    kmeans_ : MiniBatchKMeans
        The fitted clustering.
    n_descriptors_fit_ : int
        Descriptors found in the training images (before sampling).
    input_scale_ : ImageScale
        Value scale of the images seen in ``fit`` (see :mod:`skvision._images`).
    image_shape_ : tuple
        Shape of one image seen in ``fit``.
    n_channels_ : int
        Channels of the images seen in ``fit``.
    n_features_out_ : int
        ``n_words`` (hist) or ``n_words * d`` (vlad) per described channel.

    Notes
    -----
    Detection thresholds of scikit-image are on a [0, 1] intensity scale; each
    image is stretched to [0, 1] (its own minimum and maximum) before detection,
    so uint8 and float images, dark and bright, are treated alike. Images in
    which no keypoint is found get an all-zero vector, in ``fit`` as in
    ``transform``; ``fit`` raises a ValueError only when the training images
    together give fewer descriptors than ``n_words``.

    References
    ----------
    G. Csurka, C. Dance, L. Fan, J. Willamowski and C. Bray, "Visual
    categorization with bags of keypoints", ECCV Workshop 2004.
    H. Jégou, M. Douze, C. Schmid and P. Pérez, "Aggregating local descriptors
    into a compact image representation", CVPR 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from skvision import BagOfVisualWords
    >>> images = np.random.default_rng(0).integers(0, 256, (6, 24, 24), dtype=np.uint8)
    >>> bovw = BagOfVisualWords(n_words=8, random_state=0).fit(images)
    >>> features = bovw.transform(images)
    >>> features.shape, bool(np.allclose(features.sum(axis=1), 1.0))
    ((6, 8), True)
    """

    _parameter_constraints: dict = {
        **BaseDescriptor._parameter_constraints,
        "detector": [StrOptions({"daisy", "sift", "orb"})],
        "detector_params": [dict, None],
        "n_words": [Interval(Integral, 1, None, closed="left")],
        "encoding": [StrOptions({"hist", "vlad"})],
        "max_descriptors": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }
    _feature_prefix = "bovw"
    # Float copies of 8-bit images (X / 255) are read as the levels they copy, so that a fit on them
    # learns the uint8 fit's codebook bit for bit (float32's rounding moved it by ~3e-9).
    _reads_copies_as_levels = True
    # DAISY by blocks measured 1,500 ns per pixel and 1.7x with two threads (numpy and scipy release
    # the GIL); keypoint detection in scikit-image holds it much of the time (1.07x measured), and
    # worker processes lose on anything under seconds of work.
    _PIXEL_COST_NS = 1000.0
    #: ns per pixel of each detector (64x64 textures, CPU time: daisy 934, sift 5,276, orb 2,178).
    #: SIFT was estimated at DAISY's cost: its transform went in chunks 5x the ~2 s that progress
    #: lines wait for (600 images: 16 s without a word).
    _DETECTOR_PIXEL_COST_NS = {"daisy": 1000.0, "sift": 4500.0, "orb": 1800.0}

    def _pixel_cost_ns(self):
        return self._DETECTOR_PIXEL_COST_NS.get(self.detector, self._PIXEL_COST_NS)

    @property
    def _parallel_prefer(self):
        # DAISY releases the GIL (threads: 1.7x); scikit-image's SIFT and ORB hold it (threads:
        # 1.07x), so their chunks go to worker processes, once the work repays starting them.
        return "threads" if self.detector == "daisy" else "processes"

    def __init__(
        self,
        detector="daisy",
        detector_params=None,
        n_words=64,
        encoding="hist",
        max_descriptors=100000,
        random_state=None,
        channels="gray",
        n_jobs=None,
        batch_size=None,
        verbose=0,
    ):
        self.detector = detector
        self.detector_params = detector_params
        self.n_words = n_words
        self.encoding = encoding
        self.max_descriptors = max_descriptors
        self.random_state = random_state
        self.channels = channels
        self.n_jobs = n_jobs
        self.batch_size = batch_size
        self.verbose = verbose

    # ------------------------------------------------------------------ params
    def _detector_params(self):
        given = dict(self.detector_params or {})
        if self.detector == "daisy":
            return {**DAISY_DEFAULTS, **given}
        return given

    def _check_params(self):
        params = self._detector_params()
        if self.detector == "daisy":
            unknown = set(params) - _DAISY_PARAMS
            if unknown:
                raise ValueError(
                    f"detector_params has keys {sorted(unknown)} that skimage.feature.daisy does "
                    f"not take; it takes {sorted(_DAISY_PARAMS)}."
                )
        else:
            detector_class = SIFT if self.detector == "sift" else ORB
            try:
                detector_class(**params)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"detector_params={self.detector_params!r} is not valid for "
                    f"skimage.feature.{detector_class.__name__}: {exc}"
                ) from exc

    def _min_image_size(self):
        if self.detector == "daisy":
            params = self._detector_params()
            radius = max(params["ring_radii"]) if params.get("ring_radii") is not None else params["radius"]
            side = 2 * int(np.ceil(radius)) + 1
        else:
            side = _SIFT_MIN_SIZE if self.detector == "sift" else _ORB_MIN_SIZE
        return (side, side)

    def _min_image_size_reason(self):
        if self.detector == "daisy":
            return "DAISY of the given radius"
        if self.detector == "sift":
            return "SIFT (no octave can be built below that)"
        return "ORB (keypoints must lie 20 pixels inside the image)"

    # --------------------------------------------------------------- learning
    def _detect(self, planes, progress=None):
        """Per-image descriptor arrays of a float64 stack (or a ``_FloatPlanes``), joblib over
        chunks of images.

        ``progress``: a bar advanced by the images of each chunk described (the
        one process's work then goes in chunks too, so that the bar moves).
        """
        params = self._detector_params()
        n_jobs, prefer = self._fit_parallelism(planes)
        if n_jobs != 1:
            n_chunks = 4 * effective_n_jobs(n_jobs)
        else:
            n_chunks = _FIT_PROGRESS_STEPS if progress is not None else 1
        chunks = np.array_split(np.arange(len(planes)), max(1, min(len(planes), n_chunks)))
        described = Parallel(n_jobs=n_jobs, prefer=prefer, return_as=results_as_they_come())(
            delayed(_descriptors_of_stack)(planes[chunk[0] : chunk[-1] + 1], self.detector, params)
            for chunk in chunks
        )
        per_image = []
        for chunk, descriptors in zip(chunks, described):
            per_image += descriptors
            if progress is not None:
                progress.update(len(chunk))
        return per_image

    def _fit_parallelism(self, stack):
        """``(n_jobs, prefer)`` of fit's ``Parallel`` over ``stack``: the transform's plan.

        Too little work runs in this process (starting loky's workers for 20 small
        images made a first fit 6x slower than one process), else on this
        process's threads for DAISY (numpy and scipy, which release the GIL),
        on worker processes for SIFT and ORB, or on the backend a
        ``joblib.parallel_config`` chose.
        """
        how, n_jobs = self._parallel_plan(stack, None)
        if how == "serial":
            return 1, None
        return n_jobs, ("threads" if how == "threads" else None)

    def _fit_progress(self, n_images):
        """A tqdm bar over the ``n_images`` images ``fit`` describes (``verbose``), or None."""
        if not self.verbose:
            return None
        from tqdm.auto import tqdm

        return tqdm(total=n_images, desc=f"{type(self).__name__} fit ({self.detector})", unit="image")

    def _fit_images(self, images):
        planes = _FloatPlanes(self, images)
        # SIFT takes seconds per image: a fit on a few hundred is minutes, which a bar shows.
        progress = self._fit_progress(len(planes))
        try:
            if self.detector == "daisy":
                descriptors, n_found, rng = self._sampled_daisy(planes, progress)
            else:
                per_image = self._detect(planes, progress)
                found = [d for d in per_image if d is not None and len(d)]
                n_found = sum(len(d) for d in found)
                self._check_enough(n_found)
                descriptors = np.concatenate(found)
                rng = check_random_state(self.random_state)
                if len(descriptors) > self.max_descriptors:
                    chosen = rng.choice(len(descriptors), self.max_descriptors, replace=False)
                    descriptors = descriptors[chosen]
                descriptors = descriptors.astype(np.float64)
        finally:
            if progress is not None:
                progress.close()
        self.kmeans_ = MiniBatchKMeans(n_clusters=self.n_words, random_state=rng).fit(descriptors)
        self.codebook_ = self.kmeans_.cluster_centers_
        self.n_descriptors_fit_ = n_found

    def _check_enough(self, n_found):
        if n_found < self.n_words:
            raise ValueError(
                f"The training images gave {n_found} {self.detector} descriptor(s), fewer than "
                f"n_words={self.n_words}: use fewer words, more or larger images, or another detector."
            )

    def _sampled_daisy(self, planes, progress=None):
        """The DAISY descriptors ``fit`` learns from, their number before sampling, and the generator.

        Every image gives the same number of DAISY descriptors, so the sample of
        ``max_descriptors`` (the same draw as sampling all of them at once) is
        known before describing: blocks of images are described one after the
        other and only their sampled descriptors kept. All of them at once took
        ~200 bytes per training pixel (9 GB for a thousand 224x224 images).
        """
        params = self._detector_params()
        step, radius = _daisy_settings(**params)[:2]
        height, width = planes.shape[1:3]
        per_image = math.prod(_daisy_grid_shape(height, width, step, radius))
        n_found = per_image * len(planes)
        self._check_enough(n_found)
        rng = check_random_state(self.random_state)
        if n_found <= self.max_descriptors:
            return np.concatenate(self._detect(planes, progress)), n_found, rng
        chosen = _draw_without_replacement(rng, n_found, self.max_descriptors)
        order = np.argsort(chosen)  # chosen[order] ascending: the sample, block by block
        ascending = chosen[order]
        per_block = max(1, _ENCODE_BLOCK_PIXELS // (height * width))
        blocks = []
        for start in range(0, len(planes), per_block):
            stop = min(start + per_block, len(planes))
            left, right = np.searchsorted(ascending, [start * per_image, stop * per_image])
            if left < right:
                blocks.append((start, stop, ascending[left:right] - start * per_image, order[left:right]))
        n_jobs, prefer = self._fit_parallelism(planes)
        # A generator: each block's planes are converted as its task is sent.
        kept = Parallel(n_jobs=n_jobs, prefer=prefer, return_as=results_as_they_come())(
            delayed(_sampled_daisy_block)(planes[start:stop], params, rows) for start, stop, rows, _ in blocks
        )
        descriptors = None
        for (start, stop, _, positions), rows in zip(blocks, kept):
            if descriptors is None:
                descriptors = np.empty((self.max_descriptors, rows.shape[1]))
            # Position k of the sample is descriptor chosen[k], as in the draw over all of them.
            descriptors[positions] = rows
            if progress is not None:
                progress.update(stop - start)
        if progress is not None:  # and the blocks that hold no sampled descriptor, left undescribed
            progress.update(len(planes) - sum(stop - start for start, stop, _, _ in blocks))
        return descriptors, n_found, rng

    # --------------------------------------------------------------- encoding
    def _encode_all(self, per_image):
        """The encodings of each image's descriptors, their words predicted in one call.

        One ``predict`` per image spent more time in scikit-learn's input checks
        than in the distances, for the ~64 descriptors of a small image.
        """
        # Keypoint descriptors come in scikit-image's dtype (uint8, bool): float64 from here.
        per_image = [None if d is None else d.astype(np.float64, copy=False) for d in per_image]
        present = [d for d in per_image if d is not None and len(d)]
        words = iter(())
        if present:
            stacked = np.concatenate(present)
            words = iter(np.split(self.kmeans_.predict(stacked), np.cumsum([len(d) for d in present])[:-1]))
        return np.stack(
            [self._encode(d, next(words) if d is not None and len(d) else None) for d in per_image]
        )

    def _encode(self, descriptors, words):
        """One image's encoding from its descriptors and their words (None: no descriptor)."""
        n_words, dim = self.codebook_.shape
        width = n_words if self.encoding == "hist" else n_words * dim
        if descriptors is None or len(descriptors) == 0:
            return np.zeros(width)
        if self.encoding == "hist":
            return np.bincount(words, minlength=n_words) / len(words)
        residuals = np.zeros((n_words, dim))
        np.add.at(residuals, words, descriptors - self.codebook_[words])
        vlad = np.sign(residuals) * np.sqrt(np.abs(residuals))
        norm = np.linalg.norm(vlad)
        return (vlad / norm if norm > 0 else vlad).ravel()

    def _describe(self, images):
        # A block of images at a time: dense descriptors take ~200 bytes per pixel (104 float64
        # values every second pixel of each row and column), far more than the images.
        params = self._detector_params()
        per_block = max(1, _ENCODE_BLOCK_PIXELS // (images.shape[1] * images.shape[2]))
        return np.concatenate(
            [
                self._encode_all(
                    _descriptors_of_stack(images[start : start + per_block], self.detector, params)
                )
                for start in range(0, len(images), per_block)
            ]
        )

    def _plane_feature_names(self):
        n_words, dim = self.codebook_.shape
        if self.encoding == "hist":
            return [f"word{k}" for k in range(n_words)]
        return [f"word{k}_dim{j}" for k in range(n_words) for j in range(dim)]
