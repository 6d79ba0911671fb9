"""HOG throughput: skvision vs a scikit-image loop vs OpenCV's cv2.HOGDescriptor.

Workloads (uint8 grey images, HOG with 9 bins, 8x8-pixel cells, 3x3-cell blocks,
L2-Hys):

(a) 5,000 28x28 texture patches (skvision.datasets.load_textures: brick, grass, gravel);
(b) 20 512x512 images (skimage.data camera, brick, grass, gravel, astronaut's
    luminance, each also flipped / transposed).

Rows: skvision ``HOG`` (on 8-bit images its compiled numba kernel when the ``fast`` extra
is installed; "numpy path" is the same transform with ``SKVISION_NUMBA=0``, what an
install without numba runs; also ``device='cuda'`` when torch sees a GPU),
``skimage.feature.hog`` called image by image, and ``cv2.HOGDescriptor`` configured
to the same layout (24x24-pixel blocks = 3x3 cells of 8x8, block stride one cell, 9
unsigned bins, L2-Hys 0.2, no gamma correction), image by image. OpenCV's numbers
differ from scikit-image's on purpose (it votes with bilinear orientation and
trilinear spatial interpolation and weights each block by a Gaussian window), so
only its feature length is checked; skvision's output is checked against
scikit-image's (rtol 1e-6) and against its own single-process output for
``n_jobs=2``.

"Single process" means one process and one thread (OpenCV is set to one
thread); "n_jobs=2" runs two workers over chunks of the batch (joblib): threads for
skvision's HOG (its default, the work releases the GIL), processes for the two loops
(which hold the GIL). Each figure is the median of several repeats, the rows taking turns within
each repeat (so a burst of load on a shared machine hits them alike); ratios compare rows
measured in the same run. Single-process rows are also timed in CPU time of the
process, which other work on a shared machine disturbs much less than wall time.
The peak memory of ``HOG().transform`` on (a) is measured with tracemalloc (numpy
allocations) against the target: at most twice the input plus the output.

Usage::

    .venv/bin/python benchmarks/bench_hog.py             # 5 repeats
    .venv/bin/python benchmarks/bench_hog.py --repeats 3
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import time
import tracemalloc

import numpy as np

HOG_PARAMS = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(3, 3), block_norm="L2-Hys")


def workload_a():
    from skvision.datasets import load_textures

    images, _ = load_textures(patch_size=28, n_per_class=1667, random_state=0, return_X_y=True)
    return np.ascontiguousarray(images[:5000])


def workload_b():
    import skimage.color
    import skimage.data

    sources = [
        skimage.data.camera(),
        skimage.data.brick(),
        skimage.data.grass(),
        skimage.data.gravel(),
        (skimage.color.rgb2gray(skimage.data.astronaut()) * 255).astype(np.uint8),
    ]
    variants = []
    for image in sources:
        variants += [image, image[::-1], image[:, ::-1], image.T]
    return np.ascontiguousarray(np.stack(variants))


def median_seconds(function, repeats):
    """Median wall-clock and CPU (this process) seconds of ``function()``."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        function()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(wall), statistics.median(cpu)


def calls_per_sample(function, at_least=0.2):
    """How many calls of ``function`` one timed sample makes, so that it lasts ``at_least`` seconds.

    One call of 15 ms timed alone is at the mercy of a context switch: three such
    samples once made ``n_jobs=2`` on (a) read 0.94x of one process where 30
    alternating ones gave 1.4-1.8x. This first call also warms the function up.
    """
    start = time.perf_counter()
    function()
    return max(1, math.ceil(at_least / max(time.perf_counter() - start, 1e-9)))


def _call(function, count):
    """``function()`` ``count`` times, each output dropped before the next call (as one call's is)."""
    for _ in range(count):
        function()


def interleaved_medians(functions, repeats):
    """Median (wall, CPU) seconds per call of each function, the functions taking turns within each repeat.

    On a shared machine a burst of load then hits every row alike instead of
    whichever row happened to run during it, so the ratios hold. Each sample
    times a burst of calls lasting at least 0.2 s (:func:`calls_per_sample`).
    """
    calls = {key: calls_per_sample(function) for key, function in functions.items()}
    samples = {key: [] for key in functions}
    for _ in range(repeats):
        for key, function in functions.items():
            count = calls[key]
            wall, cpu = median_seconds(lambda function=function, count=count: _call(function, count), 1)
            samples[key].append((wall / count, cpu / count))
    return {
        key: (statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for key, runs in samples.items()
    }


def skimage_loop(images):
    from skimage.feature import hog

    return np.stack([hog(image, feature_vector=True, **HOG_PARAMS) for image in images])


def opencv_descriptor(height, width):
    import cv2

    cell = HOG_PARAMS["pixels_per_cell"]
    block = (cell[1] * HOG_PARAMS["cells_per_block"][1], cell[0] * HOG_PARAMS["cells_per_block"][0])
    # The window covers the whole cells, like skimage's crop of the ragged edge.
    window = (width // cell[1] * cell[1], height // cell[0] * cell[0])
    return cv2.HOGDescriptor(
        window,
        block,
        (cell[1], cell[0]),
        (cell[1], cell[0]),
        HOG_PARAMS["orientations"],
        1,
        -1,
        cv2.HOGDescriptor_L2Hys,
        0.2,
        False,
        64,
        False,
    ), window


def opencv_loop(images):
    descriptor, (win_w, win_h) = opencv_descriptor(*images.shape[1:3])
    crops = np.ascontiguousarray(images[:, :win_h, :win_w])
    return np.stack([descriptor.compute(image).ravel() for image in crops])


def in_two_processes(function, images):
    """``function`` over two halves of the batch in two worker processes."""
    from joblib import Parallel, delayed

    halves = np.array_split(images, 2)
    return np.concatenate(Parallel(n_jobs=2)(delayed(function)(half) for half in halves))


def fitted_hog(images, **kwargs):
    """A fitted skvision HOG: the timings are of ``transform`` alone, like the loops'."""
    from skvision import HOG

    return HOG(**HOG_PARAMS, **kwargs).fit(images[:1])


def numpy_path():
    """Context: skvision's numpy path for 8-bit HOG, as without numba (``SKVISION_NUMBA=0``).

    Read at each call, so it holds in this process only (not in joblib's workers).
    """
    from unittest import mock

    return mock.patch.dict(os.environ, {"SKVISION_NUMBA": "0"})


def on_numpy_path(function):
    def run_it():
        with numpy_path():
            return function()

    return run_it


def peak_transform_memory(images):
    from skvision import HOG
    from skvision.descriptors import _hog, _hog_tables

    descriptor = HOG(**HOG_PARAMS).fit(images)
    # The first transform of a process also builds the cached lookup table and cell index.
    _hog_tables.uint8_lookup.cache_clear()
    _hog_tables.uint8_magnitudes.cache_clear()
    _hog_tables.uint8_magnitude_quarter.cache_clear()
    _hog._cell_index.cache_clear()

    def transform():
        return descriptor.transform(images)

    peaks = []
    # First call, second call, numpy path (first call: builds its cell index), numpy path again.
    for run_it in (transform, transform, on_numpy_path(transform), on_numpy_path(transform)):
        tracemalloc.start()
        features = run_it()
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    return peaks, features.nbytes


def default_route():
    from skvision.descriptors import _hog_kernels

    if _hog_kernels.numba_available():
        import numba

        return f"compiled kernel (numba {numba.__version__})"
    return "numpy path (numba not installed)"


def run(repeats):
    import cv2
    import skimage
    import torch

    import skvision

    cv2.setNumThreads(1)
    load_before = os.getloadavg()
    rows = []
    checks = []
    for label, images in (("(a) 5,000 x 28x28", workload_a()), ("(b) 20 x 512x512", workload_b())):
        n = len(images)
        one_process, two_processes = fitted_hog(images), fitted_hog(images, n_jobs=2)
        ours = one_process.transform(images)
        reference = skimage_loop(images)
        np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=0)
        ours_2 = two_processes.transform(images)
        np.testing.assert_array_equal(ours_2, ours)
        with numpy_path():
            np.testing.assert_array_equal(one_process.transform(images), ours)
        opencv = opencv_loop(images)
        checks.append(
            f"{label}: skvision == skimage (rtol 1e-6), n_jobs=2 == n_jobs=1 == numpy path; "
            f"{ours.shape[1]} features (OpenCV: {opencv.shape[1]})"
        )
        functions = {
            ("skvision HOG", "1 process"): lambda: one_process.transform(images),
            ("skvision HOG", "n_jobs=2"): lambda: two_processes.transform(images),
            ("skvision HOG, numpy path", "1 process"): on_numpy_path(lambda: one_process.transform(images)),
            ("skimage loop", "1 process"): lambda: skimage_loop(images),
            ("skimage loop", "n_jobs=2"): lambda: in_two_processes(skimage_loop, images),
            ("OpenCV HOGDescriptor loop", "1 process"): lambda: opencv_loop(images),
            ("OpenCV HOGDescriptor loop", "n_jobs=2"): lambda: in_two_processes(opencv_loop, images),
        }
        timings = interleaved_medians(functions, repeats)
        if torch.cuda.is_available():
            on_gpu = fitted_hog(images, device="cuda")
            np.testing.assert_allclose(on_gpu.transform(images), ours, rtol=0, atol=1e-5)  # also warms up
            timings[("skvision HOG, torch cuda", "1 process")] = median_seconds(
                lambda: on_gpu.transform(images), repeats
            )
        for (name, mode), (wall, cpu) in timings.items():
            # CPU time of worker processes is not this process's: wall clock only for n_jobs=2.
            rows.append((label, name, mode, n / wall, n / cpu if mode == "1 process" else None))
    peaks, output_bytes = peak_transform_memory(workload_a())
    load_after = os.getloadavg()

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'}), "
        f"Python {platform.python_version()}, numpy {np.__version__}, scikit-image {skimage.__version__}, "
        f"OpenCV {cv2.__version__}, torch {torch.__version__}, skvision {skvision.__version__}"
    )
    print(
        f"skvision HOG on 8-bit images: {default_route()}; the 'numpy path' row is the same "
        "transform with SKVISION_NUMBA=0 (what an install without the 'fast' extra runs)"
    )
    print(
        f"Load average (1 min) before / after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        "(above ~1 means other work shared the machine)"
    )
    print(
        f"Medians of {repeats} repeats, the rows taking turns within each repeat; "
        "each sample times calls for at least 0.2 s.\n"
    )
    print(
        "| workload | implementation | mode | images/s (wall) | vs skimage | vs OpenCV "
        "| images/s (CPU time) | vs skimage | vs OpenCV |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for label, name, mode, rate, cpu_rate in rows:
        same = {r[1]: r for r in rows if r[0] == label and r[2] == mode}
        skimage_row, opencv_row = same["skimage loop"], same["OpenCV HOGDescriptor loop"]
        line = (
            f"| {label} | {name} | {mode} | {rate:,.0f} | {rate / skimage_row[3]:.1f}x "
            f"| {rate / opencv_row[3]:.2f}x |"
        )
        if cpu_rate is None:
            line += " | | |"
        else:
            line += f" {cpu_rate:,.0f} | {cpu_rate / skimage_row[4]:.1f}x | {cpu_rate / opencv_row[4]:.2f}x |"
        print(line)
    input_bytes = workload_a().nbytes
    limit = 2 * input_bytes + output_bytes
    verdict = "OK" if max(peaks[1], peaks[3]) <= limit else "OVER"
    print(
        f"\nPeak memory of HOG().transform on (a) (tracemalloc): {peaks[1] / 1e6:.1f} MB "
        f"({peaks[0] / 1e6:.1f} MB on the first call, which builds the 2.3 MB lookup table; "
        f"{peaks[3] / 1e6:.1f} MB on the numpy path); "
        f"input {input_bytes / 1e6:.1f} MB, output {output_bytes / 1e6:.1f} MB, "
        f"limit 2 x input + output = {limit / 1e6:.1f} MB -> {verdict}"
    )
    print("\nChecks: " + "; ".join(checks))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    run(parser.parse_args().repeats)
