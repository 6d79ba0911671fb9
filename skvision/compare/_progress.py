"""What a comparison says while it runs: one line per feature set and split, on stderr.

:class:`Progress` prints, at ``verbose >= 1``, a line as each (feature set,
repeat, fold) finishes (its score, the mean so far, the time spent and an
estimate of the time left for that feature set; with workers, the split's own
time and the wait of the whole queue), a line per feature set, a forecast once
every feature set has queued its splits (:meth:`Progress.work_left`), and a
line per stage of the report; on a terminal a tqdm bar over every split sits
under the lines. A split the main process runs for long says so every
``heartbeat`` seconds (30) while nothing else was said: on large images one
split of a slow family takes minutes. Everything goes to ``sys.stderr``, so
that the table printed on stdout can be piped.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import threading
import time

from .._talk import format_duration as _duration

__all__ = ["Progress", "queue_eta", "split_label", "time_so_far"]

#: Seconds without a line after which a running split says so (``Progress(heartbeat=None)``).
HEARTBEAT_SECONDS = 30.0
#: A feature set's work left is said from this many seconds on (less is no news).
_FAMILY_LEFT_MIN_SECONDS = 10.0


def queue_eta(left, processes):
    """Seconds until the splits of ``left`` (``{feature set: [estimated seconds, ...]}``) are done.

    They share ``processes`` processes, none faster than the longest split.

    Examples
    --------
    >>> queue_eta({"gan": [400.0] * 4, "lbp": [1.0] * 4}, processes=2)
    802.0
    >>> queue_eta({"gan": [400.0], "lbp": [1.0] * 4}, processes=4), queue_eta({}, processes=2)
    (400.0, 0.0)
    """
    splits = [seconds for family in left.values() for seconds in family]
    if not splits:
        return 0.0
    return max(sum(splits) / max(1, processes), max(splits))


def _locked(method):
    """``method`` under the instance's lock: worker splits are reported from a listener thread."""

    @functools.wraps(method)
    def locked(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


def time_so_far(ran, estimate):
    """``'1 min 00 s so far'``, with ``' (about 40 s left)'`` when ``estimate`` says more is to come.

    >>> time_so_far(60.0, 100.0), time_so_far(12.0, None)
    ('1 min 00 s so far (about 40 s left)', '12 s so far')
    """
    text = f"{_duration(ran)} so far"
    if estimate is not None and estimate > ran:
        text += f" (about {_duration(estimate - ran)} left)"
    return text


def split_label(name, repeat, fold, n_repeats, n_folds):
    """How the lines name a split.

    >>> split_label("gabor", 0, 0, 1, 5), split_label("lbp", 1, 2, 3, 5)
    ('gabor: fold 1/5', 'lbp: fold 3/5 of repeat 2/3')
    """
    repeat_part = f" of repeat {repeat + 1}/{n_repeats}" if n_repeats > 1 else ""
    return f"{name}: fold {fold + 1}/{n_folds}{repeat_part}"


class Progress:
    """Progress lines of a comparison (see the module's docstring).

    Parameters
    ----------
    verbose : int
        0 says nothing; 1 and more print the lines.
    total : int
        Splits to run in all (every feature set's), for the bar.
    stream : file or None
        Where the lines go; ``None`` is ``sys.stderr`` at the time of each line.
    bar : bool or None
        Draw a tqdm bar; ``None`` draws one when ``stream`` is a terminal.
    heartbeat : float or None, default=None
        Seconds without a line after which a split still running (see
        :meth:`running`) says so; ``None``: ``HEARTBEAT_SECONDS`` (30).
    """

    def __init__(self, verbose=1, total=0, stream=None, bar=None, heartbeat=None):
        self.verbose = verbose
        self.stream = stream
        self.heartbeat = HEARTBEAT_SECONDS if heartbeat is None else heartbeat
        self._lock = threading.RLock()
        self._last_said = time.perf_counter()
        self._current = None  # what a heartbeat says: a function of no argument giving the line
        self._beating = None  # the heartbeat thread's stop event, once started
        self.started = time.perf_counter()
        self.done = 0
        self.total = total
        self._bar = None
        self._families = {}  # name -> its counts: splits of several feature sets can finish in turn
        self._family = None  # the feature set started last
        if verbose and total:
            isatty = getattr(self._stream, "isatty", lambda: False)
            if bar or (bar is None and isatty()):
                from tqdm.auto import tqdm

                self._bar = tqdm(
                    total=total, file=self._stream, unit="split", leave=False, dynamic_ncols=True
                )

    @property
    def _stream(self):
        return self.stream if self.stream is not None else sys.stderr

    @_locked
    def say(self, message):
        """Print ``message`` (above the bar when there is one)."""
        if not self.verbose:
            return
        self._last_said = time.perf_counter()
        if self._bar is not None:
            self._bar.write(message, file=self._stream)
        else:
            print(message, file=self._stream, flush=True)

    # ------------------------------------------------------------ feature sets
    @_locked
    def start(self, name, n_splits, n_done=0):
        """Feature set ``name`` starts: ``n_splits`` splits, ``n_done`` of them already stored."""
        self._family = {"name": name, "n": n_splits, "done": n_done, "scores": [], "started": None}
        self._families[name] = self._family
        if self._bar is not None:
            self._bar.set_description(name)

    @_locked
    def timing_starts(self):
        """The timed splits start (after the warm-up): the ETA counts from here."""
        if self._family is not None:
            self._family["started"] = time.perf_counter()

    @_locked
    def split_done(
        self,
        name,
        repeat,
        fold,
        n_repeats,
        n_folds,
        score,
        scoring,
        *,
        stored=False,
        workers=1,
        seconds=None,
        left_in_all=None,
        family_left=None,
    ):
        """One split finished (or was read back from the store, ``stored=True``).

        In one process a feature set's splits run one after another: the line says
        the time since its first and the time its others should take. With
        ``workers > 1`` the splits of every feature set share one queue, longest
        first, and a quick one may wait there for minutes: the line then says the
        split's own ``seconds`` and, once known, ``left_in_all``, the estimated
        time of everything still queued or running; before that, ``family_left``,
        the estimated work of this feature set's other splits.
        """
        family = self._families.get(name, self._family)
        family["done"] += 1
        family["scores"].append(score)
        self.done += 1
        if self._bar is not None:
            self._bar.update(1)
        mean = sum(family["scores"]) / len(family["scores"])
        where = split_label(name, repeat, fold, n_repeats, n_folds)
        line = f"{where}: {scoring} {score:.3f} (mean {mean:.3f})"
        if stored:
            line += "; stored by an earlier run"
        elif workers > 1 and seconds is not None:
            line += f"; {_duration(seconds)} this split"
            left = family["n"] - family["done"]
            if left_in_all:  # 0: nothing queued, or running splits already past their estimates
                line += f", about {_duration(left_in_all)} left in all"
            elif family_left and family_left >= _FAMILY_LEFT_MIN_SECONDS and left:
                others = f"{left} other splits" if left > 1 else "other split"
                line += f"; its {others}: about {_duration(family_left)} of work"
        else:
            elapsed = time.perf_counter() - (family["started"] or self.started)
            computed = family["done"] - family.get("resumed", 0)
            left = family["n"] - family["done"]
            eta = elapsed / max(computed, 1) * left / max(1, min(workers, left or 1))
            line += f"; {_duration(elapsed)} elapsed" + (f", about {_duration(eta)} left" if left else "")
        self.say(line)

    @contextlib.contextmanager
    def running(self, label, estimate=None):
        """The main process runs the split ``label`` (``'gabor: fold 1/5'``) in the block.

        While it runs, a line says so each ``heartbeat`` seconds in which nothing else was
        said, with the time it has run and, given its ``estimate`` (seconds), the time left.
        """
        started = time.perf_counter()

        def line():
            ran = time.perf_counter() - started
            return f"{label}: still running, {time_so_far(ran, estimate)}"

        with self.waiting(line):
            yield

    @contextlib.contextmanager
    def waiting(self, line):
        """In the block, ``line()`` is what each heartbeat says (see :meth:`running`)."""
        if not self.verbose:
            yield
            return
        with self._lock:
            previous, self._current = self._current, line
            if self._beating is None:
                self._beating = threading.Event()
                threading.Thread(target=self._beat, name="skvision-compare-heartbeat", daemon=True).start()
        try:
            yield
        finally:
            with self._lock:
                self._current = previous

    def _beat(self):
        stop = self._beating
        while not stop.wait(min(1.0, self.heartbeat / 4)):
            with self._lock:
                if self._current is not None and time.perf_counter() - self._last_said >= self.heartbeat:
                    text = self._current()
                    if text:
                        self.say(text)

    @_locked
    def work_left(self, left, processes, *, min_seconds=30.0):
        """Once every feature set has run a split: how long the queued ones should take, and whose.

        ``left`` maps each feature set to the estimated seconds of its queued and
        running splits (see ``SplitScheduler.work_left``); they are shared by
        ``processes`` processes, none faster than its longest split. Said only when
        the wait is at least ``min_seconds``: a quick comparison needs no forecast.

        Examples
        --------
        >>> import io
        >>> stream = io.StringIO()
        >>> Progress(stream=stream).work_left({"gan": [400.0] * 4, "lbp": [0.9] * 4}, processes=2)
        >>> forecast, whose = stream.getvalue().strip().split("; ")
        >>> forecast
        'every feature set has run a split: the 8 others take about 13 min 22 s more on 2 processes'
        >>> whose
        'most of it: gan (4 x 6 min 40 s)'
        """
        splits = [seconds for family in left.values() for seconds in family]
        if not splits:
            return
        eta = queue_eta(left, processes)
        if eta < min_seconds:
            return
        totals = sorted(left.items(), key=lambda item: -sum(item[1]))
        # The feature sets that make up most (90 %) of the wait, at most three.
        named, covered = [], 0.0
        for family, seconds in totals[:3]:
            if covered >= 0.9 * sum(splits):
                break
            named.append(f"{family} ({len(seconds)} x {_duration(max(seconds))})")
            covered += sum(seconds)
        where = f"on {processes} processes" if processes > 1 else "in one process"
        self.say(
            f"every feature set has run a split: the {len(splits)} others take about {_duration(eta)} "
            f"more {where}; most of it: {', '.join(named)}"
        )

    @_locked
    def resumed(self, n):
        """``n`` splits of the current feature set are read back from the store."""
        self._family["resumed"] = self._family.get("resumed", 0) + n

    @_locked
    def finished(self, result, scoring):
        """Feature set done: its mean score, width and fit time."""
        extra = f", {result.n_resumed} split(s) from an earlier run" if result.n_resumed else ""
        self.say(
            f"{result.name}: {scoring} {result.scores.mean():.3f} ± {result.scores.std():.3f}, "
            f"{result.n_features} dims, fit {result.fit_times.mean():.2f} s/fold{extra}"
        )

    @_locked
    def failed(self, name, why, n_left=0):
        """Feature set left out after an error; its remaining splits count as done for the bar."""
        if self._bar is not None and n_left:
            self._bar.update(n_left)
        self.done += n_left
        self.say(f"{name}: {why}")

    @_locked
    def stage(self, message):
        """A stage of the work after the splits (the report's figures, its HTML...)."""
        self.say(f"{message} ...")

    @_locked
    def close(self):
        if self._beating is not None:
            self._beating.set()
            self._beating = None
        if self._bar is not None:
            self._bar.close()
            self._bar = None
