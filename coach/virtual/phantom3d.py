"""Virtual patients in 3-D: any real face photo, turned in depth, with known per-side movement.

A still photo is measured once with MediaPipe (478 landmarks with depth). Its
landmarks, plus rings of extra vertices around the face (hair, ears, neck),
are triangulated into a mesh that carries the photo as its texture. Tissue
movement (a mouth corner, a blink, lips parting over teeth) is applied to the
photo as a displacement field whose value at each anchor is the truth, and the
mesh vertices move by the same field. The head then turns in 3-D (yaw and pitch
about a pivot behind the eyes, seen through a pinhole camera), tilts, scales
and drifts; the picture outside the face margin follows the head's 2-D
similarity, so frames are full and have no holes.

Why: a phantom warped in the picture plane only (:mod:`coach.virtual.phantom`) cannot
teach a method anything about real heads, which turn in depth (DESIGN.md §4).

Conventions: sides are the patient's own; face millimetres have ``x`` toward
the patient's left and ``y`` up (:mod:`coach.engine.face_frame`); ``yaw_deg`` and
``pitch_deg`` have the signs of :func:`coach.engine.face_frame.pose_angles_deg`
(positive yaw turns the face toward the patient's left, the image's right in an
unmirrored picture; positive pitch tips the face down, chin toward the chest);
``roll_deg`` has the sign of :attr:`coach.engine.face_frame.FaceFrame.roll_deg`
(positive lowers the patient's left eye).

Limits: one photo holds no texture for what a turn reveals, so the steep sides
of the face are flattened (depth beyond 25 mm behind the eye corners is halved)
and MediaPipe reads about 0.75 × the yaw that was set; beyond about ±25° of yaw
the near cheek streaks. The teeth are approximated: where the parted lips open a
gap, drawn teeth fixed to the skull are painted (dark mouth instead when the photo
already shows teeth). The lid and lip fields move whatever lies over them
(glasses bend with a blink). Use frontal photos with some hair and neck around the face.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import numpy as np

from coach.engine import landmarks as L
from coach.engine.face_frame import FaceFrame, face_frame, iris_diameter_px
from coach.virtual.phantom import SIDES, Action, CameraNoise, Schedule, amplitudes_mm, built_symmetry_pct

PIVOT_DEPTH_MM = 90.0
CAMERA_DISTANCE_MM = 600.0
# Landmark of each anchor name :class:`coach.virtual.phantom.Action` accepts, per patient side.
ANCHOR_LANDMARKS: dict[str, dict[str, int]] = {
    "mouth_corner": L.MOUTH_CORNER,
    "upper_lid": L.EYE_UPPER_LID,
    "lower_lid": L.EYE_LOWER_LID,
    "mid_brow": L.MID_BROW,
    "nose_ala": L.NOSE_ALA,
}
# Rings of margin vertices: expansion of the face oval about its centre, and
# whether the ring turns with the head in 3-D or follows the 2-D similarity.
_MARGIN_RINGS: tuple[tuple[float, bool], ...] = ((1.3, True), (1.6, True), (2.3, False))
_N_MESH_LANDMARKS = 468  # the iris points sit on the eyeball, not the skin surface
_EYE_CORNERS = (33, 133, 362, 263)
_UPPER_LID = {
    "right": (33, 246, 161, 160, 159, 158, 157, 173, 133),
    "left": (362, 398, 384, 385, 386, 387, 388, 466, 263),
}
_LOWER_LID = {
    "right": (33, 7, 163, 144, 145, 153, 154, 155, 133),
    "left": (362, 382, 381, 380, 374, 373, 390, 249, 263),
}
# Inner lip contour, upper and lower, from the patient's right inner corner (78) to the left (308).
_UPPER_INNER_LIP = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
_LOWER_INNER_LIP = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
# Depth (behind the eye corners) beyond which the face's sides are flattened, and by how much.
_DEPTH_KNEE_MM = 25.0
_DEPTH_BEYOND_KNEE = 0.5
_FIXED_POINT_ITERS = 10
# Triangles whose texture is squeezed more than this (vs the background's scale) are not drawn.
_MAX_STRETCH = 8.0


# --- the face ------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FaceModel3D:
    """A face photo with its 3-D landmarks and a textured mesh.

    Build with :meth:`from_image` (runs MediaPipe once) or :meth:`from_landmarks`.
    Compared and hashed by identity (it holds arrays).

    Attributes:
        image: (H, W, 3) uint8 RGB, the photo (read-only).
        landmarks_px: (478, 3) float64 MediaPipe landmarks; x, y pixels, z pixels
            scaled like x (smaller is nearer the camera).
        pose: (4, 4) MediaPipe facial transformation matrix of the photo, or ``None``.
        frame: the photo's face frame (origin between the inner eye corners, mm from the iris).
        points_px: (478 + R, 3) float64 the mesh's vertices, pixels: the landmarks (their
            depth flattened beyond the front of the cheeks) followed by R margin vertices
            (rings around the face oval, at the depth of the face's rim).
        turns: (478 + R,) bool, False for margin vertices that follow the head's
            2-D similarity instead of turning in 3-D.
        triangles: (T, 3) int32 indices into ``points_px``, all wound the same way in
            the photo (positive cross product with y down); one wound the other way
            after turning faces away from the camera.
    """

    image: np.ndarray
    landmarks_px: np.ndarray
    pose: np.ndarray | None
    frame: FaceFrame
    points_px: np.ndarray
    turns: np.ndarray
    triangles: np.ndarray

    @property
    def px_per_mm(self) -> float:
        """Photo pixels per millimetre at the face (from the iris, 11.7 mm)."""
        return self.frame.px_per_mm

    @property
    def face_width_px(self) -> float:
        """Horizontal extent of the 468 mesh landmarks in the photo, pixels."""
        x = self.landmarks_px[:_N_MESH_LANDMARKS, 0]
        return float(x.max() - x.min())

    @property
    def eye_mid_px(self) -> np.ndarray:
        """(3,) midpoint of the four eye corners, photo pixels (z scaled like x)."""
        return self.landmarks_px[list(_EYE_CORNERS)].mean(axis=0)

    @classmethod
    def from_image(cls, rgb: np.ndarray, tracker_or_model: object | None = None) -> FaceModel3D:
        """Measure a still photo with MediaPipe and build its model.

        Args:
            rgb: (H, W, 3) uint8 RGB photo of one frontal face, unmirrored, with
                some margin (hair, neck) around it.
            tracker_or_model: a :class:`coach.engine.tracking.FaceTracker` to use, a
                :class:`coach.engine.model.ModelFile` to build one from, or ``None`` to
                resolve the model as the app does.

        Raises:
            ValueError: ``rgb`` is not an (H, W, 3) uint8 image, or no face is found in it.
        """
        from coach.engine.model import ModelFile
        from coach.engine.tracking import FaceTracker

        img = _check_rgb(rgb)
        if isinstance(tracker_or_model, FaceTracker):
            obs = tracker_or_model.update(img, 0.0)
        elif tracker_or_model is None or isinstance(tracker_or_model, ModelFile):
            with FaceTracker(tracker_or_model, max_faces=1) as tracker:
                obs = tracker.update(img, 0.0)
        else:
            raise TypeError(
                f"tracker_or_model must be a FaceTracker, a ModelFile or None, got {type(tracker_or_model).__name__}"
            )
        if obs is None:
            raise ValueError(
                f"no face found in the {img.shape[1]}×{img.shape[0]} photo: MediaPipe needs one "
                "frontal, well-lit face (at least about 60 px wide)"
            )
        return cls.from_landmarks(img, obs.landmarks_px, obs.pose)

    @classmethod
    def from_landmarks(cls, rgb: np.ndarray, landmarks_px: np.ndarray, pose: np.ndarray | None = None) -> FaceModel3D:
        """Build the model from landmarks already measured on ``rgb``.

        Args:
            rgb: (H, W, 3) uint8 RGB photo.
            landmarks_px: (478, 3) landmarks in pixels of ``rgb``, z scaled like x.
            pose: optional (4, 4) MediaPipe pose matrix of the photo.
        """
        img = _check_rgb(rgb)
        lm = np.array(landmarks_px, dtype=np.float64)
        if lm.shape != (L.N_LANDMARKS, 3) or not np.isfinite(lm).all():
            raise ValueError(f"landmarks_px: expected finite (478, 3), got {lm.shape}")
        frame = face_frame(lm, pose, iris_diameter_px(lm) / L.IRIS_DIAMETER_MM)
        points, turns = _with_margin(lm, frame.px_per_mm)
        triangles = _triangulate(points[:, :2], skip=range(_N_MESH_LANDMARKS, L.N_LANDMARKS))
        for a in (img, lm, points, turns, triangles):
            a.setflags(write=False)
        pose_arr = None if pose is None else np.asarray(pose, dtype=np.float64)
        return cls(img, lm, pose_arr, frame, points, turns, triangles)


def _check_rgb(rgb: np.ndarray) -> np.ndarray:
    img = np.asarray(rgb)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f"rgb: expected (H, W, 3) uint8, got {img.shape} {img.dtype}")
    return np.ascontiguousarray(img)


def _with_margin(lm: np.ndarray, px_per_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Landmarks plus rings of margin vertices; (478 + R, 3) points and (478 + R,) turns.

    Depth beyond the front of the cheeks is flattened: a frontal photo holds
    almost no texture of the steep sides of the face, and a true-depth mesh
    would stretch those few pixels into streaks as soon as the head turns.
    """
    lm = lm.copy()
    z_eye = lm[list(_EYE_CORNERS), 2].mean()
    knee = z_eye + _DEPTH_KNEE_MM * px_per_mm
    lm[:, 2] = np.where(lm[:, 2] > knee, knee + _DEPTH_BEYOND_KNEE * (lm[:, 2] - knee), lm[:, 2])
    oval = lm[list(L.FACE_OVAL)]
    centre = oval[:, :2].mean(axis=0)
    z_rim = float(oval[:, 2].max())
    rings, turns = [lm], [np.ones(len(lm), bool)]
    for i, (grow, turn) in enumerate(_MARGIN_RINGS):
        xy = centre + grow * (oval[:, :2] - centre)
        # The first ring leans back from the oval toward the rim depth, like a skull.
        z = np.full(len(oval), z_rim) if i else 0.5 * (oval[:, 2] + z_rim)
        rings.append(np.column_stack([xy, z]))
        turns.append(np.full(len(oval), turn))
    return np.concatenate(rings), np.concatenate(turns)


def _triangulate(xy: np.ndarray, skip: range) -> np.ndarray:
    """Delaunay triangles of the 2-D points, all with positive signed area; (T, 3) int32.

    Delaunay rather than MediaPipe's tessellation: it also closes the eyes and
    mouth, and mediapipe is imported by the tracking adapter only.
    """
    from scipy.spatial import Delaunay

    keep = np.setdiff1d(np.arange(len(xy)), np.asarray(skip))
    tri = keep[Delaunay(xy[keep]).simplices]
    area = _signed_area(xy, tri)
    tri[area < 0] = tri[area < 0][:, [0, 2, 1]]
    tri = tri[np.abs(area) > 1e-6]
    return tri.astype(np.int32)


def _max_stretch(m: np.ndarray) -> np.ndarray:
    """Largest singular value of each (2, 2) matrix in (T, 2, 2)."""
    a, b, c, d = m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1]
    sq = a * a + b * b + c * c + d * d
    det = a * d - b * c
    return np.sqrt(0.5 * (sq + np.sqrt(np.maximum(sq * sq - 4.0 * det * det, 0.0))))


def _signed_area(xy: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(T,) signed area of each triangle of (N, 2) points, px²; the sign gives the winding."""
    a, b, c = xy[tri[:, 0]], xy[tri[:, 1]], xy[tri[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


# --- the head ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeadPose:
    """The head at one instant: rotations in degrees, relative scale, shift in output pixels."""

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)


# Natural head motion of a seated person doing facial exercises:
# (what, amplitude, frequency Hz, nominal phase); shifts scale with the face width F.
_NATURAL_TERMS: tuple[tuple[str, float, float, float], ...] = (
    ("x", 0.03, 0.31, 0.0),
    ("x", 0.015, 0.83, 1.0),
    ("y", 0.02, 0.23, 2.0),
    ("y", 0.01, 0.67, 0.0),
    ("roll", 4.0, 0.19, 0.5),
    ("scale", 0.03, 0.41, 1.5),
    ("yaw", 1.0, 0.13, 0.7),
    ("pitch", 0.6, 0.17, 2.4),
)


@dataclass(frozen=True)
class HeadMotion3D:
    """Head pose over time.

    ``pose_at(t)`` = the constant pose, plus slow sinusoidal swings of yaw and
    pitch, plus ``natural`` × the natural-motion model: shift x = 0.03·F·(sin 2π·0.31t
    + 0.5·sin(2π·0.83t + 1)), shift y = 0.02·F·(sin(2π·0.23t + 2) + 0.5·sin 2π·0.67t),
    roll = 4°·sin(2π·0.19t + 0.5), scale = 1 + 0.03·sin(2π·0.41t + 1.5), with F the
    face width in output pixels, and ``natural_turn_deg`` of yaw (and 0.6 × that of
    pitch) at 0.13 and 0.17 Hz.

    Attributes:
        yaw_deg, pitch_deg, roll_deg: constant pose, degrees (module docstring for signs).
        scale: constant size factor (0.5 to 2).
        shift_px: constant shift of the face, output pixels (x right, y down).
        yaw_swing_deg, pitch_swing_deg: amplitude of a slow sinusoidal swing, degrees.
        yaw_period_s, pitch_period_s: period of those swings, seconds.
        natural: scale of the natural-motion model's shift, roll and scale (0 = none,
            1 = the amplitudes above; 0 to 5).
        natural_turn_deg: amplitude of the natural yaw wobble, degrees (pitch gets 0.6 of it);
            independent of ``natural``.
        phase_seed: ``None`` for the nominal phases above, or a seed for random phases.
    """

    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    scale: float = 1.0
    shift_px: tuple[float, float] = (0.0, 0.0)
    yaw_swing_deg: float = 0.0
    yaw_period_s: float = 8.0
    pitch_swing_deg: float = 0.0
    pitch_period_s: float = 11.0
    natural: float = 0.0
    natural_turn_deg: float = 0.0
    phase_seed: int | None = None

    def __post_init__(self) -> None:
        for name in ("yaw_deg", "pitch_deg", "roll_deg"):
            if not -60.0 <= getattr(self, name) <= 60.0:
                raise ValueError(f"{name} must be -60 to 60 degrees, got {getattr(self, name)}")
        for name in ("yaw_swing_deg", "pitch_swing_deg", "natural_turn_deg"):
            if not 0.0 <= getattr(self, name) <= 45.0:
                raise ValueError(f"{name} must be 0 to 45 degrees, got {getattr(self, name)}")
        for name in ("yaw_period_s", "pitch_period_s"):
            if not 0.5 <= getattr(self, name) <= 600.0:
                raise ValueError(f"{name} must be 0.5 to 600 s, got {getattr(self, name)}")
        if not 0.5 <= self.scale <= 2.0:
            raise ValueError(f"scale must be 0.5 to 2, got {self.scale}")
        if not 0.0 <= self.natural <= 5.0:
            raise ValueError(f"natural must be 0 to 5, got {self.natural}")

    def phases(self) -> tuple[float, ...]:
        """Phase of each natural-motion term, radians."""
        if self.phase_seed is None:
            return tuple(p for *_, p in _NATURAL_TERMS)
        rng = np.random.default_rng([self.phase_seed, 4211])
        return tuple(float(p) for p in rng.uniform(0.0, 2.0 * math.pi, len(_NATURAL_TERMS)))

    def pose_at(self, t_s: float, face_width_px: float) -> HeadPose:
        """The head pose at ``t_s`` for a face ``face_width_px`` wide in the output."""
        v = {"x": self.shift_px[0], "y": self.shift_px[1], "roll": self.roll_deg, "scale": self.scale}
        v["yaw"] = self.yaw_deg + self.yaw_swing_deg * math.sin(2.0 * math.pi * t_s / self.yaw_period_s)
        v["pitch"] = self.pitch_deg + self.pitch_swing_deg * math.sin(2.0 * math.pi * t_s / self.pitch_period_s)
        gain = {"x": self.natural * face_width_px, "y": self.natural * face_width_px}
        gain.update(roll=self.natural, scale=self.natural, yaw=self.natural_turn_deg, pitch=self.natural_turn_deg)
        for (what, amp, hz, _), phase in zip(_NATURAL_TERMS, self.phases(), strict=True):
            if gain[what]:
                v[what] += gain[what] * amp * math.sin(2.0 * math.pi * hz * t_s + phase)
        return HeadPose(v["yaw"], v["pitch"], v["roll"], v["scale"], (v["x"], v["y"]))


# --- the video -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phantom3DSpec:
    """A whole virtual-patient video made from one face photo.

    Attributes:
        face: the source face.
        actions: smooth tissue movements (Gaussian falloff), :class:`coach.virtual.phantom.Action`;
            e.g. ``Action("mouth_corner", "left", 4.0)`` (35° = outward and up),
            ``direction_deg=180`` pulls the corner toward the midline.
        blink: eyelid closure at full ``"eye"`` activation (0 open to 1 shut): the
            upper lid slides down over the eye, the lower lid stays.
        blink_sides: which eyes blink.
        teeth_mm: lips part by this much at full ``"main"`` activation (0 to 12 mm),
            showing drawn teeth; the mouth corners do not move with it.
        schedule: when ``"main"`` actions move (rise / hold / release).
        eye_schedule: when ``"eye"`` actions and the blink move; defaults to ``schedule``.
        duration_s: video length; defaults to the schedule's.
        head: head pose over time.
        face_width_px: face width in the output at scale 1, pixels (80 to 400).
        size_wh: output frame size, pixels.
        fps: frames per second.
        noise_sigma: camera noise, grey levels (0 to 20).
        light_gain: brightness change at full ``"main"`` activation (-0.5 to 0.5; 0.1 = 10 % brighter).
        light_gradient: left-right light gradient at full activation (-0.5 to 0.5;
            the image's right edge gets ``1 + light_gradient`` times the light, the left ``1 -``).
        blur_sigma_px: Gaussian blur of the frame (defocus), output pixels (0 to 5).
        camera_distance_mm: pinhole camera distance from the eyes, mm (150 to 5000),
            or ``None`` for scaled orthographic projection.
        pivot_depth_mm: how far behind the eye midpoint the head turns, mm (20 to 200).
        seed: noise seed; the same spec gives identical frames.
    """

    face: FaceModel3D
    actions: tuple[Action, ...] = ()
    blink: float = 0.0
    blink_sides: tuple[str, ...] = SIDES
    teeth_mm: float = 0.0
    schedule: Schedule = field(default_factory=Schedule)
    eye_schedule: Schedule | None = None
    duration_s: float | None = None
    head: HeadMotion3D = field(default_factory=HeadMotion3D)
    face_width_px: float = 200.0
    size_wh: tuple[int, int] = (640, 480)
    fps: float = 30.0
    noise_sigma: float = 2.0
    light_gain: float = 0.0
    light_gradient: float = 0.0
    blur_sigma_px: float = 0.0
    camera_distance_mm: float | None = CAMERA_DISTANCE_MM
    pivot_depth_mm: float = PIVOT_DEPTH_MM
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.face, FaceModel3D):
            raise TypeError(f"face must be a FaceModel3D, got {type(self.face).__name__}")
        if not 0.0 <= self.blink <= 1.0:
            raise ValueError(f"blink must be 0 to 1, got {self.blink}")
        if not set(self.blink_sides) <= set(SIDES):
            raise ValueError(f"blink_sides must name 'left' and/or 'right', got {self.blink_sides}")
        if not 0.0 <= self.teeth_mm <= 12.0:
            raise ValueError(f"teeth_mm must be 0 to 12, got {self.teeth_mm}")
        if not 80.0 <= self.face_width_px <= 400.0:
            raise ValueError(f"face_width_px must be 80 to 400, got {self.face_width_px}")
        w, h = self.size_wh
        if not (32 <= w <= 4096 and 32 <= h <= 4096):
            raise ValueError(f"size_wh must be within 32..4096 each, got {self.size_wh}")
        if not 1.0 <= self.fps <= 240.0:
            raise ValueError(f"fps must be 1 to 240, got {self.fps}")
        if not 0.0 <= self.noise_sigma <= 20.0:
            raise ValueError(f"noise_sigma must be 0 to 20, got {self.noise_sigma}")
        for name in ("light_gain", "light_gradient"):
            if not -0.5 <= getattr(self, name) <= 0.5:
                raise ValueError(f"{name} must be -0.5 to 0.5, got {getattr(self, name)}")
        if not 0.0 <= self.blur_sigma_px <= 5.0:
            raise ValueError(f"blur_sigma_px must be 0 to 5, got {self.blur_sigma_px}")
        if self.camera_distance_mm is not None and not 150.0 <= self.camera_distance_mm <= 5000.0:
            raise ValueError(f"camera_distance_mm must be 150 to 5000 or None, got {self.camera_distance_mm}")
        if not 20.0 <= self.pivot_depth_mm <= 200.0:
            raise ValueError(f"pivot_depth_mm must be 20 to 200, got {self.pivot_depth_mm}")
        if self.duration_s is not None and not 0.0 <= self.duration_s <= 3600.0:
            raise ValueError(f"duration_s must be 0 to 3600, got {self.duration_s}")

    @property
    def length_s(self) -> float:
        return self.schedule.duration_s if self.duration_s is None else self.duration_s

    @property
    def n_frames(self) -> int:
        return int(round(self.length_s * self.fps))

    def times_s(self) -> np.ndarray:
        """(n_frames,) frame timestamps, seconds."""
        return np.arange(self.n_frames) / self.fps

    def activation(self, channel: str, t_s: float) -> float:
        """Activation (0 to 1) of ``"main"`` or ``"eye"`` at ``t_s``."""
        if channel == "eye" and self.eye_schedule is not None:
            return self.eye_schedule.activation(t_s)
        return self.schedule.activation(t_s)

    def amplitude_mm(self, anchor: str = "mouth_corner") -> dict[str, float]:
        """Full-activation movement of ``anchor`` per side, mm."""
        return amplitudes_mm(self.actions, anchor)

    def truth_mm(self, t_s: float, anchor: str = "mouth_corner") -> dict[str, np.ndarray]:
        """True movement of ``anchor`` at ``t_s`` per side: (2,) face mm (x to the patient's left, y up).

        The whole smooth displacement field at the anchor (every action adds by
        its Gaussian weight there). Head pose does not enter: it is the tissue's
        movement on the face. The blink and the parting lips do not move the mouth corners.
        """
        anchors = _anchors_mm(self.face)
        out = {s: np.zeros(2) for s in SIDES}
        for side in SIDES:
            for a in self.actions:
                act = self.activation(a.channel, t_s)
                r = anchors[anchor][side] - anchors[a.anchor][a.side]
                w = math.exp(-float(r @ r) / (2.0 * a.sigma_mm**2))
                out[side] = out[side] + a.amplitude_mm * act * w * a.unit_face()
        return out

    def truth_symmetry_pct(self, affected: str | None = None) -> float | None:
        """Mouth-corner symmetry built in: weaker ÷ stronger × 100, or affected ÷ other × 100."""
        return built_symmetry_pct(self.amplitude_mm(), affected)

    def renderer(self) -> Phantom3DRenderer:
        return Phantom3DRenderer(self)

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """(t_s, (H, W, 3) uint8 RGB frame) for every frame."""
        return self.renderer().frames()


def smile_phantom_3d(face: FaceModel3D, left_mm: float, right_mm: float, **kwargs: object) -> Phantom3DSpec:
    """A gentle closed-lip smile with the given per-side mouth-corner movement, mm."""
    actions = tuple(Action("mouth_corner", side, amp) for side, amp in (("left", left_mm), ("right", right_mm)))
    return Phantom3DSpec(face=face, actions=actions, **kwargs)  # type: ignore[arg-type]


def _anchors_mm(face: FaceModel3D) -> dict[str, dict[str, np.ndarray]]:
    """Anchor positions in the photo's face frame, mm."""
    return {
        name: {s: face.frame.to_mm(face.landmarks_px[i, :2][None])[0] for s, i in idx.items()}
        for name, idx in ANCHOR_LANDMARKS.items()
    }


# --- tissue movement -----------------------------------------------------------------------------


def _gauss(d: np.ndarray, sigma: float) -> np.ndarray:
    return np.exp(d * d * np.float32(-0.5 / (sigma * sigma)))


class _Lid:
    """One upper eyelid sliding down over the eye; displacement along face -y only.

    The lid skin above the margin stretches (within about ``sigma`` mm), the
    brow stays; below the lowered margin the eye and lower lid show, unmoved.
    """

    sigma = 5.0

    def __init__(self, up_mm: np.ndarray, low_mm: np.ndarray, closure: float) -> None:
        order = np.argsort(up_mm[:, 0])
        self.mx, self.my = up_mm[order, 0], up_mm[order, 1]
        order = np.argsort(low_mm[:, 0])
        self.lx, self.ly = low_mm[order, 0], low_mm[order, 1]
        self.closure = closure

    def margin(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(margin y, closing distance) at face x, mm."""
        m = np.interp(x, self.mx, self.my)
        drop = self.closure * np.clip(m - np.interp(x, self.lx, self.ly), 0.0, None)
        return m, drop

    def forward(self, xy: np.ndarray, above: np.ndarray) -> np.ndarray:
        m, drop = self.margin(xy[:, 0])
        out = xy.copy()
        out[:, 1] -= np.where(above, drop * _gauss(np.clip(xy[:, 1] - m, 0.0, None), self.sigma), 0.0)
        return out

    def inverse(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        m, drop = self.margin(x)
        m, drop = m.astype(np.float32), drop.astype(np.float32)
        # Solve s − drop·g(s) = y − m for s ≥ 0 (s: height above the margin in the photo).
        # The left side only grows (slope ≥ 1), so Newton from above is safe even
        # where the skin stretches too fast for a fixed-point iteration.
        u = y - m
        s = np.maximum(u + drop, 0.0)
        k = np.float32(1.0 / (self.sigma * self.sigma))
        for _ in range(_FIXED_POINT_ITERS):
            g = _gauss(s, self.sigma)
            s = np.maximum(s - (s - drop * g - u) / (1.0 + drop * s * g * k), 0.0)
        return np.where(u >= -drop, m + s, y)


class _Lips:
    """Lips parting in a lens between the inner mouth corners.

    The gap shows drawn teeth when the photo's lips are closed; when the photo
    already shows teeth, the jaw's drop opens dark mouth between them instead.
    """

    def __init__(self, upper_mm: np.ndarray, lower_mm: np.ndarray, opening_mm: float) -> None:
        mid = 0.5 * (upper_mm + lower_mm)
        order = np.argsort(mid[:, 0])
        self.px, self.py = mid[order, 0], mid[order, 1]
        self.xc = 0.5 * (upper_mm[0, 0] + upper_mm[-1, 0])
        self.half_w = max(0.5 * abs(upper_mm[-1, 0] - upper_mm[0, 0]), 5.0)
        self.up, self.down = 0.4 * opening_mm, 0.6 * opening_mm
        self.sigma_up, self.sigma_down = 7.0, 12.0
        self.photo_open = float(np.mean(upper_mm[:, 1] - lower_mm[:, 1])) > 1.5

    def _line(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(lip line y, lens weight 0..1) at face x."""
        u = (x - self.xc) / self.half_w
        return np.interp(x, self.px, self.py), np.clip(1.0 - u * u, 0.0, None)

    def forward(self, xy: np.ndarray, upper: np.ndarray, lower: np.ndarray) -> np.ndarray:
        line, lens = self._line(xy[:, 0])
        dy = xy[:, 1] - line
        is_up = upper | ((dy >= 0) & ~lower)
        out = xy.copy()
        out[:, 1] += np.where(
            is_up,
            self.up * lens * _gauss(np.clip(dy, 0.0, None), self.sigma_up),
            -self.down * lens * _gauss(np.clip(-dy, 0.0, None), self.sigma_down),
        )
        return out

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(source y, gap mask) for output face coordinates."""
        line, lens = self._line(x)
        line, lens = line.astype(np.float32), lens.astype(np.float32)
        yu, yl = y.copy(), y.copy()
        for _ in range(_FIXED_POINT_ITERS):
            yu = y - self.up * lens * _gauss(np.maximum(yu - line, 0.0), self.sigma_up)
            yl = y + self.down * lens * _gauss(np.maximum(line - yl, 0.0), self.sigma_down)
        ok_up, ok_low = yu >= line, yl < line
        return np.where(ok_up, yu, np.where(ok_low, yl, y)), ~ok_up & ~ok_low

    def teeth_rgb(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """(n, 3) float32 colour of the gap at face mm (x, y): drawn teeth fixed to the skull."""
        line, _ = self._line(x)
        u = np.abs(x - self.xc)
        shade = np.clip(1.0 - 0.6 * (u / (self.half_w * 1.15)) ** 2, 0.25, 1.0)
        dark = np.array([62.0, 30.0, 36.0], np.float32) * shade[:, None]
        if self.photo_open:
            return dark.astype(np.float32)
        edge = line - 1.2 + 0.006 * u * u  # incisal edge, rising along the smile arc
        # Apparent tooth widths shrink along the arch: centrals, laterals, canines, premolars.
        bounds = np.cumsum([0.0, 8.5, 6.5, 5.5, 4.5, 4.0, 4.0, 4.0])
        gap = np.min(np.abs(u[:, None] - bounds[None, :]), axis=1)
        seam = 1.0 - 0.35 * np.exp(-(gap * gap) / 0.18)
        enamel = np.array([236.0, 229.0, 212.0], np.float32)
        upper = enamel * (seam * shade * np.clip(1.0 - 0.02 * (y - edge), 0.8, 1.0))[:, None]
        gum = np.array([196.0, 112.0, 118.0], np.float32) * shade[:, None]
        lower = 0.72 * enamel * (seam * shade)[:, None]
        out = np.where((y > edge + 9.5)[:, None], gum, upper)
        out = np.where((y < edge)[:, None], dark, out)
        out = np.where((y < edge - 2.5)[:, None], lower, out)
        return out.astype(np.float32)


@dataclass
class _Deformation:
    """Tissue movement at one instant, in the working image's face millimetres."""

    smooth: list[tuple[np.ndarray, np.ndarray, float]]  # (anchor (2,), displacement (2,), sigma), mm
    lids: list[tuple[str, _Lid]]
    lips: _Lips | None

    @property
    def still(self) -> bool:
        return not self.smooth and not self.lids and self.lips is None

    def smooth_forward(self, xy: np.ndarray) -> np.ndarray:
        out = xy.copy()
        for a, d, s in self.smooth:
            w = _gauss(np.linalg.norm(xy - a, axis=1), s)
            out += w[:, None] * d
        return out

    def forward(self, xy: np.ndarray, roles: dict[str, np.ndarray]) -> np.ndarray:
        """Where the tissue at (n, 2) face-mm points moves to; roles name lid and lip points."""
        out = self.smooth_forward(xy)
        for side, lid in self.lids:
            out = lid.forward(out, roles[f"upper_lid_{side}"])
        if self.lips is not None:
            out = self.lips.forward(out, roles["upper_lip"], roles["lower_lip"])
        return out

    def inverse(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Source face-mm coordinates of output face-mm coordinates, and the teeth gap mask."""
        gap = None
        if self.lips is not None:
            y, gap = self.lips.inverse(x, y)
        for _, lid in self.lids:
            y = lid.inverse(x, y)
        if self.smooth:
            x0, y0 = x, y
            # Contraction bound of x ← y − d(x): enough iterations for 1 µm.
            lip = sum(float(np.linalg.norm(d)) / s * 0.61 for _, d, s in self.smooth)
            amp = sum(float(np.linalg.norm(d)) for _, d, _ in self.smooth)
            n = int(np.clip(np.ceil(math.log(1e-3 / amp) / math.log(min(lip, 0.95))), 2, 60)) if amp > 1e-3 else 1
            for _ in range(n):
                dx = np.zeros_like(x0)
                dy = np.zeros_like(y0)
                for a, d, s in self.smooth:
                    ex, ey = x - a[0], y - a[1]
                    w = np.exp((ex * ex + ey * ey) * np.float32(-0.5 / (s * s)))
                    dx += np.float32(d[0]) * w
                    dy += np.float32(d[1]) * w
                x, y = x0 - dx, y0 - dy
        return x, y, gap


# --- rendering -----------------------------------------------------------------------------------


class Phantom3DRenderer:
    """Renders the frames of a :class:`Phantom3DSpec`; keeps per-video caches."""

    def __init__(self, spec: Phantom3DSpec) -> None:
        import cv2

        self.spec = spec
        face = spec.face
        h0, w0 = face.image.shape[:2]
        # Work at the output's resolution: tissue edges (a lid, the lips) are cut
        # at the pixels of the output, and shrinking a large photo does not alias.
        k = min(4.0, 1.05 * spec.face_width_px / face.face_width_px)
        if abs(k - 1.0) > 0.1:
            size = (max(8, round(w0 * k)), max(8, round(h0 * k)))
            shrink = cv2.INTER_AREA if k < 1.0 else cv2.INTER_CUBIC
            self._src = cv2.resize(face.image, size, interpolation=shrink)
            kxy = np.array([size[0] / w0, size[1] / h0])
        else:
            self._src = face.image
            kxy = np.ones(2)
        self._k = kxy
        pts = face.points_px.copy()
        pts[:, :2] = (pts[:, :2] + 0.5) * kxy - 0.5
        pts[:, 2] *= kxy.mean()
        self._points = pts
        self._turns = face.turns
        self._ppm = face.px_per_mm * float(kxy.mean())
        self._origin = (face.frame.origin_px + 0.5) * kxy - 0.5
        self._x_axis = face.frame.x_axis
        self._y_axis = face.frame.y_axis
        eye = face.eye_mid_px
        self._eye_px = (eye[:2] + 0.5) * kxy - 0.5
        self._eye_z = float(eye[2] * kxy.mean())
        self._points_mm = self._to_face(pts[:, :2])
        self._roles = self._point_roles(len(pts))
        self._mesh_tris = face.triangles[face.turns[face.triangles].any(axis=1)]
        w, h = spec.size_wh
        self._grid = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
        self._out_ppm = spec.face_width_px / (face.face_width_px / face.px_per_mm)
        self._centre = np.array([w / 2.0, 0.40 * h])
        self._moved_cache: tuple[tuple[float, float], np.ndarray, np.ndarray, np.ndarray] | None = None
        self._noise_bank: CameraNoise | None = None

    # -- coordinates

    def _to_face(self, xy_px: np.ndarray) -> np.ndarray:
        d = np.asarray(xy_px, dtype=np.float64) - self._origin
        return np.stack([d @ self._x_axis, d @ self._y_axis], axis=-1) / self._ppm

    def _to_px(self, xy_mm: np.ndarray) -> np.ndarray:
        p = np.asarray(xy_mm, dtype=np.float64) * self._ppm
        return self._origin + p[..., :1] * self._x_axis + p[..., 1:2] * self._y_axis

    def _point_roles(self, n: int) -> dict[str, np.ndarray]:
        roles = {}
        for name, idx in (("upper_lip", _UPPER_INNER_LIP[1:-1]), ("lower_lip", _LOWER_INNER_LIP[1:-1])):
            roles[name] = np.zeros(n, bool)
            roles[name][list(idx)] = True
        for side in SIDES:
            above = np.zeros(n, bool)
            above[list(_UPPER_LID[side][1:-1])] = True
            roles[f"upper_lid_{side}"] = above
        return roles

    # -- tissue

    def deformation(self, t_s: float) -> _Deformation:
        """The tissue movement at ``t_s``, in the working image's face mm."""
        spec = self.spec
        anchors = {name: {s: self._points_mm[i] for s, i in idx.items()} for name, idx in ANCHOR_LANDMARKS.items()}
        smooth = []
        for a in spec.actions:
            amp = a.amplitude_mm * spec.activation(a.channel, t_s)
            if amp > 1e-6:
                smooth.append((anchors[a.anchor][a.side], amp * a.unit_face(), a.sigma_mm))
        deform = _Deformation(smooth, [], None)
        moved = deform.smooth_forward(self._points_mm) if smooth else self._points_mm
        closure = spec.blink * spec.activation("eye", t_s)
        if closure > 1e-6:
            for side in spec.blink_sides:
                up, low = moved[list(_UPPER_LID[side])], moved[list(_LOWER_LID[side])]
                deform.lids.append((side, _Lid(up, low, closure)))
        opening = spec.teeth_mm * spec.activation("main", t_s)
        if opening > 1e-6:
            deform.lips = _Lips(moved[list(_UPPER_INNER_LIP)], moved[list(_LOWER_INNER_LIP)], opening)
        return deform

    def _moved(self, t_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(moved working image, moved points (N, 3) working px, moved mesh points (N, 3))."""
        spec = self.spec
        key = (round(spec.activation("main", t_s), 9), round(spec.activation("eye", t_s), 9))
        if self._moved_cache is not None and self._moved_cache[0] == key:
            return self._moved_cache[1:]
        deform = self.deformation(t_s)
        if deform.still:
            out = (self._src, self._points, self._points)
        else:
            img = self._warp_tissue(deform)
            pts = self._points.copy()
            pts[:, :2] = self._to_px(deform.forward(self._points_mm, self._roles))
            carrier = pts
            if deform.lids:
                # A fully shut lid would collapse the eye's triangles; the carrier
                # mesh stops just short (its texture still shows the lid shut).
                for _, lid in deform.lids:
                    lid.closure = min(lid.closure, 0.95)
                carrier = self._points.copy()
                carrier[:, :2] = self._to_px(deform.forward(self._points_mm, self._roles))
            out = (img, pts, carrier)
        self._moved_cache = (key, *out)
        return out

    def _warp_tissue(self, deform: _Deformation) -> np.ndarray:
        """The working image with the tissue moved (inverse warp, one resampling)."""
        import cv2

        boxes = []
        for a, d, s in deform.smooth:
            r = float(np.linalg.norm(d)) + 4.5 * s
            boxes.append((a - r, a + r))
        for _, lid in deform.lids:
            lo = np.array([lid.mx.min(), min(lid.ly.min(), lid.my.min())]) - 2.0
            hi = np.array([lid.mx.max(), lid.my.max() + 4.0 * lid.sigma])
            boxes.append((lo, hi))
        if deform.lips is not None:
            lp = deform.lips
            lo = np.array([lp.xc - lp.half_w, lp.py.min() - 4.0 * lp.sigma_down])
            hi = np.array([lp.xc + lp.half_w, lp.py.max() + 4.0 * lp.sigma_up])
            boxes.append((lo, hi))
        corners = np.concatenate([[[a[0], a[1]], [a[0], b[1]], [b[0], a[1]], [b[0], b[1]]] for a, b in boxes])
        px = self._to_px(corners)
        sh, sw = self._src.shape[:2]
        x0, y0 = (max(0, int(v) - 2) for v in px.min(axis=0))
        x1, y1 = min(sw, int(px[:, 0].max()) + 3), min(sh, int(px[:, 1].max()) + 3)
        out = self._src.copy()
        if x1 <= x0 or y1 <= y0:
            return out
        ux, uy = (self._x_axis / self._ppm).astype(np.float32), (self._y_axis / self._ppm).astype(np.float32)
        dx = np.arange(x0, x1, dtype=np.float32)[None, :] - np.float32(self._origin[0])
        dy = np.arange(y0, y1, dtype=np.float32)[:, None] - np.float32(self._origin[1])
        fx, fy = dx * ux[0] + dy * ux[1], dx * uy[0] + dy * uy[1]  # face mm, (h, w) each
        sx, sy, gap = deform.inverse(fx, fy)
        ox, oy = np.float32(self._origin[0]), np.float32(self._origin[1])
        ppm = np.float32(self._ppm)
        # Face mm → working pixels (x_axis, y_axis orthonormal, so the inverse is the transpose).
        map_x = ox + ppm * (sx * np.float32(self._x_axis[0]) + sy * np.float32(self._y_axis[0]))
        map_y = oy + ppm * (sx * np.float32(self._x_axis[1]) + sy * np.float32(self._y_axis[1]))
        win = cv2.remap(self._src, map_x, map_y, interpolation=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        if gap is not None and gap.any():
            alpha = cv2.GaussianBlur(gap.astype(np.float32), (0, 0), 0.6)
            sel = alpha > 1e-3
            teeth = deform.lips.teeth_rgb(fx[sel], fy[sel])
            a = alpha[sel][:, None]
            win[sel] = np.clip(a * teeth + (1.0 - a) * win[sel] + 0.5, 0, 255).astype(np.uint8)
        out[y0:y1, x0:x1] = win
        return out

    # -- head

    def pose_at(self, t_s: float) -> HeadPose:
        return self.spec.head.pose_at(t_s, self.spec.face_width_px)

    def _similarity(self, pose: HeadPose) -> tuple[np.ndarray, np.ndarray]:
        """(2×2 matrix, (2,) offset): the working image's face-aligned mm → output pixels."""
        a = math.radians(pose.roll_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        # Columns: the face's right-pointing and down-pointing axes in the image.
        axes = np.column_stack([self._x_axis, -self._y_axis])
        m = self._out_ppm * pose.scale * rot @ axes
        return m, self._centre + np.asarray(pose.shift_px)

    def project(self, points_px: np.ndarray, turns: np.ndarray, pose: HeadPose) -> tuple[np.ndarray, np.ndarray]:
        """Working-image points (N, 3) → output pixels (N, 2) and depth (N,) mm (larger is farther).

        Points that turn are unprojected through the camera, rotated about the
        pivot and projected again; at zero yaw and pitch this is exactly the 2-D
        similarity every other point follows.
        """
        spec = self.spec
        d = points_px[:, :2] - self._eye_px
        a0 = (d @ self._x_axis) / self._ppm
        b0 = -(d @ self._y_axis) / self._ppm
        z = (points_px[:, 2] - self._eye_z) / self._ppm
        dist = spec.camera_distance_mm
        grow = 1.0 if dist is None else (dist + z) / dist
        a, b = a0 * grow, b0 * grow
        yaw, pitch = -math.radians(pose.yaw_deg), math.radians(pose.pitch_deg)
        cy, sy, cp, sp = math.cos(yaw), math.sin(yaw), math.cos(pitch), math.sin(pitch)
        zc = z - spec.pivot_depth_mm
        # R = R_yaw @ R_pitch in camera axes: x right, y down, z away from the camera.
        b1 = cp * b - sp * zc
        z1 = sp * b + cp * zc
        a1 = cy * a + sy * z1
        z2 = -sy * a + cy * z1 + spec.pivot_depth_mm
        shrink = 1.0 if dist is None else dist / np.maximum(dist + z2, 0.1 * dist)
        ab = np.where(turns[:, None], np.column_stack([a1 * shrink, b1 * shrink]), np.column_stack([a0, b0]))
        m, off = self._similarity(pose)
        return ab @ m.T + off, np.where(turns, z2, np.inf)

    # -- frames

    def landmarks_px(self, t_s: float) -> np.ndarray:
        """(478, 2) true positions of the moved landmarks in the output frame, pixels."""
        _, pts, _ = self._moved(t_s)
        xy, _ = self.project(pts[: L.N_LANDMARKS], self._turns[: L.N_LANDMARKS], self.pose_at(t_s))
        return xy

    def render(self, t_s: float) -> np.ndarray:
        """The clean frame at ``t_s`` (no light change, blur or noise), (H, W, 3) uint8."""
        import cv2

        img, _, carrier = self._moved(t_s)
        pose = self.pose_at(t_s)
        w, h = self.spec.size_wh
        q, depth = self.project(carrier, self._turns, pose)
        tri = self._mesh_tris
        area = _signed_area(q, tri)
        # The painter's algorithm: folded (back-facing) triangles first, only to
        # plug pinholes at the silhouette; then the margin, then the face, far to near.
        layer = np.where(area <= 1e-3, 0, np.where((tri < L.N_LANDMARKS).all(axis=1), 2, 1))
        order = np.lexsort((-np.mean(depth[tri], axis=1), layer))
        tri = tri[order[np.abs(area[order]) > 1e-3]]
        # Output pixel → source pixel, per triangle; id 0 is the background similarity.
        bg = self._background(pose)
        qs = np.concatenate([q[tri], np.ones((len(tri), 3, 1))], axis=2)  # (T, 3 vertices, 3)
        per_tri = np.linalg.solve(qs, carrier[tri][:, :, :2]).transpose(0, 2, 1)  # (T, 2, 3)
        # Rasterising touches pixels up to one pixel outside a triangle; a sliver seen
        # edge-on would fetch them from far away. Its neighbours cover it anyway.
        keep = _max_stretch(per_tri[:, :, :2]) <= _MAX_STRETCH * _max_stretch(bg[None, :, :2])[0]
        tri, per_tri = tri[keep], per_tri[keep]
        coef = np.concatenate([bg[None], per_tri])
        out = np.empty((h, w, 3), np.uint8)
        if len(tri):
            corners = q[tri].reshape(-1, 2)
            x0, y0 = np.clip(np.floor(corners.min(axis=0)).astype(int) - 1, 0, (w, h))
            x1, y1 = np.clip(np.ceil(corners.max(axis=0)).astype(int) + 2, 0, (w, h))
        if not len(tri) or x1 <= x0 or y1 <= y0:
            x0 = y0 = x1 = y1 = 0
        # Outside the mesh's box only the background similarity shows: warp just those strips.
        for sx0, sy0, sx1, sy1 in ((0, 0, w, y0), (0, y1, w, h), (0, y0, x0, y1), (x1, y0, w, y1)):
            if sx1 > sx0 and sy1 > sy0:
                shifted = bg.copy()
                shifted[:, 2] += bg[:, :2] @ (sx0, sy0)
                cv2.warpAffine(
                    img,
                    shifted,
                    (sx1 - sx0, sy1 - sy0),
                    dst=out[sy0:sy1, sx0:sx1],
                    flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                    borderMode=cv2.BORDER_REFLECT,
                )
        if x1 <= x0:
            return out
        ids = np.zeros((y1 - y0, x1 - x0), np.int32)
        polys = np.round((q[tri] - (x0, y0)) * 16.0).astype(np.int32)  # (T, 3, 2), 1/16 px
        for k, poly in enumerate(polys, start=1):
            cv2.fillConvexPoly(ids, poly, k, cv2.LINE_8, 4)
        c = np.ascontiguousarray(coef.reshape(-1, 6).T, dtype=np.float32)  # (6, T + 1)
        gx, gy = self._grid[0][y0:y1, x0:x1], self._grid[1][y0:y1, x0:x1]
        maps = []
        for r in (0, 3):
            m = np.take(c[r], ids, mode="clip")
            m *= gx
            tmp = np.take(c[r + 1], ids, mode="clip")
            tmp *= gy
            m += tmp
            m += np.take(c[r + 2], ids, mode="clip")
            maps.append(m)
        cv2.remap(
            img,
            maps[0],
            maps[1],
            interpolation=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_REFLECT,
            dst=out[y0:y1, x0:x1],
        )
        return out

    def _background(self, pose: HeadPose) -> np.ndarray:
        """2×3 affine: output pixels → working-image pixels for what follows the 2-D similarity."""
        m, off = self._similarity(pose)
        axes = np.column_stack([self._x_axis, -self._y_axis])
        bg = self._ppm * axes @ np.linalg.inv(m)
        return np.column_stack([bg, self._eye_px - bg @ off])

    def similarity_px(self, t_s: float) -> np.ndarray:
        """2×3 affine: photo pixels → output pixels of the head's 2-D part (roll, scale, shift) at ``t_s``.

        Exactly how the picture outside the face margin moves, and how everything
        moves when yaw and pitch are zero.
        """
        bg = self._background(self.pose_at(t_s))
        inv = np.linalg.inv(bg[:, :2])
        k = self._k
        # photo → working: (p + 0.5)·k − 0.5; working → output: inv·(p_w − t).
        lin = inv * k[None, :]
        return np.column_stack([lin, inv @ (0.5 * k - 0.5 - bg[:, 2])])

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as (H, W, 3) uint8 RGB, with light change, blur and noise."""
        import cv2

        spec = self.spec
        t = index / spec.fps
        img = self.render(t)
        act = spec.activation("main", t)
        if act > 0 and (spec.light_gain or spec.light_gradient):
            w = spec.size_wh[0]
            ramp = 1.0 + act * (spec.light_gain + spec.light_gradient * np.linspace(-1.0, 1.0, w, dtype=np.float32))
            img = np.clip(img.astype(np.float32) * ramp[None, :, None] + 0.5, 0, 255).astype(np.uint8)
        if spec.blur_sigma_px > 0:
            img = cv2.GaussianBlur(img, (0, 0), spec.blur_sigma_px)
        if spec.noise_sigma > 0:
            img = np.clip(img.astype(np.int16) + self._noise(index), 0, 255).astype(np.uint8)
        return img

    def _noise(self, index: int) -> np.ndarray:
        if self._noise_bank is None:
            self._noise_bank = CameraNoise(self.spec.size_wh, self.spec.noise_sigma, self.spec.seed)
        return self._noise_bank(index)

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """(t_s, frame) for every frame."""
        for i in range(self.spec.n_frames):
            yield i / self.spec.fps, self.frame(i)


def with_seed(spec: Phantom3DSpec, seed: int) -> Phantom3DSpec:
    """The same phantom with another noise seed."""
    return replace(spec, seed=seed)
