"""The family registry: how to build each feature set of a comparison for a given data set.

A :class:`FeatureFamily` names the estimator it needs and a ``build`` function
that chooses defaults from a :class:`DatasetInfo`. :func:`build_feature_sets`
turns family names into :class:`FeatureSet` objects, which
:func:`~skvision.compare.compare_features` takes as they are: the transformer,
its kind, whether to describe every image once (the transformer's ``stateless``
tag), or why the family was left out.
"""

from __future__ import annotations

import dataclasses
import importlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._device import resolve_device
from .._tags import get_tags
from ._estimators import task_of

__all__ = [
    "DatasetInfo",
    "FeatureFamily",
    "FeatureSet",
    "FEATURE_FAMILIES",
    "register_feature_family",
    "build_feature_sets",
    "fused_parts",
]


@dataclass(frozen=True)
class DatasetInfo:
    """What a feature family may look at to choose its defaults.

    Attributes
    ----------
    image_shape : tuple
        ``(H, W)`` or ``(H, W, C)`` of the images.
    n_samples : int
    task : {'classification', 'regression'}
    n_classes : int or None
    device : str
        Where the comparison runs (``'auto'``, ``'cpu'``, ``'cuda'``,
        ``'cuda:N'``, ``'mps'``: skvision's one device rule). Every feature
        transformer whose torch path can run there (its ``devices`` tag) gets it;
        the others run on the CPU.
    random_state : int or None
    fast : bool
        Smaller networks and fewer epochs (smoke tests, docs).
    """

    image_shape: tuple
    n_samples: int
    task: str = "classification"
    n_classes: int | None = None
    device: str = "auto"
    random_state: int | None = 0
    fast: bool = False

    @property
    def height(self):
        return self.image_shape[0]

    @property
    def width(self):
        return self.image_shape[1]

    @property
    def n_channels(self):
        return 1 if len(self.image_shape) == 2 else self.image_shape[2]

    @classmethod
    def from_data(cls, X, y, task=None, **kwargs):
        """Describe the images ``X`` and target ``y`` (``task``: what ``y`` holds; None: read from it)."""
        X = np.asarray(X)
        task = task or task_of(y)
        n_classes = len(np.unique(y)) if task == "classification" else None
        return cls(image_shape=tuple(X.shape[1:]), n_samples=len(X), task=task, n_classes=n_classes, **kwargs)


@dataclass(frozen=True)
class FeatureFamily:
    """One entry of the registry: how to build a feature set for a data set.

    Attributes
    ----------
    name : str
        The name used by ``skvision compare --features``.
    estimator : str
        ``"module:Class"`` of the estimator the family needs; the family is left
        out with a note when it is not importable.
    kind : {'baseline', 'handcrafted', 'learned'}
    summary : str
        One line for ``--help`` and the report.
    build : callable
        ``build(estimator_class, info) -> transformer``.
    requires : callable or None
        ``requires(info) -> str or None``: why the family does not apply to this
        data set, or ``None`` when it does.
    max_side : int or None
        Larger images are downscaled (aspect ratio kept) so that neither side
        exceeds this before the family's transformer sees them; ``build`` and
        ``space`` then get the smaller ``info``. For networks trained from
        scratch, whose cost grows with the pixels while a small data set does
        not repay them. ``None``: the images as they are.
    space : callable or None
        ``space(info) -> dict or list of dicts``: the family's search space for
        ``compare_features(tune=True)`` / ``skvision compare --tune``, as the
        transformer's parameter names mapped to lists of values (a list of such
        dicts for alternatives, as in :class:`~sklearn.model_selection.ParameterGrid`);
        ``None`` when the family has nothing to tune (the classifier's own
        settings are tuned all the same).
    """

    name: str
    estimator: str
    kind: str
    summary: str
    build: Callable
    requires: Callable | None = None
    space: Callable | None = None
    max_side: int | None = None

    def load_estimator(self):
        """Import the estimator class; raise ImportError when it is not available."""
        module_name, _, attribute = self.estimator.partition(":")
        module = importlib.import_module(module_name)
        try:
            return getattr(module, attribute)
        except AttributeError:
            raise ImportError(f"{module_name} has no {attribute}") from None


@dataclass(frozen=True)
class FeatureSet:
    """One feature set of a comparison: a named transformer, or why it is left out.

    Attributes
    ----------
    name : str
    transformer : transformer or None
        Unfitted (cloned for each fold); ``None`` when the set is left out.
    kind : str, default=''
        'baseline', 'handcrafted', 'learned', ... (shown in the table).
    precompute : bool, default=False
        Fit once and describe every image once, then cross-validate the final
        estimator alone on those features (same scores, less work): for
        transformers whose ``fit`` learns nothing from the images.
    skipped : str or None, default=None
        Why the set is left out; ``None`` when it runs.
    space : dict, list of dict or None, default=None
        What ``compare_features(tune=True)`` searches for this set: the
        transformer's parameter names (no prefix) mapped to lists of values, or
        a list of such dicts. ``None``: only the final estimator is tuned.
    parts : tuple of str, default=()
        For a fused set (kind ``'fused'``): the names of the feature sets it
        concatenates.

    Examples
    --------
    >>> from skvision import HOG
    >>> FeatureSet.from_transformer("hog", HOG(), kind="handcrafted")  # doctest: +NORMALIZE_WHITESPACE
    FeatureSet(name='hog', transformer=HOG(), kind='handcrafted', precompute=False, skipped=None,
               space=None, parts=())
    """

    name: str
    transformer: object = None
    kind: str = ""
    precompute: bool = False
    skipped: str | None = None
    space: dict | list | None = None
    parts: tuple = ()

    @classmethod
    def from_transformer(cls, name, transformer, kind="", space=None):
        """The set of ``transformer``, precomputed when its ``stateless`` tag says fit learns nothing."""
        return cls(name, transformer, kind, precompute=get_tags(transformer).stateless, space=space)

    @classmethod
    def fuse(cls, name, sets):
        """The fused set concatenating the feature sets ``sets``, each standardised.

        The transformer is a :class:`~sklearn.pipeline.FeatureUnion` of one
        ``Pipeline([("features", transformer), ("scale", StandardScaler())])``
        per part, named after the part; the search space is the product of the
        parts' spaces (``'<part>__features__<parameter>'``). A part that is left
        out leaves the fused set out, with its reason.

        Examples
        --------
        >>> from skvision import HOG, LBP
        >>> fused = FeatureSet.fuse("lbp+hog", [FeatureSet("lbp", LBP()), FeatureSet("hog", HOG())])
        >>> fused.kind, fused.parts, [name for name, _ in fused.transformer.transformer_list]
        ('fused', ('lbp', 'hog'), ['lbp', 'hog'])
        """
        from sklearn.pipeline import FeatureUnion, Pipeline
        from sklearn.preprocessing import StandardScaler

        sets = list(sets)
        parts = tuple(s.name for s in sets)
        for part in sets:
            if not part.available:
                return cls(name, kind="fused", skipped=f"its part {part.name} {part.skipped}", parts=parts)
        union = FeatureUnion(
            [(s.name, Pipeline([("features", s.transformer), ("scale", StandardScaler())])) for s in sets]
        )
        spaces = [_prefixed(s.space, f"{s.name}__features__") for s in sets if s.space]
        return cls(name, union, "fused", precompute=False, space=_product(spaces), parts=parts)

    @property
    def available(self):
        """Whether the set runs (it is not left out)."""
        return self.skipped is None


def _as_grids(space):
    return [space] if isinstance(space, dict) else list(space)


def _prefixed(space, prefix):
    """``space`` (a dict or a list of dicts) with ``prefix`` before every parameter name."""
    return [{prefix + key: values for key, values in grid.items()} for grid in _as_grids(space)]


def _product(spaces):
    """The search space trying every combination of ``spaces`` (each a list of dicts), or None."""
    if not spaces:
        return None
    grids = [
        dict(itertools.chain.from_iterable(g.items() for g in combo)) for combo in itertools.product(*spaces)
    ]
    return grids[0] if len(grids) == 1 else grids


def fused_parts(name):
    """The family names of a fused feature-set name (``'hog+cnn'`` -> ``['hog', 'cnn']``), or ``[name]``.

    Examples
    --------
    >>> fused_parts("hog+cnn"), fused_parts("lbp")
    (['hog', 'cnn'], ['lbp'])
    """
    return [part.strip() for part in name.split("+")]


#: Registered feature families, in the order the command runs them.
FEATURE_FAMILIES: dict[str, FeatureFamily] = {}


def register_feature_family(name, *, estimator, kind, summary, requires=None, space=None, max_side=None):
    """Decorator adding ``build(estimator_class, info)`` to :data:`FEATURE_FAMILIES`.

    ``build`` chooses the transformer's parameters for the data set; it need not
    pass a device: :func:`build_feature_sets` gives ``info.device`` to every
    transformer whose torch path can run there. ``space(info)``, when given, is
    the family's search space for tuning, and ``max_side`` the largest image side
    the transformer gets (see :class:`FeatureFamily`).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> @register_feature_family("mean_grey", estimator="skvision.preprocessing:Grayscale",
    ...                          kind="baseline", summary="mean grey level")
    ... def _mean_grey(grayscale, info):
    ...     return make_pipeline(grayscale(), FunctionTransformer(lambda a: a.mean(axis=(1, 2))[:, None]))
    >>> "mean_grey" in FEATURE_FAMILIES
    True
    >>> del FEATURE_FAMILIES["mean_grey"]
    """

    if "+" in name or "," in name:
        raise ValueError(f"A family name cannot hold '+' or ','; got {name!r}.")

    def decorator(build):
        FEATURE_FAMILIES[name] = FeatureFamily(
            name, estimator, kind, summary, build, requires, space, max_side
        )
        return build

    return decorator


def _placed(transformer, device):
    """``transformer`` on ``device`` when its torch path can run there (its ``devices`` tag)."""
    tags = get_tags(transformer)
    if device.split(":")[0] in tags.devices and "device" in transformer.get_params(deep=False):
        transformer.set_params(device=device)
    return transformer


def build_feature_sets(names, info):
    """Build the feature sets of the families ``names`` for a data set.

    Parameters
    ----------
    names : list of str or None
        Registered family names, or fused names such as ``'hog+cnn'`` (the
        families' features concatenated, each standardised: see
        :meth:`FeatureSet.fuse`); ``None`` means every registered family.
    info : DatasetInfo

    Returns
    -------
    feature_sets : list of FeatureSet
        One per name, in order: the ones that run with their transformer (on
        ``info.device`` where its torch path can run there; described once when
        its ``stateless`` tag says fit learns nothing) and their search space,
        the others with the reason they are left out (the family does not apply
        to the data, or its estimator is not installed).

    Raises
    ------
    ValueError
        An unknown family name, or a device that is not available here.

    Examples
    --------
    >>> sets = build_feature_sets(["hog", "color"], DatasetInfo(image_shape=(32, 32), n_samples=100))
    >>> [(s.name, s.available) for s in sets]
    [('hog', True), ('color', False)]
    >>> sets[1].skipped
    'does not apply: colour histograms need colour images; these are grey'
    >>> fused = build_feature_sets(["lbp+hog"], DatasetInfo(image_shape=(32, 32), n_samples=100))[0]
    >>> fused.kind, fused.parts
    ('fused', ('lbp', 'hog'))
    """
    if names is None:
        names = list(FEATURE_FAMILIES)
    unknown = [part for n in names for part in fused_parts(n) if part not in FEATURE_FAMILIES]
    if unknown:
        raise ValueError(
            f"Unknown feature set(s) {', '.join(map(repr, unknown))}; expected some of "
            f"{', '.join(FEATURE_FAMILIES)} (or several joined by '+' to fuse them)."
        )
    device = resolve_device(info.device)
    sets = []
    for name in names:
        parts = fused_parts(name)
        if len(parts) == 1:
            sets.append(_build_one(name, info, device))
        else:
            sets.append(FeatureSet.fuse("+".join(parts), [_build_one(part, info, device) for part in parts]))
    return sets


def _build_one(name, info, device):
    family = FEATURE_FAMILIES[name]
    reason = family.requires(info) if family.requires is not None else None
    if reason:
        return FeatureSet(name, kind=family.kind, skipped=f"does not apply: {reason}")
    try:
        estimator_class = family.load_estimator()
    except ImportError as exc:
        why = f"not available in this installation ({family.estimator.split(':')[1]}: {exc})"
        return FeatureSet(name, kind=family.kind, skipped=why)
    size = downscaled_size(info.image_shape[:2], family.max_side)
    if size is None:
        transformer = _placed(family.build(estimator_class, info), device)
        space = family.space(info) if family.space is not None else None
        return FeatureSet.from_transformer(name, transformer, kind=family.kind, space=space)
    from sklearn.pipeline import Pipeline

    from ..preprocessing import Resize

    small = dataclasses.replace(info, image_shape=(*size, *info.image_shape[2:]))
    network = _placed(family.build(estimator_class, small), device)
    transformer = Pipeline([("resize", Resize(size)), ("network", network)])
    space = _prefixed(family.space(small), "network__") if family.space is not None else None
    return FeatureSet.from_transformer(name, transformer, kind=family.kind, space=space)


def downscaled_size(shape, max_side):
    """``(height, width)`` scaled down so that neither side exceeds ``max_side`` (aspect ratio kept, rounded),
    or ``None`` when ``shape`` already fits (or ``max_side`` is None).

    Examples
    --------
    >>> downscaled_size((224, 224), 64), downscaled_size((480, 640), 64), downscaled_size((28, 28), 64)
    ((64, 64), (48, 64), None)
    """
    if max_side is None or max(shape) <= max_side:
        return None
    scale = max_side / max(shape)
    return tuple(max(1, round(side * scale)) for side in shape)
