"""What progress lines share: how a duration is said, and who says how a long fit goes.

Imports nothing beyond the standard library (the lean install has no torch).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time

__all__ = ["LongCallLines", "format_duration", "long_fit_lines_off", "long_fit_lines_wanted", "still_running"]

_lines = threading.local()


def format_duration(seconds):
    """``seconds`` as a progress line says it.

    Examples
    --------
    >>> format_duration(4.25), format_duration(42.0), format_duration(130), format_duration(7260)
    ('4.2 s', '42 s', '2 min 10 s', '2 h 01 min')
    """
    if seconds < 60:
        return f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s"
    minutes, seconds = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


@contextlib.contextmanager
def long_fit_lines_off():
    """No lines from long neural fits at ``verbose=0`` in this thread, in the block.

    For callers that say how their work goes themselves (``compare`` has a line per
    split and its own heartbeat).

    Examples
    --------
    >>> with long_fit_lines_off():
    ...     long_fit_lines_wanted()
    False
    >>> long_fit_lines_wanted()
    True
    """
    previous = getattr(_lines, "off", False)
    _lines.off = True
    try:
        yield
    finally:
        _lines.off = previous


def long_fit_lines_wanted():
    """Whether a long fit at ``verbose=0`` in this thread says how it goes (:func:`long_fit_lines_off`)."""
    return not getattr(_lines, "off", False)


#: A long call at ``verbose=0`` says how it goes after this many seconds, then every LONG_CALL_SECONDS.
LONG_CALL_FIRST_SECONDS = 10.0
LONG_CALL_SECONDS = 30.0


class LongCallLines:
    """Lines on stderr for a long call at ``verbose=0``: after ``first`` seconds, then every ``every``.

    ``update(done)`` is called as the work advances (``done`` of ``total`` items);
    a call shorter than ``first`` seconds says nothing. With ``tick=True`` a daemon
    thread also says how far the work is when no update came for ``every`` seconds
    (work in few large chunks: a descriptor's ``batch_size=len(X)`` ran 50 s in one
    chunk without a word); ``close()`` stops it. Silenced where
    :func:`long_fit_lines_off` is on (a caller with lines of its own).

    Examples
    --------
    >>> lines = LongCallLines("GaborBank", 10_000, first=0.0)
    >>> lines.update(2_500)  # doctest: +SKIP
    GaborBank: 2,500 of 10,000 images, 0.0 s so far (about 0.0 s left)
    """

    #: Shortest wait of the ticking thread between two looks, in seconds.
    _TICK_SECONDS = 1.0

    def __init__(self, name, total, *, unit="images", first=None, every=None, tick=False):
        first = LONG_CALL_FIRST_SECONDS if first is None else first
        every = LONG_CALL_SECONDS if every is None else every
        self.name, self.total, self.unit = name, total, unit
        self.every = every
        self.started = time.perf_counter()
        self.said = self.started - (every - first)
        self.off = not long_fit_lines_wanted()
        self.done = 0
        self._lock = threading.Lock()
        self._stop = None
        if tick and not self.off:
            self._stop = threading.Event()
            threading.Thread(target=self._tick, name="skvision-long-call", daemon=True).start()

    def _tick(self):
        while True:
            with self._lock:
                wait = self.said + self.every - time.perf_counter()
            if self._stop.wait(max(wait, self._TICK_SECONDS)):
                return
            self._say(self.done)

    def update(self, done):
        self.done = done
        self._say(done)

    def _say(self, done):
        with self._lock:
            now = time.perf_counter()
            if self.off or done >= self.total or now - self.said < self.every:
                return
            self.said = now
            elapsed = now - self.started
            left = f" (about {format_duration(elapsed / done * (self.total - done))} left)" if done else ""
            so_far = format_duration(elapsed)
            print(
                f"{self.name}: {done:,} of {self.total:,} {self.unit}, {so_far} so far{left}",
                file=sys.stderr,
                flush=True,
            )

    def close(self):
        """Stop the ticking thread (if any)."""
        if self._stop is not None:
            self._stop.set()


@contextlib.contextmanager
def still_running(what, *, first=None, every=None):
    """Lines on stderr while a call that cannot count its progress runs long (``verbose=0``).

    For work without steps to count (a descriptor's ``fit``: k-means, ICA): a
    line after ``first`` seconds (:data:`LONG_CALL_FIRST_SECONDS`), then every
    ``every`` (:data:`LONG_CALL_SECONDS`), said by a daemon thread until the block
    ends; a shorter block says nothing. Silenced where :func:`long_fit_lines_off`
    is on in the calling thread.

    Examples
    --------
    >>> import time
    >>> with still_running("BagOfVisualWords: fit on 2,000 images", first=0.0):  # doctest: +SKIP
    ...     time.sleep(0.1)
    BagOfVisualWords: fit on 2,000 images, still running, 0.0 s so far
    """
    if not long_fit_lines_wanted():
        yield
        return
    first = LONG_CALL_FIRST_SECONDS if first is None else first
    every = LONG_CALL_SECONDS if every is None else every
    started = time.perf_counter()
    finished = threading.Event()

    def speak():
        wait = first
        while not finished.wait(wait):
            elapsed = format_duration(time.perf_counter() - started)
            print(f"{what}, still running, {elapsed} so far", file=sys.stderr, flush=True)
            wait = every

    speaker = threading.Thread(target=speak, name="skvision-still-running", daemon=True)
    speaker.start()
    try:
        yield
    finally:
        finished.set()
        speaker.join()
