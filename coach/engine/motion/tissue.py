"""Per-side tissue movement from the pixels: the fix for the landmark prior.

Landmarks say *where* the face is; they are poor witnesses of *how much* each
side moved, because the landmark model pulls both sides toward a symmetric face.
So this module measures movement from the pixels:

1. Each frame is warped into a face-aligned crop using its landmarks (coarse:
   removes roll, scale and translation up to landmark jitter).
2. Dense optical flow (OpenCV DIS) from the reference crop (neutral face) to
   the current crop, initialised with the previous frame's flow.
3. The remaining head motion — landmark jitter, and the turns and nods a flat
   crop cannot undo — is fitted robustly to the flow at firm points (nose
   bridge, glabella, forehead, temples) as a rigid 3-D motion seen by a pinhole
   camera, each point at its depth from the 3-D landmarks, and removed. Each firm
   point is read twice, from that flow and from a second one with wider patches
   (:data:`HEAD_PATCH_MM`): firm skin has little texture at webcam resolution.
4. What remains at each tracked point (a mouth corner, an eyelid) is that
   tissue's own movement, converted to millimetres in the face frame, with the
   evidence of how far it can be trusted (:class:`PointQuality`, judged in
   :mod:`coach.engine.motion.trust`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from coach.engine import landmarks as L
from coach.engine.face_frame import FaceFrame
from coach.engine.motion.rigid import AffineCamera, HeadPose3D, fit_head_motion, fit_head_pose3d, fit_similarity
from coach.engine.motion.trust import Trust, judge

# Crop window in face millimetres (x to the patient's left, y up).
CROP_X_MM = (-55.0, 55.0)
CROP_Y_MM = (-80.0, 40.0)

# Landmarks on bone or firm tissue: they move with the skull, not with a smile.
# The temples (54, 284) sit about 30 mm behind the nose: with them the depths span the
# mouth corners', so a head turn is measured, not extrapolated (coach.engine.motion.rigid).
RIGID_LANDMARKS = (6, 197, 195, 5, 168, 8, 9, 151, 108, 337, 193, 417, 54, 284)
# A brow raise moves the forehead: use the nose, the cheekbones and the chin.
RIGID_WITHOUT_FOREHEAD = (6, 197, 195, 5, 4, 193, 417, 116, 345, 152, 175, 199)
# A snarl wrinkles the nose: use the forehead and the chin.
RIGID_WITHOUT_NOSE = (151, 108, 337, 109, 338, 10, 152, 175, 199, 54, 284, 21, 251)
RIGID_PATCH_MM = 2.5
# Firm points are sampled 2.5 mm apart, closer than DIS's patch: about this many
# readings share one independent flow measurement (for the standard error of the head fit).
# Each place is read from both flows (see HEAD_PATCH_MM), whose errors are nearly
# independent: with 8 (the two readings counted as one) the two halves of the firm points
# disagreed on real clips by only 0.59–0.84 of what their standard errors said; with 5,
# 0.74–1.06 (benchmarks/rigid_split.py).
RIGID_POINTS_PER_PATCH = 5.0
# The camera's focal length in picture widths: laptop and phone cameras see 60–80°
# across (0.6–0.87 widths); webcams zoomed in, less. Only perspective depends on it: an
# error of half makes about 0.3 mm at a mouth corner when the head nods 8°.
CAMERA_FOCAL_WIDTHS = 0.9
MAX_CROP_PX_PER_MM = 2.25  # bigger faces are measured on a reduced crop (DIS time grows with its area)
# The head's own motion is also read from a second flow with patches this wide (mm). The
# firm skin of the forehead and nose has little texture at webcam resolution, and the medium
# preset's patches (8 pixels at its finest scale, half the crop's resolution: about 11 mm at
# 1.5 px/mm) follow noise and compression blocks there; but a wide patch straddles the
# nose's depth when the head turns or nods, which biases it on a sharp face. So every firm
# point is read from both flows, and the head fit weighs each reading by the noise it has
# shown since the reference. Symmetric chimeras of real talking faces (every frame
# scored, reference renewed every 2 s): error 0.28 mm median and 1.76 at the
# 90th percentile with the usual patches alone, 0.20 / 0.85 with the wide ones alone, 0.21 /
# 0.89 with both; on the 3-D virtual patients' worst cases the wide patches alone doubled
# the error (docs/real-faces.md). The tracked points keep the small patches: a smile's
# peak is local.
# The wide flow starts from no flow after a new reference, with fewer pyramid levels than
# the usual one (often one at 1.5 px/mm): it follows only small shifts then, which is all
# that is left once the crop is aligned on the landmarks; a reading that fails is outweighed.
HEAD_PATCH_MM = 21.4


@dataclass(frozen=True)
class TrackPoint:
    """A place whose movement is measured.

    Attributes:
        name: measure name, e.g. ``"mouth_corner"``.
        side: ``"left"`` or ``"right"``.
        landmark: MediaPipe index that locates it at the reference.
        offset_mm: (outward, up) shift from the landmark, mm. Mouth corners are
            read just outside the lip junction, where teeth never show.
        radius_mm: radius of the disc of flow that is pooled (median), mm.
        window_mm: Lucas–Kanade window that refines the flow at each disc point;
            smaller for thin structures such as eyelids, mm.
        changes_look: the tissue looks different when it moves (an eyelid closing
            over the eye): its unlike-the-reference look is the movement, not a doubt.
    """

    name: str
    side: str
    landmark: int
    offset_mm: tuple[float, float] = (0.0, 0.0)
    radius_mm: float = 3.0
    window_mm: float = 5.0
    changes_look: bool = False


SMILE_POINTS = (
    TrackPoint("mouth_corner", "left", 291, (1.5, 0.0)),
    TrackPoint("mouth_corner", "right", 61, (1.5, 0.0)),
)


@dataclass(frozen=True)
class PointQuality:
    """How far one point's movement in one frame can be trusted, and why.

    Attributes:
        seen_fraction: share of the point's disc inside the picture (0 to 1).
        spread_mm: how differently the disc's pixels moved (median distance from
            their median movement), mm.
        mismatch: how unlike the reference the tissue found there looks, in
            contrast-normalised grey levels (about 40 = unrelated texture).
        rigid_se_mm: standard error of the head motion removed at this point, mm.
        rigid_residual_mm: how far the face's firm points strayed from one rigid
            head motion, mm (the same for every point of a frame).
        changes_look: the point's look is expected to change as it moves (eyelids).
    """

    seen_fraction: float
    spread_mm: float
    mismatch: float
    rigid_se_mm: float
    rigid_residual_mm: float
    changes_look: bool = False


@dataclass(frozen=True)
class TissueSample:
    """Movement of every tracked point in one frame.

    Attributes:
        displacement_mm: (name, side) → (2,) movement since the reference, face mm
            (x to the patient's left, y up).
        confidence: 0 (do not trust) to 1: ``trust.confidence``.
        trust: the frame's verdict: confidence, expected error and, when doubtful, why.
        rigid: the residual head motion removed, in crop pixels.
        quality: (name, side) → what the confidence is made of.
        point_confidence: name → the confidence of that point's two sides alone (a
            smile's rep is not made less sure by an eyelid tracked beside it).
    """

    displacement_mm: dict[tuple[str, str], np.ndarray]
    confidence: float
    trust: Trust
    rigid: HeadPose3D | AffineCamera
    quality: dict[tuple[str, str], PointQuality] = field(default_factory=dict)
    point_confidence: dict[str, float] = field(default_factory=dict)


class CropGeometry:
    """Maps between image pixels, face millimetres and crop pixels."""

    def __init__(self, px_per_mm: float) -> None:
        if not 0.5 <= px_per_mm <= 8.0:
            raise ValueError(f"px_per_mm must be 0.5 to 8, got {px_per_mm}")
        self.px_per_mm = float(px_per_mm)
        self.size_wh = (
            int(round((CROP_X_MM[1] - CROP_X_MM[0]) * px_per_mm)),
            int(round((CROP_Y_MM[1] - CROP_Y_MM[0]) * px_per_mm)),
        )

    def mm_to_crop(self, xy_mm: np.ndarray) -> np.ndarray:
        xy = np.asarray(xy_mm, dtype=np.float64)
        return np.stack(
            [(xy[..., 0] - CROP_X_MM[0]) * self.px_per_mm, (CROP_Y_MM[1] - xy[..., 1]) * self.px_per_mm],
            axis=-1,
        )

    def crop_vector_to_mm(self, d_px: np.ndarray) -> np.ndarray:
        d = np.asarray(d_px, dtype=np.float64)
        return np.stack([d[..., 0], -d[..., 1]], axis=-1) / self.px_per_mm

    def matrix(self, ff: FaceFrame) -> np.ndarray:
        """2×3 affine taking image pixels to crop pixels for face frame ``ff``."""
        k = self.px_per_mm / ff.px_per_mm
        xa, ya = ff.x_axis, ff.y_axis
        # crop = k * [xa; -ya] @ (p - origin) + offset
        rot = k * np.array([xa, -ya])
        offset = np.array([-CROP_X_MM[0] * self.px_per_mm, CROP_Y_MM[1] * self.px_per_mm])
        return np.hstack([rot, (offset - rot @ ff.origin_px)[:, None]])


def normalise_crop(gray: np.ndarray, px_per_mm: float) -> np.ndarray:
    """Local-contrast normalisation so flow follows texture, not lighting.

    Subtracts a blur of about 6 mm and divides by the crop's spread, then maps
    to uint8 (DIS takes 8-bit images). The blur is smooth, so it is taken on a
    copy shrunk until its sigma is about 2.5 px and enlarged back: the same
    background for a third of the time (measured: 0.56 → 0.18 ms per crop).
    """
    g = gray.astype(np.float32)
    sigma = max(1.0, 6.0 * px_per_mm)
    k = max(1, int(sigma / 2.5))
    h, w = g.shape[:2]
    if k > 1 and min(h, w) >= 4 * k:
        small = cv2.resize(g, (w // k, h // k), interpolation=cv2.INTER_AREA)
        background = cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / k), (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        background = cv2.GaussianBlur(g, (0, 0), sigma)
    hp = g - background
    spread = float(cv2.meanStdDev(hp)[1][0, 0]) + 1e-3
    return np.clip(128.0 + hp * (40.0 / spread), 0, 255).astype(np.uint8)


class TissueMotion:
    """Measures tracked points' movement relative to a reference (neutral) frame.

    Args:
        points: what to measure.
        crop_px_per_mm: resolution of the stabilised crop; by default the face's
            own resolution clamped to 1.5–2.25 px/mm (small faces are upsampled so
            the flow has enough pixels; big ones are reduced to save time: a
            480 px face in 1280×720 measured as well at 2.25 as at 3 px/mm, mean
            error 1.1 vs 1.5 points on 6 phantoms, for half the flow's time).
        preset: DIS preset: ``"fast"`` or ``"medium"``.
        rigid_landmarks: landmarks on tissue that does not move in this exercise;
            the head's remaining motion is fitted to the flow there.
        head_model: ``"3d"`` fits the head's remaining motion as a rigid 3-D motion
            seen by a pinhole camera, with each point's depth from the 3-D landmarks
            (turns and nods move the nose and the mouth corners by different amounts;
            see :func:`coach.engine.motion.rigid.fit_head_pose3d`); ``"2d"`` fits a 2-D
            similarity (no turns), the method before, kept for comparison.
    """

    def __init__(
        self,
        points: tuple[TrackPoint, ...] = SMILE_POINTS,
        crop_px_per_mm: float | None = None,
        preset: str = "medium",
        rigid_landmarks: tuple[int, ...] = RIGID_LANDMARKS,
        head_model: str = "3d",
    ) -> None:
        if head_model not in ("3d", "2d"):
            raise ValueError(f"head_model must be '3d' or '2d', got {head_model!r}")
        if len(rigid_landmarks) < 3 or not all(0 <= i < 468 for i in rigid_landmarks):
            raise ValueError(f"rigid_landmarks must name at least 3 mesh landmarks (0..467), got {rigid_landmarks}")
        if not points:
            raise ValueError("points must name at least one TrackPoint")
        presets = {"fast": cv2.DISOPTICAL_FLOW_PRESET_FAST, "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}
        if preset not in presets:
            raise ValueError(f"preset must be one of {sorted(presets)}, got {preset!r}")
        if crop_px_per_mm is not None and not 0.5 <= crop_px_per_mm <= 8.0:
            raise ValueError(f"crop_px_per_mm must be 0.5 to 8, got {crop_px_per_mm}")
        self.points = points
        self.rigid_landmarks = tuple(rigid_landmarks)
        self._fixed_ppm = crop_px_per_mm
        self.head_model = head_model
        self._preset = presets[preset]
        self._dis = self._new_dis()
        self._head_dis: cv2.DISOpticalFlow | None = None  # made for the crop's size (see _new_head_dis)
        self._head_flow: np.ndarray | None = None
        self._geom: CropGeometry | None = None
        self._ref: np.ndarray | None = None
        self._ref_brightness = 0.0
        self._camera_centre = np.zeros(2)
        self._distance_px = 1.0
        self._flow: np.ndarray | None = None
        # Each firm place twice: first half read from the tracked points' flow, second from the wide one.
        self._rigid_px: np.ndarray = np.zeros((0, 2))
        self._rigid_z: np.ndarray = np.zeros(0)  # depth of each reading, crop px
        self._rigid_noise: np.ndarray = np.zeros(0)  # each reading's squared residual, averaged, crop px²
        self._all_point_z: np.ndarray = np.zeros(0)
        self._point_px: list[np.ndarray] = []
        self._all_point_px: np.ndarray = np.zeros((0, 2))
        self._point_spans: list[tuple[int, int]] = []
        self._windows: list[tuple[int, np.ndarray]] = []  # (LK window px, indices into _all_point_px)

    def _new_dis(self) -> cv2.DISOpticalFlow:
        dis = cv2.DISOpticalFlow_create(self._preset)
        dis.setUseSpatialPropagation(True)
        # Variational refinement smooths away the peak of small, local movements
        # (measured: 86 % → 96 % of a 6 mm phantom movement without it) and costs time.
        dis.setVariationalRefinementIterations(0)
        return dis

    def _new_head_dis(self, px_per_mm: float) -> cv2.DISOpticalFlow:
        """The second flow the firm points are read from: the same, with wider patches (:data:`HEAD_PATCH_MM`)."""
        dis = self._new_dis()
        # DIS counts patch sizes in pixels of its finest scale (half the crop's for the medium preset).
        patch = max(8, int(round(HEAD_PATCH_MM * px_per_mm / 2 ** dis.getFinestScale())))
        dis.setPatchSize(patch)
        dis.setPatchStride(max(4, int(round(0.375 * patch))))
        return dis

    @property
    def has_reference(self) -> bool:
        return self._ref is not None

    @property
    def geometry(self) -> CropGeometry | None:
        return self._geom

    def _raw_crop(self, gray: np.ndarray, ff: FaceFrame) -> np.ndarray:
        assert self._geom is not None
        w, h = self._geom.size_wh
        return cv2.warpAffine(
            gray, self._geom.matrix(ff), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )

    def crop(self, gray: np.ndarray, ff: FaceFrame) -> np.ndarray:
        """The stabilised, normalised crop of a frame."""
        assert self._geom is not None
        return normalise_crop(self._raw_crop(gray, ff), self._geom.px_per_mm)

    def set_reference(
        self,
        frames: Sequence[tuple[np.ndarray, FaceFrame]],
        landmarks_mm: np.ndarray,
        depth_mm: np.ndarray | None = None,
    ) -> None:
        """Take the neutral face as the reference.

        Args:
            frames: one or more consecutive resting frames ``(gray (H, W) uint8,
                face frame)``, newest last. Several are registered to the newest
                and averaged: camera noise and compression blocks in a single
                reference would bias every later measurement of the rep.
            landmarks_mm: (478, 2) neutral landmarks in face mm (a median over a
                few frames is steadier than one frame's).
            depth_mm: (478,) their depth, mm, MediaPipe's sign (smaller is nearer
                the camera); without it every point is taken at one depth.
        """
        if not frames:
            raise ValueError("frames must hold at least one (gray, face frame) pair")
        lm = np.asarray(landmarks_mm, dtype=np.float64)[:, :2]
        z_mm = np.zeros(len(lm)) if depth_mm is None else np.asarray(depth_mm, dtype=np.float64).reshape(-1)
        if z_mm.shape != (len(lm),) or not np.isfinite(z_mm).all():
            # Checked before anything changes: a refused reference leaves the last one whole.
            raise ValueError(f"depth_mm: expected ({len(lm)},) finite values, got shape {z_mm.shape}")
        gray, ff = frames[-1]
        ppm = self._fixed_ppm or float(np.clip(ff.px_per_mm, 1.5, MAX_CROP_PX_PER_MM))
        if self._geom is None or abs(self._geom.px_per_mm - ppm) > 1e-9:
            new = CropGeometry(ppm)
            if self._geom is not None and new.size_wh != self._geom.size_wh:
                # OpenCV's DIS object keeps buffers sized for the last images; once it
                # has been given an initial flow, images of another size make it read
                # out of bounds (a segmentation fault in OpenCV 4.14 and 5.0,
                # ../shared/repro/dis_size_change.py). A new crop size gets a new object.
                self._dis = self._new_dis()
            self._head_dis = None  # its patches are sized in crop pixels: made anew below
            self._geom = new
        geom = self._geom
        if self._head_dis is None:
            self._head_dis = self._new_head_dis(geom.px_per_mm)
        self._flow = None
        self._head_flow = None
        patch = np.arange(-RIGID_PATCH_MM, RIGID_PATCH_MM + 1e-9, RIGID_PATCH_MM)
        offsets = np.array([(dx, dy) for dx in patch for dy in patch])
        # Depth from the eyes, whose distance from the camera the iris gives.
        z_mm = z_mm - z_mm[[L.EYE_INNER["left"], L.EYE_INNER["right"]]].mean()
        # The camera: its axis through the picture's centre; its focal length assumed
        # (see CAMERA_FOCAL_WIDTHS); the face as far from it as the iris says.
        img_h, img_w = frames[-1][0].shape[:2]
        m_ref = geom.matrix(ff)
        self._camera_centre = m_ref[:, :2] @ np.array([img_w / 2.0, img_h / 2.0]) + m_ref[:, 2]
        self._distance_px = CAMERA_FOCAL_WIDTHS * img_w / ff.px_per_mm * geom.px_per_mm
        rigid_mm = (lm[list(self.rigid_landmarks)][:, None, :] + offsets[None]).reshape(-1, 2)
        rigid_z = np.repeat(z_mm[list(self.rigid_landmarks)], len(offsets))
        firm_px, firm_z = self._inside(geom.mm_to_crop(rigid_mm), rigid_z * geom.px_per_mm)
        # Each firm place twice: its first half is read from the tracked points' flow, its
        # second from the wide-patch flow (see measure), each with its own learnt noise.
        self._rigid_px, self._rigid_z = np.concatenate([firm_px, firm_px]), np.concatenate([firm_z, firm_z])
        self._rigid_noise = np.full(len(self._rigid_px), (0.3 * geom.px_per_mm) ** 2)  # px²: 0.3 mm each to start
        self._point_px = []
        point_z = []
        for tp in self.points:
            sign = 1.0 if tp.side == "left" else -1.0
            centre = lm[tp.landmark] + np.array([sign * tp.offset_mm[0], tp.offset_mm[1]])
            r = tp.radius_mm
            step = 1.0 / geom.px_per_mm
            g = np.arange(-r, r + 1e-9, step)
            disc = np.array([(dx, dy) for dx in g for dy in g if dx * dx + dy * dy <= r * r])
            depth = np.full(len(disc), z_mm[tp.landmark] * geom.px_per_mm)
            xy, zz = self._inside(geom.mm_to_crop(centre + disc), depth)
            self._point_px.append(xy)
            point_z.append(zz)
        self._all_point_px = np.concatenate([np.zeros((0, 2)), *self._point_px])
        self._all_point_z = np.concatenate([np.zeros(0), *point_z])
        ends = np.cumsum([len(x) for x in self._point_px])
        self._point_spans = [(int(e - len(x)), int(e)) for e, x in zip(ends, self._point_px, strict=True)]
        wins = np.concatenate(
            [np.zeros(0, int)]
            + [
                np.full(len(x), max(5, int(2 * round(tp.window_mm * geom.px_per_mm / 2) + 1)))
                for tp, x in zip(self.points, self._point_px, strict=True)
            ]
        )
        self._windows = [(int(v), np.flatnonzero(wins == v)) for v in np.unique(wins)]

        raw = self._raw_crop(gray, ff)
        base = normalise_crop(raw, ppm)
        total = raw.astype(np.float32)
        w, h = geom.size_wh
        for g_k, ff_k in frames[:-1]:
            raw_k = self._raw_crop(g_k, ff_k)
            # Registered on the firm places (each once), read from the wide-patch flow.
            flow = self._head_dis.calc(base, normalise_crop(raw_k, ppm), None)
            p = self._rigid_px[: len(self._rigid_px) // 2]
            fit = fit_similarity(p, p + _sample(flow, p))
            m = np.array([[fit.a, -fit.b, fit.t[0]], [fit.b, fit.a, fit.t[1]]])
            total += cv2.warpAffine(
                raw_k.astype(np.float32),
                m,
                (w, h),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
        self._ref = normalise_crop(total / len(frames), ppm)
        self._ref_brightness = float(total.mean()) / len(frames)

    def _inside(self, xy: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        assert self._geom is not None
        w, h = self._geom.size_wh
        ok = (xy[:, 0] >= 0) & (xy[:, 0] <= w - 1) & (xy[:, 1] >= 0) & (xy[:, 1] <= h - 1)
        return xy[ok], z[ok]

    def forget_motion(self) -> None:
        """Drop the flow carried from the last frame (after the face was lost)."""
        self._flow = None
        self._head_flow = None

    def measure(self, gray: np.ndarray, ff: FaceFrame) -> TissueSample:
        """Movement of every tracked point since the reference.

        Args:
            gray: (H, W) uint8 frame.
            ff: its face frame (from this frame's landmarks).
        """
        if self._ref is None or self._geom is None or self._head_dis is None:
            raise RuntimeError("TissueMotion.measure called before set_reference")
        geom = self._geom
        m = geom.matrix(ff)
        w, h = geom.size_wh
        raw = cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        cur = normalise_crop(raw, geom.px_per_mm)
        # Which crop pixels come from inside the picture: worked out for the
        # sampled points only, instead of warping a whole mask every frame.
        to_image = cv2.invertAffineTransform(m)
        # DIS starts from the flow it is given when that flow has the right size.
        init = self._flow.copy() if self._flow is not None else None
        flow = self._dis.calc(self._ref, cur, init)
        self._flow = flow
        head_init = self._head_flow.copy() if self._head_flow is not None else None
        self._head_flow = self._head_dis.calc(self._ref, cur, head_init)

        p = self._rigid_px
        ok = _in_picture(to_image, p, gray.shape)
        half = len(p) // 2
        q = p + np.concatenate([_sample(flow, p[:half]), _sample(self._head_flow, p[half:])])
        rigid: HeadPose3D | AffineCamera
        if self.head_model == "3d":
            noise = np.sqrt(self._rigid_noise)
            scale = np.maximum(noise / max(float(np.median(noise[ok])) if ok.any() else 1.0, 1e-9), 0.5)
            rigid = fit_head_pose3d(
                p[ok], self._rigid_z[ok], q[ok], self._camera_centre, self._distance_px, point_scale=scale[ok]
            )
            # Each firm point's own noise, learnt since the reference (an exponential average
            # of its squared residual, capped so one bad frame cannot silence a point for long).
            r2 = np.sum((rigid.apply(p, self._rigid_z) - q) ** 2, axis=1)
            cap = (4.0 * max(rigid.residual_px, 0.15)) ** 2 * scale**2
            self._rigid_noise = np.where(ok, 0.9 * self._rigid_noise + 0.1 * np.minimum(r2, cap), self._rigid_noise)
        else:
            rigid = fit_head_motion(p[ok], self._rigid_z[ok], q[ok], similarity_only=True)
        residual_mm = rigid.residual_px / geom.px_per_mm

        disp: dict[tuple[str, str], np.ndarray] = {}
        quality: dict[tuple[str, str], PointQuality] = {}
        # All points' discs in one array: one flow lookup, one picture check, and
        # one Lucas–Kanade call per window size (LK treats each point on its own).
        pts = self._all_point_px
        target = self._refine(cur, pts, pts + _sample(flow, pts))
        moved_mm = geom.crop_vector_to_mm(rigid.invert(target, self._all_point_z) - pts)
        inside = _in_picture(to_image, pts, gray.shape)
        # Does the tissue found at each target look like the tissue at the reference?
        # (Both crops are contrast-normalised: 40 grey levels is one spread of texture.)
        mismatch = np.abs(_sample_image(cur, target) - _sample_image(self._ref, pts))
        se_px = rigid.prediction_se_px(pts, self._all_point_z, correlation=RIGID_POINTS_PER_PATCH)
        for tp, (lo, hi) in zip(self.points, self._point_spans, strict=True):
            key = (tp.name, tp.side)
            if hi == lo:
                disp[key] = np.zeros(2)
                quality[key] = PointQuality(0.0, math.inf, math.inf, math.inf, math.inf)
                continue
            d_mm = moved_mm[lo:hi]
            med = np.median(d_mm, axis=0)
            dx, dy = d_mm[:, 0] - med[0], d_mm[:, 1] - med[1]
            spread = float(np.median(np.sqrt(dx * dx + dy * dy)))
            disp[key] = med
            quality[key] = PointQuality(
                seen_fraction=float(np.count_nonzero(inside[lo:hi])) / (hi - lo),
                spread_mm=spread,
                mismatch=float(np.median(mismatch[lo:hi])),
                rigid_se_mm=float(np.median(se_px[lo:hi])) / geom.px_per_mm,
                rigid_residual_mm=residual_mm,
                changes_look=tp.changes_look,
            )
        brightness = (float(raw.mean()) + 1.0) / (self._ref_brightness + 1.0)
        verdict = judge(quality, brightness)
        by_point = {
            name: judge({k: q for k, q in quality.items() if k[0] == name}, brightness).confidence
            for name in dict.fromkeys(tp.name for tp in self.points)
        }
        return TissueSample(disp, verdict.confidence, verdict, rigid, quality, by_point)

    def _refine(self, cur: np.ndarray, pts: np.ndarray, guess: np.ndarray) -> np.ndarray:
        """Lucas–Kanade at each point, started from the dense flow.

        DIS averages motion over its patches, which flattens the peak of a
        movement confined to a few millimetres; a local LK window centred on
        each point recovers it. Points where LK fails keep the dense guess.
        """
        assert self._geom is not None and self._ref is not None
        out = guess.copy()
        for win, idx in self._windows:
            p0 = pts[idx].astype(np.float32).reshape(-1, 1, 2)
            p1 = guess[idx].astype(np.float32).reshape(-1, 1, 2)
            p1, status, _ = cv2.calcOpticalFlowPyrLK(
                self._ref,
                cur,
                p0,
                p1,
                winSize=(win, win),
                maxLevel=1,
                criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.01),
                flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
            )
            got = p1.reshape(-1, 2).astype(np.float64)
            g = guess[idx]
            good = (status.ravel() != 0) & np.isfinite(got).all(1) & (np.linalg.norm(got - g, axis=1) <= win)
            out[idx[good]] = got[good]
        return out


def _in_picture(crop_to_image: np.ndarray, xy: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Whether the crop pixel nearest each (n, 2) crop position comes from inside the picture.

    The same answer as warping an all-ones mask with nearest-pixel sampling and
    looking it up, without warping a mask every frame.
    """
    if len(xy) == 0:
        return np.zeros(0, dtype=bool)
    c = np.rint(xy)
    sx = crop_to_image[0, 0] * c[:, 0] + crop_to_image[0, 1] * c[:, 1] + crop_to_image[0, 2]
    sy = crop_to_image[1, 0] * c[:, 0] + crop_to_image[1, 1] * c[:, 1] + crop_to_image[1, 2]
    h, w = image_shape[:2]
    return (sx >= -0.5) & (sx < w - 0.5) & (sy >= -0.5) & (sy < h - 0.5)


def _sample(flow: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear flow at (n, 2) crop positions → (n, 2)."""
    if len(xy) == 0:
        return np.zeros((0, 2))
    mx = np.ascontiguousarray(xy[:, 0].astype(np.float32)).reshape(1, -1)
    my = np.ascontiguousarray(xy[:, 1].astype(np.float32)).reshape(1, -1)
    out = cv2.remap(flow, mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1, 2).astype(np.float64)


def _sample_image(img: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Bilinear grey level of a uint8 image at (n, 2) positions → (n,) float."""
    if len(xy) == 0:
        return np.zeros(0)
    mx = np.ascontiguousarray(xy[:, 0].astype(np.float32)).reshape(1, -1)
    my = np.ascontiguousarray(xy[:, 1].astype(np.float32)).reshape(1, -1)
    out = cv2.remap(img.astype(np.float32), mx, my, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return out.reshape(-1).astype(np.float64)
