"""Virtual patients: videos of a real face with known per-side movement.

The face is the public-domain portrait of astronaut Eileen Collins shipped by
scikit-image (``skimage.data.astronaut()``). Movements are smooth displacement
fields centred on anatomical anchors (a mouth corner, an eyelid, a brow), so
the true movement of each anchor, in millimetres, is known exactly. The head
may roll, scale and drift, and the camera adds noise.

Used by the tests (ground truth) and by the app as its no-camera demo.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

# Anchors in the 512×512 source image, pixels. Measured with MediaPipe on the
# neutral portrait by scripts/calibrate_phantom.py; the phantom's truth does not
# depend on them being exact (they only say where movement is applied).
SOURCE_PX_PER_MM = 8.67 / 11.7  # horizontal iris diameter 8.67 px = 11.7 mm
SOURCE_ANCHORS_PX: dict[str, dict[str, tuple[float, float]]] = {
    "mouth_corner": {"right": (202.3, 139.2), "left": (244.5, 140.6)},
    "upper_lid": {"right": (202.6, 97.8), "left": (248.1, 100.2)},
    "lower_lid": {"right": (204.2, 104.2), "left": (245.9, 106.5)},
    "mid_brow": {"right": (197.5, 86.6), "left": (254.2, 89.6)},
    "nose_ala": {"right": (209.2, 124.9), "left": (238.9, 126.4)},
}
SOURCE_EYE_MID_PX = (225.15, 103.2)
SOURCE_FACE_WIDTH_PX = 89.5  # landmark extent, ear to ear

SIDES = ("left", "right")
_NOISE_BANK = 8
_NOISE_PAD = 32


@dataclass(frozen=True)
class Action:
    """One anchor moving on one side.

    Attributes:
        anchor: a key of :data:`SOURCE_ANCHORS_PX`.
        side: the patient's side, ``"left"`` or ``"right"``.
        amplitude_mm: movement of the anchor at full activation, mm.
        direction_deg: 0 = outward (away from the midline), 90 = up, -90 = down.
        sigma_mm: radius of the moving tissue (Gaussian), mm.
        channel: which activation drives it (``"main"`` or ``"eye"``).
    """

    anchor: str
    side: str
    amplitude_mm: float
    direction_deg: float = 35.0
    sigma_mm: float = 10.0
    channel: str = "main"

    def __post_init__(self) -> None:
        if self.anchor not in SOURCE_ANCHORS_PX:
            raise ValueError(f"anchor must be one of {sorted(SOURCE_ANCHORS_PX)}, got {self.anchor!r}")
        if self.side not in SIDES:
            raise ValueError(f"side must be 'left' or 'right', got {self.side!r}")
        if not 0.0 <= self.amplitude_mm <= 20.0:
            raise ValueError(f"amplitude_mm must be 0 to 20, got {self.amplitude_mm}")
        if not 1.0 <= self.sigma_mm <= 30.0:
            raise ValueError(f"sigma_mm must be 1 to 30, got {self.sigma_mm}")
        # Keeps the warp invertible (max stretch A/σ·e^-½ < 0.75): tissue never folds.
        if self.amplitude_mm > 1.2 * self.sigma_mm:
            raise ValueError(
                f"amplitude_mm must be at most 1.2 × sigma_mm ({1.2 * self.sigma_mm:g}), got {self.amplitude_mm}"
            )

    def unit_face(self) -> np.ndarray:
        """(2,) direction in face axes (x to the patient's left, y up)."""
        out = 1.0 if self.side == "left" else -1.0
        a = math.radians(self.direction_deg)
        return np.array([out * math.cos(a), math.sin(a)])


@dataclass(frozen=True)
class Schedule:
    """Rest, then reps of rise → hold → release → rest. Seconds."""

    lead_in_s: float = 1.5
    rise_s: float = 1.0
    hold_s: float = 2.0
    release_s: float = 1.0
    rest_s: float = 1.5
    reps: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.reps <= 100:
            raise ValueError(f"reps must be 0 to 100, got {self.reps}")
        for name in ("lead_in_s", "rise_s", "hold_s", "release_s", "rest_s"):
            if not 0.0 <= getattr(self, name) <= 600.0:
                raise ValueError(f"{name} must be 0 to 600 s, got {getattr(self, name)}")

    @property
    def period_s(self) -> float:
        return self.rise_s + self.hold_s + self.release_s + self.rest_s

    @property
    def duration_s(self) -> float:
        return self.lead_in_s + self.reps * self.period_s

    def rep_windows(self) -> list[tuple[float, float, float]]:
        """(start, hold start, end) of each rep, seconds."""
        out = []
        for i in range(self.reps):
            t0 = self.lead_in_s + i * self.period_s
            out.append((t0, t0 + self.rise_s, t0 + self.rise_s + self.hold_s + self.release_s))
        return out

    def activation(self, t_s: float) -> float:
        """0 at rest, 1 at the hold, smooth in between."""
        t = t_s - self.lead_in_s
        if t < 0 or self.reps == 0 or t >= self.reps * self.period_s:
            return 0.0
        u = t % self.period_s
        if u < self.rise_s:
            return _smoothstep(u / self.rise_s)
        u -= self.rise_s
        if u < self.hold_s:
            return 1.0
        u -= self.hold_s
        if u < self.release_s:
            return 1.0 - _smoothstep(u / self.release_s)
        return 0.0


@dataclass(frozen=True)
class Timeline:
    """Activation over time as trapezoids, for phantoms that follow a session plan.

    Attributes:
        ramps: ``(rise start, hold start, release start, rest start)`` seconds,
            each ramp smooth (smoothstep), in time order.
        level: activation at the hold (0 to 1), per ramp (default 1).
    """

    ramps: tuple[tuple[float, float, float, float], ...]
    levels: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        for r in self.ramps:
            if not (r[0] <= r[1] <= r[2] <= r[3]):
                raise ValueError(f"ramps must be (rise, hold, release, rest) in time order, got {r}")
        if self.levels and len(self.levels) != len(self.ramps):
            raise ValueError(f"levels must have one value per ramp ({len(self.ramps)}), got {len(self.levels)}")

    @classmethod
    def from_schedule(cls, s: Schedule) -> Timeline:
        return cls(tuple((t0, t1, t1 + s.hold_s, t2) for t0, t1, t2 in s.rep_windows()))

    def activation(self, t_s: float) -> float:
        for i, (a, b, c, d) in enumerate(self.ramps):
            if a <= t_s < d:
                level = self.levels[i] if self.levels else 1.0
                if t_s < b:
                    return level * _smoothstep((t_s - a) / (b - a))
                if t_s < c:
                    return level
                return level * (1.0 - _smoothstep((t_s - c) / (d - c)))
        return 0.0


def _smoothstep(x: float) -> float:
    x = min(1.0, max(0.0, x))
    return x * x * (3.0 - 2.0 * x)


@dataclass(frozen=True)
class HeadMotion:
    """Rigid head motion in the image plane.

    Attributes:
        roll_deg: constant tilt; positive tilts the patient's left eye down.
        roll_amp_deg: slow sway of the tilt around ``roll_deg``.
        scale_amp: relative size change (0.05 = ±5 %), as when leaning in.
        drift_px: slow wandering of the face centre, pixels.
        natural: amplitude of a person's natural, irregular sway (0 = none, 1 = the
            reference model below, 2 = twice as strong). At 1, with F the face
            width in pixels and t in seconds: shift x = 0.03·F·(sin 2π·0.31t +
            0.5·sin(2π·0.83t + 1)), y = 0.02·F·(sin(2π·0.23t + 2) + 0.5·sin 2π·0.67t),
            roll = 4°·sin(2π·0.19t + 0.5), scale = 1 + 0.03·sin(2π·0.41t + 1.5).
        natural_seed: 0 keeps those phases and frequencies; any other seed draws new
            phases and frequencies within ±25 % (another person, another day).
    """

    roll_deg: float = 0.0
    roll_amp_deg: float = 0.0
    scale_amp: float = 0.0
    drift_px: float = 0.0
    natural: float = 0.0
    natural_seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.natural <= 5.0:
            raise ValueError(f"natural must be 0 to 5, got {self.natural}")

    def _natural_terms(self) -> np.ndarray:
        """(8, 2) frequency (Hz) and phase (rad) of each term of the natural sway."""
        terms = np.array(
            [[0.31, 0.0], [0.83, 1.0], [0.23, 2.0], [0.67, 0.0], [0.19, 0.5], [0.41, 1.5]], dtype=np.float64
        )
        if self.natural_seed:
            rng = np.random.default_rng([self.natural_seed, 4241])
            terms[:, 0] *= rng.uniform(0.75, 1.25, len(terms))
            terms[:, 1] = rng.uniform(0.0, 2 * math.pi, len(terms))
        return terms

    def at(self, t_s: float, face_width_px: float = 200.0) -> tuple[float, float, tuple[float, float]]:
        """(roll_deg, scale factor, (dx, dy) px) at time ``t_s`` for a face ``face_width_px`` wide."""
        roll = self.roll_deg + self.roll_amp_deg * math.sin(2 * math.pi * t_s / 7.3)
        scale = 1.0 + self.scale_amp * math.sin(2 * math.pi * t_s / 5.1)
        dx = self.drift_px * math.sin(2 * math.pi * t_s / 6.7)
        dy = self.drift_px * 0.6 * (math.cos(2 * math.pi * t_s / 9.1) - 1.0)
        if self.natural > 0:
            (f1, p1), (f2, p2), (f3, p3), (f4, p4), (f5, p5), (f6, p6) = self._natural_terms()
            k, tau, fw = self.natural, 2 * math.pi * t_s, face_width_px
            dx += k * 0.03 * fw * (math.sin(tau * f1 + p1) + 0.5 * math.sin(tau * f2 + p2))
            dy += k * 0.02 * fw * (math.sin(tau * f3 + p3) + 0.5 * math.sin(tau * f4 + p4))
            roll += k * 4.0 * math.sin(tau * f5 + p5)
            scale *= 1.0 + k * 0.03 * math.sin(tau * f6 + p6)
        return roll, scale, (dx, dy)


@dataclass(frozen=True)
class PhantomSpec:
    """A whole virtual-patient video.

    Attributes:
        actions: what moves; by default nothing (use :func:`smile_phantom`).
        schedule: when it moves (activation channel ``"main"``).
        channels: named timelines; an action whose channel is named here follows
            it (this is how a phantom performs a whole session plan).
        duration_s: video length; defaults to the schedule's.
        eye_schedule: activation of ``"eye"`` actions; defaults to ``schedule``
            (synkinesis: the eye narrows with the smile).
        head: rigid head motion.
        face_width_px: face width in the output frame, pixels.
        size_wh: output frame size.
        fps: frames per second.
        noise_sigma: camera noise, grey levels (0 to 20).
        absent: (start_s, end_s) intervals when the face is out of the frame.
        mirrored: flip frames left-right, as a selfie camera shows them.
        light_amp: lighting that changes over time (0 to 0.5): overall gain
            ±light_amp and a left-right gradient of half that, as when a lamp
            or the daylight shifts.
        seed: noise seed; the same spec gives the same frames.
    """

    actions: tuple[Action, ...] = ()
    schedule: Schedule = field(default_factory=Schedule)
    eye_schedule: Schedule | None = None
    channels: tuple[tuple[str, Timeline], ...] = ()
    duration_s: float | None = None
    head: HeadMotion = field(default_factory=HeadMotion)
    face_width_px: float = 200.0
    size_wh: tuple[int, int] = (640, 480)
    fps: float = 30.0
    noise_sigma: float = 2.0
    absent: tuple[tuple[float, float], ...] = ()
    mirrored: bool = False
    light_amp: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not 40.0 <= self.face_width_px <= 1000.0:
            raise ValueError(f"face_width_px must be 40 to 1000, got {self.face_width_px}")
        if not 1.0 <= self.fps <= 240.0:
            raise ValueError(f"fps must be 1 to 240, got {self.fps}")
        if not 0.0 <= self.light_amp <= 0.5:
            raise ValueError(f"light_amp must be 0 to 0.5, got {self.light_amp}")
        if not 0.0 <= self.noise_sigma <= 20.0:
            raise ValueError(f"noise_sigma must be 0 to 20, got {self.noise_sigma}")
        w, h = self.size_wh
        if not (32 <= w <= 4096 and 32 <= h <= 4096):
            raise ValueError(f"size_wh must be within 32..4096 each, got {self.size_wh}")

    @property
    def n_frames(self) -> int:
        return int(round(self.length_s * self.fps))

    @property
    def length_s(self) -> float:
        return self.schedule.duration_s if self.duration_s is None else self.duration_s

    def times_s(self) -> np.ndarray:
        return np.arange(self.n_frames) / self.fps

    def activation(self, channel: str, t_s: float) -> float:
        for name, timeline in self.channels:
            if name == channel:
                return timeline.activation(t_s)
        if channel == "eye" and self.eye_schedule is not None:
            return self.eye_schedule.activation(t_s)
        return self.schedule.activation(t_s)

    def amplitude_mm(self, anchor: str = "mouth_corner") -> dict[str, float]:
        """Full-activation movement of ``anchor`` per side, mm."""
        return amplitudes_mm(self.actions, anchor)

    def truth_mm(self, t_s: float, anchor: str = "mouth_corner") -> dict[str, np.ndarray]:
        """True displacement of ``anchor`` at ``t_s`` per side, in face mm (x left, y up).

        The whole displacement field at the anchor: every action contributes
        by its Gaussian weight there (an upper-lid movement nudges the lower lid).
        """
        out = {s: np.zeros(2) for s in SIDES}
        for side in SIDES:
            at = np.array(SOURCE_ANCHORS_PX[anchor][side])
            for a in self.actions:
                act = self.activation(a.channel, t_s)
                if act == 0.0:
                    continue
                r_mm = np.linalg.norm(at - np.array(SOURCE_ANCHORS_PX[a.anchor][a.side])) / SOURCE_PX_PER_MM
                w = math.exp(-(r_mm * r_mm) / (2.0 * a.sigma_mm * a.sigma_mm))
                out[side] = out[side] + a.amplitude_mm * act * w * a.unit_face()
        return out

    def truth_symmetry_pct(self, affected: str | None = None) -> float | None:
        """Smile symmetry the phantom was built with (weaker ÷ stronger × 100)."""
        return built_symmetry_pct(self.amplitude_mm(), affected)

    def face_visible(self, t_s: float) -> bool:
        return not any(a <= t_s < b for a, b in self.absent)


def amplitudes_mm(actions: tuple[Action, ...], anchor: str = "mouth_corner") -> dict[str, float]:
    """Full-activation movement of ``anchor`` per side, mm, summed over ``actions``."""
    out = {s: 0.0 for s in SIDES}
    for a in actions:
        if a.anchor == anchor:
            out[a.side] += a.amplitude_mm
    return out


def built_symmetry_pct(amp: dict[str, float], affected: str | None = None) -> float | None:
    """Symmetry of per-side amplitudes: affected ÷ other × 100 with an affected side, else weaker ÷ stronger."""
    if affected in SIDES:
        other = "left" if affected == "right" else "right"
        return None if amp[other] == 0 else 100.0 * amp[affected] / amp[other]
    hi = max(amp.values())
    return None if hi == 0 else 100.0 * min(amp.values()) / hi


def smile_phantom(
    left_mm: float,
    right_mm: float,
    *,
    schedule: Schedule | None = None,
    **kwargs: object,
) -> PhantomSpec:
    """A gentle closed-lip smile with the given per-side corner movement."""
    actions = tuple(Action("mouth_corner", side, amp) for side, amp in (("left", left_mm), ("right", right_mm)))
    return PhantomSpec(actions=actions, schedule=schedule or Schedule(), **kwargs)  # type: ignore[arg-type]


@lru_cache(maxsize=1)
def source_image() -> np.ndarray:
    """The neutral portrait, (512, 512, 3) float32 RGB."""
    from skimage import data

    img = data.astronaut().astype(np.float32)
    img.setflags(write=False)
    return img


def _source_unit_px(action: Action) -> np.ndarray:
    """Direction of an action in source-image pixels (y down)."""
    u = action.unit_face()
    return np.array([u[0], -u[1]])


class CameraNoise:
    """Camera noise, frame by frame: seeded windows into a bank made once (int16, grey levels).

    Args:
        size_wh: frame size.
        sigma: noise standard deviation, grey levels.
        seed: the same seed gives the same noise for the same frame index.
    """

    def __init__(self, size_wh: tuple[int, int], sigma: float, seed: int) -> None:
        w, h = size_wh
        self.size_wh, self.seed = (w, h), seed
        rng = np.random.default_rng([seed, 7919])
        bank = rng.standard_normal((_NOISE_BANK, h + _NOISE_PAD, w + _NOISE_PAD, 3), dtype=np.float32)
        self._bank = np.rint(bank * np.float32(sigma)).astype(np.int16)

    def __call__(self, index: int) -> np.ndarray:
        """(H, W, 3) int16 noise for frame ``index``."""
        w, h = self.size_wh
        rng = np.random.default_rng([self.seed, index])
        k = int(rng.integers(_NOISE_BANK))
        dx, dy = (int(v) for v in rng.integers(_NOISE_PAD, size=2))
        return self._bank[k, dy : dy + h, dx : dx + w]


class PhantomRenderer:
    """Renders the frames of a :class:`PhantomSpec`."""

    def __init__(self, spec: PhantomSpec) -> None:
        self.spec = spec
        w, h = spec.size_wh
        self._src_u8 = np.clip(source_image() + 0.5, 0, 255).astype(np.uint8)
        self._background = np.full((h, w, 3), (196, 190, 200), np.uint8)
        self._noise_bank: CameraNoise | None = None

    def head_matrix(self, t_s: float) -> np.ndarray:
        """2×3 affine: source pixels → frame pixels at ``t_s``."""
        roll, scale, (dx, dy) = self.spec.head.at(t_s, self.spec.face_width_px)
        s = scale * self.spec.face_width_px / SOURCE_FACE_WIDTH_PX
        a = math.radians(roll)
        # Positive roll lowers the patient's left eye, which is on the image's right.
        c, si = math.cos(a) * s, math.sin(a) * s
        w, h = self.spec.size_wh
        cx, cy = SOURCE_EYE_MID_PX
        tx = w / 2.0 + dx - (c * cx - si * cy)
        ty = h * 0.40 + dy - (si * cx + c * cy)
        return np.array([[c, -si, tx], [si, c, ty]])

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as (H, W, 3) uint8 RGB."""
        import cv2

        spec = self.spec
        t = index / spec.fps
        w, h = spec.size_wh
        if not spec.face_visible(t):
            img = self._background.copy()
        else:
            moved = self._moved_source(t)
            img = cv2.warpAffine(
                moved,
                self.head_matrix(t),
                (w, h),
                flags=cv2.INTER_CUBIC,
                borderMode=cv2.BORDER_REFLECT,
            )
        if spec.light_amp > 0:
            img = self._light(img, t)
        if spec.noise_sigma > 0:
            out = np.clip(img.astype(np.int16) + self._noise(index), 0, 255).astype(np.uint8)
        else:
            out = img
        if spec.mirrored:
            out = np.ascontiguousarray(out[:, ::-1])
        return out

    def _light(self, img: np.ndarray, t_s: float) -> np.ndarray:
        a = self.spec.light_amp
        w = self.spec.size_wh[0]
        gain = 1.0 + a * math.sin(2 * math.pi * t_s / 4.3)
        tilt = 0.5 * a * math.sin(2 * math.pi * t_s / 6.1)
        ramp = (gain + tilt * np.linspace(-1.0, 1.0, w, dtype=np.float32))[None, :, None]
        return np.clip(img.astype(np.float32) * ramp + 0.5, 0, 255).astype(np.uint8)

    def _moved_source(self, t_s: float) -> np.ndarray:
        """The source portrait with every action applied at ``t_s``.

        Each target pixel y samples the source at x, where x + d(x) = y: the
        tissue at x moves by exactly d(x). Solved by fixed-point iteration,
        which converges because |∇d| < 1 for the amplitudes and radii allowed.
        """
        import cv2

        live = []
        for a in self.spec.actions:
            amp_px = a.amplitude_mm * self.spec.activation(a.channel, t_s) * SOURCE_PX_PER_MM
            if amp_px > 1e-6:
                anchor = np.array(SOURCE_ANCHORS_PX[a.anchor][a.side], dtype=np.float32)
                sigma_px = a.sigma_mm * SOURCE_PX_PER_MM
                live.append((anchor, (amp_px * _source_unit_px(a)).astype(np.float32), sigma_px))
        if not live:
            return self._src_u8
        out = self._src_u8.copy()
        sh, sw = out.shape[:2]
        for anchor, disp, sigma in live:
            r = int(np.ceil(np.linalg.norm(disp) + 4.5 * sigma))
            x0, y0 = max(0, int(anchor[0]) - r), max(0, int(anchor[1]) - r)
            x1, y1 = min(sw, int(anchor[0]) + r + 1), min(sh, int(anchor[1]) + r + 1)
            # Only actions that reach this window matter here.
            near = [(a, d, s2) for a, d, s2 in live if np.linalg.norm(a - anchor) < r + np.linalg.norm(d) + 4.5 * s2]
            gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
            x, y = gx.copy(), gy.copy()
            for _ in range(12):
                dx = np.zeros_like(gx)
                dy = np.zeros_like(gy)
                for a, d, s2 in near:
                    ex, ey = x - a[0], y - a[1]
                    w = np.exp((ex * ex + ey * ey) * np.float32(-0.5 / (s2 * s2)))
                    dx += d[0] * w
                    dy += d[1] * w
                x, y = gx - dx, gy - dy
            out[y0:y1, x0:x1] = cv2.remap(
                self._src_u8, x, y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
            )
        return out

    def _noise(self, index: int) -> np.ndarray:
        if self._noise_bank is None:
            self._noise_bank = CameraNoise(self.spec.size_wh, self.spec.noise_sigma, self.spec.seed)
        return self._noise_bank(index)

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """(t_s, frame) for every frame."""
        for i in range(self.spec.n_frames):
            yield i / self.spec.fps, self.frame(i)


def write_video(spec: PhantomSpec, path: str | Path, codec: str | None = None) -> Path:
    """Write the phantom as a video file.

    ``.y4m`` is raw I420 (what Chromium's fake camera plays); ``.mp4`` uses
    mp4v; anything else (``.avi``) MJPEG, as many webcams deliver.
    """
    import cv2

    path = Path(path)
    renderer = PhantomRenderer(spec)
    w, h = spec.size_wh
    if path.suffix.lower() == ".y4m":
        _write_y4m(renderer, path)
        return path
    fourcc = codec or ("mp4v" if path.suffix.lower() == ".mp4" else "MJPG")
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), spec.fps, (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write video {path} with codec {fourcc}")
    try:
        for _, frame in renderer.frames():
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path


def _write_y4m(renderer: PhantomRenderer, path: Path) -> None:
    """Raw YUV4MPEG2 (I420), the format Chromium's fake camera plays."""
    import cv2

    spec = renderer.spec
    w, h = spec.size_wh
    num, den = (int(round(spec.fps * 1000)), 1000)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{num}:{den} Ip A1:1 C420jpeg\n".encode())
        for _, frame in renderer.frames():
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())


def with_seed(spec: PhantomSpec, seed: int) -> PhantomSpec:
    """The same phantom with another noise seed."""
    return replace(spec, seed=seed)
