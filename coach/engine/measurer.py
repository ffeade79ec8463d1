"""Per-stream measurement: observations and frames in, per-frame measures out.

One :class:`FaceMeasurer` per video stream, fed frame by frame (live or from a
file, the same way). It captures the neutral baseline, builds each frame's
face frame with a steady scale, measures landmarks and tissue motion, and says
plainly when a frame cannot be scored (no face, turned away, too small).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import cv2
import numpy as np

from coach.engine import landmarks as L
from coach.engine.face_frame import FaceFrame, eye_centers_px, eye_openings_px, face_frame, iris_diameters_px
from coach.engine.measures import landmark as lmm
from coach.engine.measures.direction import UP_AND_OUT, Direction
from coach.engine.measures.sides import PerSide
from coach.engine.motion.tissue import RIGID_LANDMARKS, SMILE_POINTS, TissueMotion, TrackPoint
from coach.engine.observation import FaceObservation

# Frame status values. Only "ok" frames carry movement numbers.
OK = "ok"
UNSURE = "unsure"  # the face is in view but its movement cannot be trusted (``reason`` says why)
NO_FACE = "no_face"
TURNED = "turned"
TOO_SMALL = "too_small"
CALIBRATING = "calibrating"
BAD_LANDMARKS = "bad_landmarks"

MIN_PX_PER_MM = 0.45  # below this (face under ~60 px wide) movement is unmeasurable
# The scale comes from the irises (11.7 mm across). While the resting reference is taken,
# the two must agree within this share of the larger, and neither eye may be open less
# than OPEN_EYE_SHARE of the other; otherwise the scale comes from the more open eye's
# iris alone (a narrowed eye's iris reads small). On real clips of faces turned within
# about 15 degrees, half a second's median differs by 1.5-3.7 % (90th percentile), over
# 8 % in at most 2 % of half-seconds, and the less open eye is at least 0.74 of the other.
IRIS_AGREEMENT = 0.08
OPEN_EYE_SHARE = 0.6
BOTH_IRISES = "both"
FACING_YAW_DEG = 8.0  # the one-eye rule applies only to a face turned less than this


def scale_eye(iris_px: dict[str, float], opening_px: dict[str, float], yaw_deg: float = 0.0) -> str:
    """Which iris sets the scale: ``"both"``, or the more open eye's side when they disagree.

    A head turned more than ``FACING_YAW_DEG`` shows the far eye smaller and narrower by
    perspective, not because it closed: then the mean of both irises is the better scale
    for the middle of the face, and both are kept.

    Args:
        iris_px: each eye's iris diameter at rest, pixels.
        opening_px: each eye's opening (lid to lid) at rest, pixels.
        yaw_deg: the head's turn then, degrees.
    """
    if abs(yaw_deg) > FACING_YAW_DEG:
        return BOTH_IRISES
    agree = abs(iris_px["left"] - iris_px["right"]) <= IRIS_AGREEMENT * max(iris_px.values())
    open_alike = min(opening_px.values()) >= OPEN_EYE_SHARE * max(opening_px.values())
    if agree and open_alike:
        return BOTH_IRISES
    return max(L.SIDES, key=lambda s: opening_px[s])


def one_eye_scale_words(side: str) -> str:
    """What a patient is told when the scale came from one eye (``side``, anatomical)."""
    return (
        f"At the start your eyes did not look equally open, so the size scale was taken from your {side} eye "
        "alone. Keep both eyes softly open while the resting face is taken."
    )


# Frames whose tissue-motion confidence is below this are not scored, live or offline
# (see coach/engine/motion/trust.py for what the confidence means).
MIN_CONFIDENCE = 0.3


@dataclass(frozen=True)
class FrameMeasures:
    """Everything measured in one frame. Units in the names; sides anatomical.

    Attributes:
        t_s: frame time, seconds.
        status: ``"ok"`` or why the frame is not scored (see module constants).
        confidence: 0–1 trust in the movement numbers (0 when not measured): that of
            the least trustworthy tracked point, which the frame gate uses.
        point_confidence: point name → the same for that point's two sides alone.
        reason: for an ``"unsure"`` frame, why (``coach.engine.motion.trust``: ``"moving"``,
            ``"hidden"``, ``"light"``, ``"edge"``); otherwise None.
        movement_mm: point name → per side (outward, up) movement since the
            neutral baseline, from the pixels. Empty when not ``"ok"``.
        landmark_movement_mm: the same from landmarks alone (for comparison).
        eye_aperture_mm, brow_height_mm: landmark measures, per side.
        mouth_width_mm: landmark measure.
        eye_narrowing_pct: per side, how much the eye opening has closed since
            the baseline, from the eyelids' tissue motion, per cent of the resting
            opening (0 = as at rest, 100 = shut). Only when eyelids are tracked.
        blendshapes: paired MediaPipe blendshape scores.
        yaw_deg, pitch_deg, roll_deg: head pose.
        faces_seen: faces in the frame (the largest is measured).
        reference_t_s: when the neutral reference this frame is measured against was
            taken (the time of the newest frame in it); None before calibration.
    """

    t_s: float
    status: str
    confidence: float = 0.0
    point_confidence: dict[str, float] = field(default_factory=dict)
    reason: str | None = None
    movement_mm: dict[str, PerSide[tuple[float, float]]] = field(default_factory=dict)
    landmark_movement_mm: dict[str, PerSide[tuple[float, float]]] = field(default_factory=dict)
    eye_aperture_mm: PerSide[float] | None = None
    brow_height_mm: PerSide[float] | None = None
    mouth_width_mm: float | None = None
    eye_narrowing_pct: PerSide[float] | None = None
    blendshapes: dict[str, PerSide[float]] = field(default_factory=dict)
    yaw_deg: float = 0.0
    pitch_deg: float = 0.0
    roll_deg: float = 0.0
    faces_seen: int = 0
    reference_t_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status == OK

    def confidence_of(self, point: str) -> float:
        """The confidence of one measured point's two sides (the frame's when not known apart)."""
        return self.point_confidence.get(point, self.confidence)

    def along_mm(self, way: Direction = UP_AND_OUT, point: str = "mouth_corner") -> PerSide[float] | None:
        """A point's movement along ``way`` per side (a smile's corner: up and out), mm; ``None`` when not measured."""
        v = self.movement_mm.get(point)
        return None if v is None else PerSide(way.along(*v.left), way.along(*v.right))

    def excursion_mm(self, point: str = "mouth_corner", landmarks: bool = False) -> PerSide[float] | None:
        """Magnitude of a point's movement per side in any direction, mm; ``None`` when not measured."""
        src = self.landmark_movement_mm if landmarks else self.movement_mm
        if point not in src:
            return None
        v = src[point]
        return PerSide(float(np.hypot(*v.left)), float(np.hypot(*v.right)))


STEADY_REFERENCE_FRAMES = 15  # half a second at 30 fps
CHANGING_REFERENCE_FRAMES = 5


def reference_frames_for(measure: str) -> int:
    """How many resting frames to average into the reference image for an exercise's ``measure``.

    The reference's own noise (camera, compression) is in every measurement of the rep. For
    the mouth, brows and nose, 15 frames instead of 5: through VP8 on a swaying face the live
    reps' spread around ``analyze``'s fell by about a third, and the 3-D virtual patients'
    mean error went from 3.1 to 3.0 points (docs/real-faces.md, "Live agreement through the
    browser's codec"). Eye closure keeps 5: its measure is not validated (it reads the
    virtual patient's eyes closing 45 % and 90 % both as about 33 %), and the change was not
    measured there.
    """
    return CHANGING_REFERENCE_FRAMES if measure == "eye_closure" else STEADY_REFERENCE_FRAMES


class FaceMeasurer:
    """Turns a stream of (frame, observation) into :class:`FrameMeasures`.

    Args:
        points: tissue points to measure (default: the mouth corners).
        rigid_landmarks: where the head's own motion is read (see :class:`TissueMotion`).
        baseline_s: how long the neutral baseline is collected, seconds (0.1 to 5).
        history: frames whose landmarks are pooled for a new baseline (3 to 60).
        reference_frames: resting frames averaged into the reference image (1 to 30); see
            :func:`reference_frames_for`.
    """

    def __init__(
        self,
        points: tuple[TrackPoint, ...] = SMILE_POINTS,
        rigid_landmarks: tuple[int, ...] = RIGID_LANDMARKS,
        baseline_s: float = 0.5,
        history: int = 8,
        reference_frames: int = STEADY_REFERENCE_FRAMES,
    ) -> None:
        if not 0.1 <= baseline_s <= 5.0:
            raise ValueError(f"baseline_s must be 0.1 to 5, got {baseline_s}")
        if not 3 <= history <= 60:
            raise ValueError(f"history must be 3 to 60, got {history}")
        if not 1 <= reference_frames <= 30:
            raise ValueError(f"reference_frames must be 1 to 30, got {reference_frames}")
        self.points = points
        self.baseline_s = baseline_s
        self._motion = TissueMotion(points, rigid_landmarks=rigid_landmarks)
        self._tracked = np.array(sorted({tp.landmark for tp in points}))
        self._collect: list[tuple[float, FaceObservation, np.ndarray, float, float, dict, dict, float]] = []
        self._recent: deque[np.ndarray] = deque(maxlen=history)
        self._recent_frames: deque[tuple[np.ndarray, FaceFrame]] = deque(maxlen=reference_frames)
        self._eye_dist_mm: float | None = None
        self._base_mm: np.ndarray | None = None
        self._base_pitch = 0.0
        self._lost = True
        self.scale_from = BOTH_IRISES  # "both", or the side whose iris alone set the scale
        self._last_t: float | None = None
        self.reference_t_s: float | None = None  # when the reference in force was taken
        self.baselines = 0

    @property
    def calibrated(self) -> bool:
        return self._base_mm is not None

    @property
    def reference_pitch_deg(self) -> float:
        """Head pitch at the neutral baseline, degrees (0 before calibration)."""
        return self._base_pitch

    @property
    def baseline_mm(self) -> np.ndarray | None:
        """(478, 2) neutral landmarks in face mm, once calibrated."""
        return self._base_mm

    def resting_asymmetry(self) -> dict[str, float] | None:
        """Left-minus-right differences of the neutral face, mm (see :func:`lmm.resting_asymmetry`)."""
        return None if self._base_mm is None else lmm.resting_asymmetry(self._base_mm)

    def _frame_of(self, obs: FaceObservation) -> FaceFrame:
        xy = obs.xy
        if self._eye_dist_mm is None:
            return face_frame(xy, obs.pose)
        eyes = eye_centers_px(xy)
        dist_px = float(np.linalg.norm(eyes["left"] - eyes["right"]))
        return face_frame(xy, obs.pose, px_per_mm=dist_px / self._eye_dist_mm)

    def update(self, frame_rgb: np.ndarray, obs: FaceObservation | None, t_s: float) -> FrameMeasures:
        """Measure one frame. ``obs`` is ``None`` when no face was found."""
        if obs is None:
            return self._unscored(t_s, NO_FACE)
        if not obs.finite:
            return self._unscored(t_s, BAD_LANDMARKS, obs.faces_seen)
        if not self._in_picture(obs.xy, np.shape(frame_rgb)):
            # A tracked point has no pixels to measure: for the patient that is
            # "we can't see your face", and its numbers must not be scored.
            return self._unscored(t_s, NO_FACE, obs.faces_seen)
        try:
            ff = self._frame_of(obs)
        except ValueError:
            return self._unscored(t_s, BAD_LANDMARKS, obs.faces_seen)
        pose = {"yaw_deg": ff.yaw_deg, "pitch_deg": ff.pitch_deg, "roll_deg": ff.roll_deg}
        if ff.px_per_mm < MIN_PX_PER_MM:
            return self._unscored(t_s, TOO_SMALL, obs.faces_seen, pose)
        if self._base_mm is not None and ff.turned_away(self._base_pitch):
            return self._unscored(t_s, TURNED, obs.faces_seen, pose)
        gray = cv2.cvtColor(np.asarray(frame_rgb), cv2.COLOR_RGB2GRAY)
        if self._base_mm is None:
            self._calibrate(gray, obs, ff, t_s)
            if self._base_mm is None:
                return FrameMeasures(t_s, CALIBRATING, faces_seen=obs.faces_seen, **pose)
            ff = self._frame_of(obs)
        lm_mm = ff.to_mm(obs.xy)
        self._last_t = t_s
        self._recent_frames.append((gray, ff))
        if self._lost:
            self._motion.forget_motion()
            self._lost = False
        self._recent.append(_with_depth(lm_mm, obs, ff))
        sample = self._motion.measure(gray, ff)
        lm_move: dict[str, dict[str, tuple[float, float]]] = {}
        for tp in self.points:
            d = lm_mm[tp.landmark] - self._base_mm[tp.landmark]
            lm_move.setdefault(tp.name, {})[tp.side] = lmm.outward_up(tp.side, d)
        landmark_movement = {k: PerSide(v["left"], v["right"]) for k, v in lm_move.items()}
        if sample.confidence < MIN_CONFIDENCE:
            # One gate for every caller (files, live sessions): a doubtful frame is
            # not scored, and says why. Its landmark measures stay (for display and
            # for telling whether the face looks at rest).
            return FrameMeasures(
                t_s,
                UNSURE,
                confidence=sample.confidence,
                reason=sample.trust.reason,
                landmark_movement_mm=landmark_movement,
                blendshapes=lmm.blendshape_pairs(obs.blendshapes),
                faces_seen=obs.faces_seen,
                reference_t_s=self.reference_t_s,
                **pose,
            )
        movement: dict[str, dict[str, tuple[float, float]]] = {}
        for (name, side), d in sample.displacement_mm.items():
            movement.setdefault(name, {})[side] = lmm.outward_up(side, d)
        narrowing = None
        if "upper_lid" in movement and "lower_lid" in movement:
            rest = lmm.eye_aperture_mm(self._base_mm)
            narrowing = PerSide(
                *(
                    float(
                        np.clip(
                            100.0 * (movement["lower_lid"][s][1] - movement["upper_lid"][s][1]) / max(rest[s], 1.0),
                            0.0,
                            100.0,
                        )
                    )
                    for s in ("left", "right")
                )
            )
        return FrameMeasures(
            t_s,
            OK,
            confidence=sample.confidence,
            point_confidence=dict(sample.point_confidence),
            movement_mm={k: PerSide(v["left"], v["right"]) for k, v in movement.items()},
            landmark_movement_mm=landmark_movement,
            eye_aperture_mm=lmm.eye_aperture_mm(lm_mm),
            brow_height_mm=lmm.brow_height_mm(lm_mm),
            mouth_width_mm=lmm.mouth_width_mm(lm_mm),
            eye_narrowing_pct=narrowing,
            blendshapes=lmm.blendshape_pairs(obs.blendshapes),
            faces_seen=obs.faces_seen,
            reference_t_s=self.reference_t_s,
            **pose,
        )

    def _in_picture(self, xy_px: np.ndarray, frame_shape: tuple[int, ...]) -> bool:
        """True when the tracked points are inside the frame and no landmark is absurdly far outside it.

        The tracker extrapolates landmarks a little past the edges (a cheek, an
        eye corner), which is fine; a tracked point outside has no pixels to measure.
        """
        if len(frame_shape) < 2:
            return False
        h, w = frame_shape[:2]
        p = xy_px[self._tracked]
        inside = (p[:, 0] >= 0) & (p[:, 0] < w) & (p[:, 1] >= 0) & (p[:, 1] < h)
        near = (np.abs(xy_px[:, 0] - w / 2) <= 1.5 * w) & (np.abs(xy_px[:, 1] - h / 2) <= 1.5 * h)
        return bool(inside.all() and near.all())

    def _unscored(self, t_s: float, status: str, faces: int = 0, pose: dict[str, float] | None = None) -> FrameMeasures:
        # Continuity is broken: flow, reference frames and a half-built baseline restart.
        self._lost = True
        self._motion.forget_motion()
        self._recent_frames.clear()
        self._collect.clear()
        return FrameMeasures(t_s, status, faces_seen=faces, **(pose or {}))

    def _calibrate(self, gray: np.ndarray, obs: FaceObservation, ff: FaceFrame, t_s: float) -> None:
        xy = obs.xy
        eyes = eye_centers_px(xy)
        eye_dist_px = float(np.linalg.norm(eyes["left"] - eyes["right"]))
        self._collect.append(
            (t_s, obs, gray, eye_dist_px, ff.pitch_deg, iris_diameters_px(xy), eye_openings_px(xy), ff.yaw_deg)
        )
        self._last_t = t_s
        if t_s - self._collect[0][0] < self.baseline_s or len(self._collect) < 3:
            return
        # The iris is small and jittery; the eye distance in iris units is a
        # constant of the face, so its median gives every later frame a steady scale.
        self._eye_dist_mm = self._eye_distance_mm()
        self._base_pitch = float(np.median([c[4] for c in self._collect]))
        steady = [(c[2], self._frame_of(c[1])) for c in self._collect]
        base = np.median(
            np.stack([_with_depth(f.to_mm(c[1].xy), c[1], f) for c, (_, f) in zip(self._collect, steady, strict=True)]),
            axis=0,
        )
        self._collect.clear()
        self._set_reference(steady[-self._recent_frames.maxlen :], base)

    def _eye_distance_mm(self) -> float:
        """The eye distance in mm over the frames collected, from both irises or the more open eye's.

        Sets :attr:`scale_from`.
        """
        iris = {s: float(np.median([c[5][s] for c in self._collect])) for s in L.SIDES}
        opening = {s: float(np.median([c[6][s] for c in self._collect])) for s in L.SIDES}
        yaw = float(np.median([c[7] for c in self._collect]))
        self.scale_from = scale_eye(iris, opening, yaw)
        if self.scale_from == BOTH_IRISES:
            ratios = [c[3] / (0.5 * (c[5]["left"] + c[5]["right"])) for c in self._collect]
        else:
            ratios = [c[3] / c[5][self.scale_from] for c in self._collect if c[5][self.scale_from] > 0]
        return float(np.median(ratios)) * L.IRIS_DIAMETER_MM

    def _set_reference(self, frames: list[tuple[np.ndarray, FaceFrame]], base_mm: np.ndarray) -> None:
        """``base_mm``: (478, 3) neutral landmarks, face mm, with depth (see :func:`_with_depth`)."""
        self._base_mm = base_mm[:, :2].copy()
        self._motion.set_reference(frames, self._base_mm, base_mm[:, 2])
        self._recent.clear()
        self._recent.append(base_mm)
        self._recent_frames.clear()
        self.reference_t_s = self._last_t
        self.baselines += 1

    def rebaseline(self) -> bool:
        """Take the current (resting) face as the new neutral reference.

        Call it when the patient is at rest between reps, so each rep is
        measured from the rest just before it and slow drift (posture,
        lighting) never builds up. Returns False when there is no usable frame.
        """
        if self._base_mm is None or not self._recent_frames or self._lost:
            return False
        base = np.median(np.stack(list(self._recent)), axis=0)
        self._set_reference(list(self._recent_frames), base)
        return True


def _with_depth(lm_mm: np.ndarray, obs: FaceObservation, ff: FaceFrame) -> np.ndarray:
    """(478, 3): face-mm landmarks (478, 2) with MediaPipe's depth in mm beside them.

    MediaPipe scales depth like x, so the frame's pixels per mm convert it too.
    """
    return np.column_stack([lm_mm, obs.landmarks_px[:, 2] / ff.px_per_mm])
