"""A quiet progress line for solves that take longer than a second."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def progress(label: str, *, enabled: bool = True, delay: float = 1.0) -> Iterator[None]:
    """Show `label` with elapsed seconds on stderr once the block has run for `delay` seconds.

    On a terminal the line updates in place every half second; elsewhere (logs, CI) one line is
    printed when the delay passes, so fast solves stay silent.
    """
    if not enabled:
        yield
        return
    stream = sys.stderr
    interactive = stream.isatty()
    done = threading.Event()
    started = time.monotonic()
    shown = False

    def tick() -> None:
        nonlocal shown
        if done.wait(delay):
            return
        while True:
            elapsed = time.monotonic() - started
            if interactive:
                stream.write(f"\r{label}... {elapsed:4.0f}s")
            elif not shown:
                stream.write(f"{label}...\n")
            stream.flush()
            shown = True
            if not interactive or done.wait(0.5):
                return

    worker = threading.Thread(target=tick, daemon=True)
    worker.start()
    try:
        yield
    finally:
        done.set()
        worker.join()
        if shown and interactive:
            stream.write(f"\r{label}: done in {time.monotonic() - started:.1f}s\n")
            stream.flush()
