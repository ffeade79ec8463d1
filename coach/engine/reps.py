"""Repetition detection: rise → hold → release, driven by time, not frames.

Like a line-crossing counter: hysteresis between an "on" and an "off" level,
debounced by durations measured from frame timestamps. A frame with no
measurement (face lost, head turned) still advances time: a short gap is
bridged; a long gap abandons the rep in progress rather than invent numbers.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

REST = "rest"
ACTIVE = "active"
# A movement has settled at a new rest when it stays below this share of its peak...
SETTLE_SHARE = 0.3
# ...and within this share of the "on" level (0.25 mm for the gentle smile) for ``settle_s``.
SETTLE_BAND = 0.25
# The levels a detector accepts, per unit of its signal: (lowest on, highest on, lowest off).
# Millimetres of movement, or per cent of the resting eye opening (eye closure).
LEVELS = {"mm": (0.2, 20.0, 0.05), "%": (2.0, 100.0, 1.0)}


@dataclass(frozen=True)
class RepWindow:
    """A detected repetition, seconds from the start of the video."""

    index: int
    start_s: float
    peak_s: float
    end_s: float
    peak_value: float
    settled: bool = False  # it ended by settling still away from the old rest, not by returning to it


class RepDetector:
    """Finds reps in a movement signal (mm, or % for eye closure).

    Args:
        on: a rep starts when the signal reaches this (0.2 to 20 mm; 2 to 100 %).
        off: ...and ends when it falls below this (0.05 mm or 1 % to below ``on``).
        unit: the signal's unit, ``"mm"`` or ``"%"``.
        min_active_s: shorter excursions are twitches, not reps (0 to 10).
        max_gap_s: longest stretch without a measurement that a rep survives (0 to 10).
        max_active_s: a movement that has not returned to rest after this long is not
            a repetition (talking, or a face that no longer matches its resting
            reference); it is dropped and counted in ``too_long`` (1 to 600).
        settle_s: a movement that has come most of the way back (below ``SETTLE_SHARE``
            of its peak) and then stays still (within ``SETTLE_BAND`` of ``on``) for this
            long has ended there: the face settled a little away from its old rest (a
            lasting sag, a corner that stays slightly up). It is counted, and
            ``settled`` says so, so that the caller can take the new rest as its
            reference when it is below ``on`` (0.3 to 10). Millimetre signals only (eye
            closure reopens in steps).
    """

    def __init__(
        self,
        on: float = 1.0,
        off: float = 0.5,
        min_active_s: float = 0.4,
        max_gap_s: float = 0.6,
        max_active_s: float = 20.0,
        unit: str = "mm",
        settle_s: float = 1.0,
    ) -> None:
        if unit not in LEVELS:
            raise ValueError(f"unit must be one of {', '.join(LEVELS)}, got {unit}")
        low, high, low_off = LEVELS[unit]
        if not low <= on <= high:
            raise ValueError(f"on must be {low:g} to {high:g} {unit}, got {on}")
        if not low_off <= off < on:
            raise ValueError(f"off must be {low_off:g} {unit} to below on ({on}), got {off}")
        if not 0.0 <= min_active_s <= 10.0:
            raise ValueError(f"min_active_s must be 0 to 10, got {min_active_s}")
        if not 0.0 <= max_gap_s <= 10.0:
            raise ValueError(f"max_gap_s must be 0 to 10, got {max_gap_s}")
        if not 1.0 <= max_active_s <= 600.0:
            raise ValueError(f"max_active_s must be 1 to 600, got {max_active_s}")
        if not 0.3 <= settle_s <= 10.0:
            raise ValueError(f"settle_s must be 0.3 to 10, got {settle_s}")
        self.settle_s = settle_s
        self.settled = 0
        self._recent: deque[tuple[float, float]] = deque()
        self.on, self.off, self.unit = on, off, unit
        self.max_active_s = max_active_s
        self.too_long = 0
        self.min_active_s, self.max_gap_s = min_active_s, max_gap_s
        self.state = REST
        self.count = 0
        self.abandoned = 0
        self._last_low_t: float | None = None
        self._last_seen_t: float | None = None
        self._start = self._peak_t = self._peak = 0.0
        self.rest_since: float | None = None

    def update(self, value: float | None, t_s: float) -> RepWindow | None:
        """Feed one frame's signal (``None`` when unmeasured). Returns a rep when one ends."""
        if value is None:
            if self.state == ACTIVE and self._last_seen_t is not None and t_s - self._last_seen_t > self.max_gap_s:
                self.state = REST
                self.abandoned += 1
                self.rest_since = None
            if self.state == REST:
                self.rest_since = None
            return None
        if self._last_seen_t is not None and t_s - self._last_seen_t > self.max_gap_s:
            # Too long unseen (no frames, or frames without a measurement): a rep
            # in progress is abandoned, and the rest before it no longer counts.
            self._last_low_t = None
            self.rest_since = None
            if self.state == ACTIVE:
                self.state = REST
                self.abandoned += 1
        self._last_seen_t = t_s
        if self.state == REST:
            # A rep must be seen from rest: after a gap (or at the very start) a
            # movement already under way is not counted, only the next one.
            if value >= self.on and self._last_low_t is not None:
                self.state = ACTIVE
                self._recent.clear()
                self._start = self._last_low_t
                self._peak, self._peak_t = value, t_s
                self.rest_since = None
            elif value < self.off:
                self._last_low_t = t_s
                if self.rest_since is None:
                    self.rest_since = t_s
            return None
        if value > self._peak:
            self._peak, self._peak_t = value, t_s
        if value >= self.off:
            window = self._settled_window(value, t_s) if self.unit == "mm" else None
            if window is not None:
                return window
            if t_s - self._start > self.max_active_s:
                # Never back to rest: not a repetition. Counting starts again at the next rest.
                self.too_long += 1
                self.cancel()
            return None
        self.state = REST
        self._last_low_t = t_s
        self.rest_since = t_s
        if t_s - self._start < self.min_active_s:
            return None
        self.count += 1
        return RepWindow(self.count, self._start, self._peak_t, t_s, self._peak)

    def _settled_window(self, value: float, t_s: float) -> RepWindow | None:
        """The rep, if the signal has settled still below ``SETTLE_SHARE`` of its peak (see ``settle_s``)."""
        self._recent.append((t_s, value))
        while self._recent and self._recent[0][0] < t_s - self.settle_s:
            self._recent.popleft()
        if value >= SETTLE_SHARE * self._peak or t_s - self._recent[0][0] < 0.9 * self.settle_s:
            return None
        values = [v for _, v in self._recent]
        if max(values) >= SETTLE_SHARE * self._peak or max(values) - min(values) > SETTLE_BAND * self.on:
            return None
        end = self._recent[0][0]
        if end - self._start < self.min_active_s:
            return None
        self.state = REST
        # Settled below the "on" level (a small lasting offset): a rest the next movement
        # may start from. Above it (a release that paused part-way, say) the next movement
        # waits for a true return to rest.
        self._last_low_t = t_s if value < self.on else None
        self.rest_since = t_s
        self._recent.clear()
        self.count += 1
        self.settled += 1
        return RepWindow(self.count, self._start, self._peak_t, end, self._peak, settled=True)

    def cancel(self) -> None:
        """Forget a movement under way without counting it (the signal's zero was renewed)."""
        self.state = REST
        self._last_low_t = None
        self.rest_since = None
        self._recent.clear()

    def in_rest_for(self, t_s: float) -> float:
        """Seconds the signal has been at rest (0 when active or unknown)."""
        if self.state != REST or self.rest_since is None:
            return 0.0
        return max(0.0, t_s - self.rest_since)
