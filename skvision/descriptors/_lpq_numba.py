"""The numba kernel of LPQ's code maps; imported only where numba is (see :mod:`._lpq`).

One pass per image from the pixels to the 8-bit codes, with every intermediate of
an output row in a few small buffers, where the numpy path makes some forty
passes over chunk-sized temporaries. The sums are the numpy path's, in its order:

* each 1-D convolution is ``v[L-1] * x[0] + v[L-2] * x[1] + ... + v[0] * x[L-1]``,
  added left to right (``_lpq._convolve_valid``): first down the rows with
  ``w0``, ``c`` and ``s``, then along the columns of each of those three;
* the eight raw coefficients combine the nine separable sums as ``_lpq._lpq_codes``
  does;
* the 8x8 mixing is ``m[j, 0] * raw[0] + ... + m[j, 7] * raw[7]`` left to right
  (``_lpq._mix``);

so the two routes give bit-identical codes (numba, without ``fastmath``, neither
reorders nor fuses float operations).
"""

from __future__ import annotations

import numba
import numpy as np

from ._numba import compile_kernel

_N_COEFFICIENTS = 8


def _peak(image):
    """Largest ``|pixel|`` of one image."""
    peak = 0.0
    for y in range(image.shape[0]):
        for x in range(image.shape[1]):
            value = abs(image[y, x])
            if value > peak:
                peak = value
    return peak


peak = compile_kernel(_peak, numba, inline=True)


def _code_row(image, i, w0, c, s, mixing, tolerance, r0, rc, rs, sums, raw, code_row):
    """Codes of output row ``i`` of one image into ``code_row``; the other arrays are scratch."""
    width = image.shape[1]
    length = w0.shape[0]
    out_w = code_row.shape[0]
    last = length - 1
    # Down the rows: the three 1-D filters over the window's rows, for every column.
    for x in range(width):
        value = image[i, x]
        r0[x] = w0[last] * value
        rc[x] = c[last] * value
        rs[x] = s[last] * value
    for k in range(1, length):
        a0 = w0[last - k]
        ac = c[last - k]
        a_s = s[last - k]
        for x in range(width):
            value = image[i + k, x]
            r0[x] += a0 * value
            rc[x] += ac * value
            rs[x] += a_s * value
    # Along the columns: the separable sums 0c, 0s, c0, s0, cc, ss, cs, sc (row filter first).
    for j in range(out_w):
        sums[0, j] = c[last] * r0[j]
        sums[1, j] = s[last] * r0[j]
        sums[2, j] = w0[last] * rc[j]
        sums[3, j] = w0[last] * rs[j]
        sums[4, j] = c[last] * rc[j]
        sums[5, j] = s[last] * rs[j]
        sums[6, j] = s[last] * rc[j]
        sums[7, j] = c[last] * rs[j]
    for k in range(1, length):
        b0 = w0[last - k]
        bc = c[last - k]
        b_s = s[last - k]
        for j in range(out_w):
            sums[0, j] += bc * r0[j + k]
            sums[1, j] += b_s * r0[j + k]
            sums[2, j] += b0 * rc[j + k]
            sums[3, j] += b0 * rs[j + k]
            sums[4, j] += bc * rc[j + k]
            sums[5, j] += b_s * rs[j + k]
            sums[6, j] += b_s * rc[j + k]
            sums[7, j] += bc * rs[j + k]
    # Re F1, Im F1, ..., Im F4 from the separable sums (signs as in _lpq._coefficient_kernels),
    # then the mixing: per pixel, where the eight values stay in registers.
    for j in range(out_w):
        raw[0] = sums[0, j]
        raw[1] = -sums[1, j]
        raw[2] = sums[2, j]
        raw[3] = -sums[3, j]
        raw[4] = sums[4, j] - sums[5, j]
        raw[5] = -(sums[6, j] + sums[7, j])
        raw[6] = sums[4, j] + sums[5, j]
        raw[7] = sums[6, j] - sums[7, j]
        code = 0
        for row in range(_N_COEFFICIENTS):
            total = mixing[row, 0] * raw[0]
            for col in range(1, _N_COEFFICIENTS):
                total += mixing[row, col] * raw[col]
            if total > tolerance:
                code |= 1 << row
        code_row[j] = code


code_row = compile_kernel(_code_row, numba, inline=True)


def _scratch(width, out_w):
    return (
        np.empty(width),
        np.empty(width),
        np.empty(width),
        np.empty((8, out_w)),
        np.empty(_N_COEFFICIENTS),
        np.empty(out_w, dtype=np.uint8),
    )


scratch = compile_kernel(_scratch, numba, inline=True)


def _lpq_codes_into(images, w0, c, s, mixing, tolerance_factor, codes):
    """LPQ codes of a float64 ``(n, H, W)`` stack written into ``codes`` ``(n, H - L + 1, W - L + 1)``.

    ``tolerance_factor`` times the image's largest ``|pixel|`` is the threshold a
    coefficient must exceed for its bit to be set (``sign_tolerance``).
    """
    n = images.shape[0]
    out_h, out_w = codes.shape[1], codes.shape[2]
    r0, rc, rs, sums, raw, _ = scratch(images.shape[2], out_w)
    for m in range(n):
        image = images[m]
        tolerance = peak(image) * tolerance_factor
        for i in range(out_h):  # straight into the output row
            code_row(image, i, w0, c, s, mixing, tolerance, r0, rc, rs, sums, raw, codes[m, i])


lpq_codes_into = compile_kernel(_lpq_codes_into, numba)


def _lpq_counts_into(images, w0, c, s, mixing, tolerance_factor, cell_of, counts):
    """Add each image's code counts per cell into ``counts`` ``(n, n_cells, 256)``.

    ``cell_of[i, j]`` is the cell of code-map pixel ``(i, j)``; the codes are those
    of :func:`_lpq_codes_into`, never stored.
    """
    n = images.shape[0]
    out_h, out_w = cell_of.shape
    r0, rc, rs, sums, raw, row_codes = scratch(images.shape[2], out_w)
    for m in range(n):
        image = images[m]
        tolerance = peak(image) * tolerance_factor
        for i in range(out_h):
            code_row(image, i, w0, c, s, mixing, tolerance, r0, rc, rs, sums, raw, row_codes)
            for j in range(out_w):
                counts[m, cell_of[i, j], row_codes[j]] += 1


lpq_counts_into = compile_kernel(_lpq_counts_into, numba)
