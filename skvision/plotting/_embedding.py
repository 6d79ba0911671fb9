"""2-D map of a feature space (t-SNE or PCA), coloured by the target."""

from __future__ import annotations

import numpy as np

from ._base import axes_or_new, check_target_names

__all__ = ["EmbeddingDisplay", "embed_2d"]


def embed_2d(features, method="tsne", random_state=0):
    """Standardise ``features`` and map them to 2-D with t-SNE or PCA (scikit-learn).

    Wide features go through PCA to 50 dimensions before t-SNE, the usual
    denoising and speed-up step.

    Parameters
    ----------
    features : array-like of shape (n_samples, n_features)
    method : {'tsne', 'pca'}, default='tsne'
    random_state : int or None, default=0

    Returns
    -------
    embedding : ndarray of shape (n_samples, 2)

    Examples
    --------
    >>> import numpy as np
    >>> embed_2d(np.random.default_rng(0).random((20, 5)), method="pca").shape
    (20, 2)
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from sklearn.preprocessing import StandardScaler
    from threadpoolctl import threadpool_limits

    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or len(features) < 3:
        raise ValueError(f"features must be a 2-D array of at least 3 samples; got shape {features.shape}.")
    if method not in ("tsne", "pca"):
        raise ValueError(f"method must be 'tsne' or 'pca'; got {method!r}.")
    scaled = StandardScaler().fit_transform(features)
    if features.shape[1] == 1:
        return np.column_stack([scaled[:, 0], np.zeros(len(scaled))])
    if method == "pca" or features.shape[1] == 2:
        return PCA(2, random_state=random_state).fit_transform(scaled) if features.shape[1] > 2 else scaled
    if scaled.shape[1] > 50:
        scaled = PCA(50, random_state=random_state).fit_transform(scaled) if len(scaled) > 50 else scaled
    perplexity = min(30.0, (len(scaled) - 1) / 3)
    tsne = TSNE(2, init="pca", perplexity=perplexity, random_state=random_state)
    # One OpenMP thread: for the <= few thousand points mapped here it is about as
    # fast, and spinning threads on a busy machine made t-SNE 10x slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        return tsne.fit_transform(scaled)


class EmbeddingDisplay:
    """Scatter plot of a feature space mapped to 2-D (t-SNE or PCA), coloured by target.

    Use :meth:`from_estimator` on any fitted transformer (a descriptor, a CNN's
    embedding, an autoencoder's code), or :meth:`from_features` on features you
    already have.

    Parameters
    ----------
    embedding : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,) or None
        Class labels (one colour each) or a continuous target (a colour map).
    method : str
        How the map was made (axis labels).
    target_names : sequence of str or None
        Legend names, ``target_names[label]`` for integer labels.
    title : str or None
    n_total : int or None
        Number of samples the points were drawn from, when they are a random
        subset (stated on the map).

    Attributes
    ----------
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure
    scatter_ : PathCollection
    count_text_ : matplotlib Text
        How many points the map shows, written in its corner.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.decomposition import PCA
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from sklearn.pipeline import make_pipeline
    >>> from skvision.datasets import load_digits
    >>> from skvision.plotting import EmbeddingDisplay
    >>> X, y = load_digits(return_X_y=True)
    >>> flat = make_pipeline(FunctionTransformer(lambda a: a.reshape(len(a), -1)), PCA(8)).fit(X)
    >>> display = EmbeddingDisplay.from_estimator(flat, X[:200], y[:200], method="pca")
    >>> display.embedding.shape, display.count_text_.get_text()
    ((200, 2), '200 points')
    """

    def __init__(
        self,
        *,
        embedding,
        y=None,
        method="tsne",
        target_names=None,
        title=None,
        n_total=None,
        continuous=None,
    ):
        self.embedding = np.asarray(embedding)
        self.y = None if y is None else np.asarray(y)
        self.method = method
        self.target_names = target_names
        self.title = title
        self.n_total = n_total
        self.continuous = continuous

    @classmethod
    def from_features(
        cls,
        features,
        y=None,
        *,
        method="tsne",
        max_samples=1000,
        random_state=0,
        target_names=None,
        title=None,
        ax=None,
        continuous=None,
    ):
        """Map ``features`` to 2-D and plot them.

        Parameters
        ----------
        features : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or None
        method : {'tsne', 'pca'}, default='tsne'
        max_samples : int or None, default=1000
            A random subset of this size is mapped (t-SNE is quadratic).
        random_state : int or None, default=0
        target_names : sequence of str or None
            ``target_names[label]`` names integer class label ``label``: every
            label of ``y`` must be in ``0..len(target_names) - 1`` (a
            ``ValueError`` otherwise: names that do not fit the labels put one
            class's name on another).
        title : str or None
        ax : matplotlib Axes, None or False
            Where to draw; ``None``: a new figure; ``False``: compute the map
            only (no matplotlib: for a worker process), and draw it later with
            ``display.plot()``.
        continuous : bool or None, default=None
            Colour by a colour bar (a regression target) rather than by class;
            ``None`` decides from ``y`` (``type_of_target``), which takes
            whole-number targets (ages) for classes.

        Returns
        -------
        display : EmbeddingDisplay
        """
        features = np.asarray(features)
        y = None if y is None else np.asarray(y)
        if y is not None and len(y) != len(features):
            # Subsampled, the wrong rows' labels were drawn without a word.
            raise ValueError(
                f"y has {len(y)} labels but features has {len(features)} rows: one label per row."
            )
        if y is not None and target_names is not None:
            check_target_names(target_names, y)
        n_total = None
        if max_samples is not None and len(features) > max_samples:
            n_total = len(features)
            keep = np.sort(
                np.random.default_rng(random_state).choice(len(features), max_samples, replace=False)
            )
            features = features[keep]
            y = None if y is None else y[keep]
        embedding = embed_2d(features, method=method, random_state=random_state)
        display = cls(
            embedding=embedding,
            y=y,
            method=method,
            target_names=target_names,
            title=title,
            n_total=n_total,
            continuous=continuous,
        )
        return display if ax is False else display.plot(ax=ax)

    @classmethod
    def from_estimator(cls, estimator, X, y=None, **kwargs):
        """Transform ``X`` with a fitted transformer, then as :meth:`from_features`."""
        return cls.from_features(estimator.transform(X), y, **kwargs)

    def plot(self, ax=None, *, point_size=12):
        """Draw the map.

        Parameters
        ----------
        ax : matplotlib Axes or None
        point_size : float, default=12

        Returns
        -------
        self : EmbeddingDisplay
        """
        from sklearn.utils.multiclass import type_of_target

        figure, ax = axes_or_new(ax, "EmbeddingDisplay.plot", figsize=(6, 5))
        x0, x1 = self.embedding[:, 0], self.embedding[:, 1]
        if self.y is None:
            self.scatter_ = ax.scatter(x0, x1, s=point_size, color="tab:blue")
        elif self.continuous or (self.continuous is None and type_of_target(self.y).startswith("continuous")):
            self.scatter_ = ax.scatter(x0, x1, c=self.y, s=point_size, cmap="viridis")
            figure.colorbar(self.scatter_, ax=ax, label="target")
        else:
            classes = np.unique(self.y)
            cmap = _class_colours(len(classes))
            for i, label in enumerate(classes):
                mask = self.y == label
                ax.scatter(x0[mask], x1[mask], s=point_size, color=cmap(i), label=self._name(label))
            self.scatter_ = ax.collections[-1]
            ax.legend(
                fontsize=7, markerscale=1.5, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False
            )
        axis = "t-SNE" if self.method == "tsne" else "PC"
        ax.set_xlabel(f"{axis} 1")
        ax.set_ylabel(f"{axis} 2")
        ax.set_xticks([])
        ax.set_yticks([])
        if self.title:
            ax.set_title(self.title)
        n = len(self.embedding)
        count = f"{n} points" if self.n_total is None else f"{n} of {self.n_total} points (random subset)"
        self.count_text_ = ax.text(
            0.99,
            0.01,
            count,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=8,
            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1.5},
        )
        self.ax_, self.figure_ = ax, figure
        return self

    def _name(self, label):
        names = self.target_names
        if names is not None and np.issubdtype(type(label), np.integer) and 0 <= label < len(names):
            return str(names[label])
        return str(label)


def _class_colours(n):
    """A colour map whose integer entries 0..n-1 are distinct colours."""
    import matplotlib

    if n <= 10:
        return matplotlib.colormaps["tab10"]
    if n <= 20:
        return matplotlib.colormaps["tab20"]
    return matplotlib.colormaps["turbo"].resampled(n)
