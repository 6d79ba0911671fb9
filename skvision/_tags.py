"""skvision's estimator tags: scikit-learn's :class:`~sklearn.utils.Tags` and two more.

scikit-learn (>= 1.6) asks every estimator for its tags with ``__sklearn_tags__``
and documents subclassing :class:`~sklearn.utils.Tags` to add new ones. skvision's
estimators return :class:`SkvisionTags`, so ``sklearn.utils.get_tags`` keeps
working on them and :func:`get_tags` reads the two skvision tags from any
estimator (an estimator from elsewhere gets their defaults).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from sklearn.utils import Tags
from sklearn.utils import get_tags as sklearn_get_tags

__all__ = ["SkvisionTags", "get_tags"]


@dataclass(slots=True)
class SkvisionTags(Tags):
    """scikit-learn's estimator tags plus what skvision's estimators say about themselves.

    Parameters
    ----------
    devices : tuple of str, default=('cpu',)
        Kinds of device the estimator can run on, among ``'cpu'``, ``'cuda'``
        and ``'mps'``. More than ``'cpu'`` means a torch implementation and a
        ``device`` parameter that may name such a device (see
        :mod:`skvision._device` for what each value means).
    stateless : bool, default=False
        ``True`` promises that ``fit`` learns nothing from the images (a frozen
        pretrained network): a fitted copy describes an image the same whatever
        images it was fitted on, so a comparison may describe every image once
        rather than once per fold. ``False`` makes no promise. Unlike
        scikit-learn's retired ``stateless`` tag (now ``requires_fit``), such an
        estimator may still need ``fit`` (to load weights, to check images).

    Other parameters are scikit-learn's (:class:`sklearn.utils.Tags`).

    Examples
    --------
    >>> from skvision import HOG, get_tags
    >>> get_tags(HOG()).devices
    ('cpu', 'cuda')
    >>> get_tags(HOG()).stateless
    False
    """

    devices: tuple = ("cpu",)
    stateless: bool = False

    @classmethod
    def from_tags(cls, tags, **changes):
        """The :class:`SkvisionTags` holding ``tags`` (scikit-learn's), with ``changes``."""
        values = {f.name: getattr(tags, f.name) for f in fields(Tags)}
        if isinstance(tags, SkvisionTags):
            values.update(devices=tags.devices, stateless=tags.stateless)
        values.update(changes)
        return cls(**values)

    @property
    def torch_support(self):
        """Whether the estimator has a torch implementation (it can run on a GPU)."""
        return self.devices != ("cpu",)


def get_tags(estimator) -> SkvisionTags:
    """The tags of ``estimator``, as :class:`SkvisionTags`.

    :func:`sklearn.utils.get_tags`, with skvision's tags at their defaults for
    estimators that do not set them (scikit-learn's own, a Pipeline).

    Parameters
    ----------
    estimator : estimator instance

    Returns
    -------
    tags : SkvisionTags

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skvision import LBP, get_tags
    >>> get_tags(LBP()).torch_support, get_tags(PCA()).torch_support
    (True, False)
    """
    tags = sklearn_get_tags(estimator)
    return tags if isinstance(tags, SkvisionTags) else SkvisionTags.from_tags(tags)
