"""Handcrafted image descriptors: sklearn transformers and batched functions.

Each transformer takes a batch of images ``(N, H, W)`` or ``(N, H, W, C)`` and
returns one fixed-length feature vector per image. The functional forms
(``local_binary_pattern``, ``hog``) follow scikit-image's semantics, batched.

Feature names
-------------
``get_feature_names_out()`` names every column of every descriptor with one scheme::

    {prefix}_[c{k}_][block{r}_{c}_][cell{r}_{c}_]{feature}

- ``{prefix}``: the descriptor: ``lbp``, ``hog``, ``glcm``, ``hu``, ``zernike``,
  ``gabor``, ``lpq``, ``wld``, ``bsif``, ``color``, ``bovw``.
- ``c{k}_``: channel ``k`` (from 0), only with ``channels='each'`` on images of
  more than one channel.
- ``cell{r}_{c}_``: the cell in row ``r``, column ``c`` (from 0) of the ``grid``;
  for HOG, the cell within its block (within the image with ``block_norm=None``).
- ``block{r}_{c}_``: HOG's block in row ``r``, column ``c``.
- A position part appears only where there is more than one position: a 1x1
  grid has no cell part, a HOG of a single block no block part.
- ``{feature}``: parts joined by ``_``, each a keyword and its value, one
  spelling per notion:

  - ``P{n}_R{r}``: an LBP scale (``P`` neighbours at radius ``R`` pixels);
  - ``f{f}``: a spatial frequency in cycles per pixel (GaborBank);
  - ``d{d}``: a distance in pixels (GLCM);
  - ``a{deg}``: an angle in degrees (GLCM offsets, GaborBank filters);
  - ``o{k}``: orientation bin ``k`` (HOG bins, WLD dominant orientations);
  - ``bin{k}``: histogram bin ``k`` (LBP labels, LPQ and BSIF codes, colour
    bins, WLD excitation sub-bins); ``bin{i}_{j}_{k}``: a bin of a joint histogram;
  - ``seg{m}``: WLD excitation segment ``m``;
  - ``matrix{i}_{j}``: entry ``(i, j)`` of a co-occurrence matrix (GLCM);
  - ``h{k}``: Hu moment ``k`` (1 to 7); ``n{n}_m{m}``: Zernike moment ``(n, m)``;
  - ``word{k}`` and ``dim{j}``: visual word ``k`` and dimension ``j`` of its
    VLAD residual (BagOfVisualWords);
  - words without a value: statistics (``mean``, ``var``, ``std``, ``skew``),
    GLCM properties (``contrast``, ``ASM``, ...) and colour channels (``r``,
    ``h``, ``L``, ...).

Values are written with Python's ``g`` format (``1``, ``0.1``, ``57.2958``,
``-45``). Examples: ``lbp_cell0_1_P8_R1_bin3``, ``hog_block2_3_cell1_0_o5``,
``gabor_c1_f0.1_a45_mean``, ``glcm_contrast_d1_a0``, ``wld_seg2_o5_bin1``,
``color_h_bin3``.
"""

from .._lazy import attach

_NAMES = {
    # Foundation descriptors.
    "LBP": "skvision.descriptors._lbp",
    "local_binary_pattern": "skvision.descriptors._lbp",
    "HOG": "skvision.descriptors._hog",
    "hog": "skvision.descriptors._hog",
    # More descriptors.
    "GLCM": "skvision.descriptors._glcm",
    "graycomatrix": "skvision.descriptors._glcm",
    "graycoprops": "skvision.descriptors._glcm",
    "hu_moments": "skvision.descriptors._moments",
    "zernike_moments": "skvision.descriptors._moments",
    "gabor": "skvision.descriptors._gabor",
    "HuMoments": "skvision.descriptors._moments",
    "ZernikeMoments": "skvision.descriptors._moments",
    "GaborBank": "skvision.descriptors._gabor",
    "LPQ": "skvision.descriptors._lpq",
    "local_phase_quantization": "skvision.descriptors._lpq",
    "WLD": "skvision.descriptors._wld",
    "weber_local_descriptor": "skvision.descriptors._wld",
    "BSIF": "skvision.descriptors._bsif",
    "ColorHistogram": "skvision.descriptors._color",
    "BagOfVisualWords": "skvision.descriptors._bovw",
    "BaseDescriptor": "skvision.descriptors._base",
}

__getattr__, __dir__, __all__ = attach(__name__, _NAMES)
