"""Robust similarity fit between point sets (pure NumPy, deterministic)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Similarity:
    """``q = s·R(θ)·p + t`` written as ``q = [[a, -b], [b, a]] @ p + t``.

    Attributes:
        a, b: scaled rotation (a = s·cosθ, b = s·sinθ).
        t: (2,) translation.
        inlier_fraction: share of points that agreed with the fit (0 to 1).
        residual_px: robust spread of the inliers' residuals, pixels.
    """

    a: float
    b: float
    t: np.ndarray
    inlier_fraction: float = 1.0
    residual_px: float = 0.0

    @classmethod
    def identity(cls) -> Similarity:
        return cls(1.0, 0.0, np.zeros(2), 0.0, 0.0)

    def apply(self, p: np.ndarray) -> np.ndarray:
        """Map points (n, 2)."""
        p = np.asarray(p, dtype=np.float64)
        x, y = p[..., 0], p[..., 1]
        return np.stack([self.a * x - self.b * y, self.b * x + self.a * y], axis=-1) + self.t

    def invert(self, q: np.ndarray) -> np.ndarray:
        """Map points (n, 2) back: the ``p`` with ``apply(p) == q``."""
        q = np.asarray(q, dtype=np.float64) - self.t
        d = self.a * self.a + self.b * self.b
        x, y = q[..., 0], q[..., 1]
        return np.stack([self.a * x + self.b * y, -self.b * x + self.a * y], axis=-1) / d


def _weighted_fit(
    px: np.ndarray, py: np.ndarray, qx: np.ndarray, qy: np.ndarray, w: np.ndarray
) -> tuple[float, float, float, float]:
    """Weighted least-squares similarity on 1-D coordinate arrays: (a, b, tx, ty)."""
    sw = w.sum()
    pcx, pcy = (w @ px) / sw, (w @ py) / sw
    qcx, qcy = (w @ qx) / sw, (w @ qy) / sw
    PX, PY, QX, QY = px - pcx, py - pcy, qx - qcx, qy - qcy
    den = w @ (PX * PX + PY * PY)
    if den <= 1e-12:
        return 1.0, 0.0, float(qcx - pcx), float(qcy - pcy)
    a = (w @ (PX * QX + PY * QY)) / den
    b = (w @ (PX * QY - PY * QX)) / den
    return float(a), float(b), float(qcx - (a * pcx - b * pcy)), float(qcy - (b * pcx + a * pcy))


def fit_similarity(
    p: np.ndarray,
    q: np.ndarray,
    iterations: int = 8,
    min_scale_px: float = 0.15,
) -> Similarity:
    """Fit ``q ≈ S(p)`` with Tukey-biweight IRLS, started from the median shift.

    Robust to a minority of points that moved on their own (a blink, a frown)
    without random sampling, so the same input always gives the same fit.

    Args:
        p, q: (n, 2) matched points, n ≥ 3.
        iterations: IRLS rounds (1 to 50).
        min_scale_px: floor of the residual scale, pixels; keeps sub-pixel
            noise from being treated as outliers.

    Returns:
        The fit; identity with ``inlier_fraction`` 0 when there are too few points.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.size == 0 and q.size == 0:
        return Similarity.identity()
    if p.ndim != 2 or p.shape[1] != 2 or p.shape != q.shape:
        raise ValueError(f"p and q must both have shape (n, 2), got {p.shape} and {q.shape}")
    if not 1 <= iterations <= 50:
        raise ValueError(f"iterations must be 1 to 50, got {iterations}")
    ok = np.isfinite(p).all(1) & np.isfinite(q).all(1)
    p, q = p[ok], q[ok]
    if len(p) < 3:
        return Similarity.identity()
    # Start from a pure translation: the median is robust to up to half outliers.
    # (1-D coordinate arrays and few temporaries: this runs on every frame.)
    px, py, qx, qy = p[:, 0].copy(), p[:, 1].copy(), q[:, 0].copy(), q[:, 1].copy()
    a, b = 1.0, 0.0
    tx, ty = (float(v) for v in np.median(q - p, axis=0))
    w = np.ones(len(p))
    scale = min_scale_px
    for _ in range(iterations):
        rx = qx - (a * px - b * py + tx)
        ry = qy - (b * px + a * py + ty)
        r = np.sqrt(rx * rx + ry * ry)
        scale = max(min_scale_px, 1.4826 * float(np.median(r)))
        u = np.minimum(r * (1.0 / (4.685 * scale)), 1.0)
        w = 1.0 - u * u
        w *= w
        if np.count_nonzero(w) < 3:
            break
        fit = _weighted_fit(px, py, qx, qy, w)
        converged = max(abs(fit[0] - a), abs(fit[1] - b), abs(fit[2] - tx), abs(fit[3] - ty)) < 1e-12
        a, b, tx, ty = fit
        if converged:  # later rounds would change nothing
            break
    t = np.array([tx, ty])
    inliers = float(np.count_nonzero(w)) / len(w)
    return Similarity(a, b, np.asarray(t, dtype=np.float64), inliers, float(scale))


@dataclass(frozen=True)
class AffineCamera:
    """A turning head seen by a camera close by, to first order; pixels.

    With ``u = p - centre`` (reference positions about the firm points' centre) and
    ``dz = z - z0`` (depth), a rigid point is seen at::

        q = centre + t + M u + m dz - u (g ux + h uy) / NORM_PX

    - ``M`` (2, 2): roll, scale and the foreshortening of a turn (stretch and shear);
    - ``m`` (2,): a turn moves each point by its depth — the nose tip and the mouth
      corners differently;
    - ``g, h``: perspective. A camera half a metre away sees the part of the face
      that comes nearer (the chin when the head nods) larger: at 8° of pitch that
      moves a mouth corner by about 1 mm against the forehead, which no affine map
      of the picture can follow.

    Attributes:
        m2, mz, t: as above; ``persp`` = (g, h).
        centre: (2,) where ``u`` is measured from; ``z0``: the depth ``dz`` is from.
        inlier_fraction: share of points that agreed with the fit (0 to 1).
        residual_px: robust spread of the inliers' residuals, pixels.
        cov_unit: (10, 10) ``(Jᵀ W J + prior)⁻¹`` for the parameters
            ``(a, b, tx, ty, mx, my, c, d, g, h)`` (see :func:`_head_rows`): times
            ``residual_px²`` their covariance.
    """

    m2: np.ndarray
    mz: np.ndarray
    t: np.ndarray
    z0: float = 0.0
    inlier_fraction: float = 1.0
    residual_px: float = 0.0
    cov_unit: np.ndarray | None = None
    persp: tuple[float, float] = (0.0, 0.0)
    centre: np.ndarray = field(default_factory=lambda: np.zeros(2))

    @classmethod
    def identity(cls) -> AffineCamera:
        return cls(np.eye(2), np.zeros(2), np.zeros(2), 0.0, 0.0, 0.0, None)

    def _bend(self, u: np.ndarray) -> np.ndarray:
        g, h = self.persp
        return u * ((g * u[..., :1] + h * u[..., 1:2]) / NORM_PX)

    def apply(self, p: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Where points (n, 2) of depth (n,) are seen after the motion, (n, 2)."""
        u = np.asarray(p, dtype=np.float64) - self.centre
        dz = np.asarray(z, dtype=np.float64) - self.z0
        return self.centre + self.t + u @ self.m2.T + dz[..., None] * self.mz - self._bend(u)

    def invert(self, q: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Back to the reference: the ``p`` with ``apply(p, z) == q``, (n, 2)."""
        q = np.asarray(q, dtype=np.float64)
        dz = np.asarray(z, dtype=np.float64) - self.z0
        rhs = q - self.centre - self.t - dz[..., None] * self.mz
        inv = np.linalg.inv(self.m2)
        u = rhs @ inv.T
        if self.persp != (0.0, 0.0):
            for _ in range(4):  # the perspective term is a few per cent: this converges at once
                u = (rhs + self._bend(u)) @ inv.T
        return u + self.centre

    def prediction_se_px(self, p: np.ndarray, z: np.ndarray, correlation: float = 1.0) -> np.ndarray:
        """Standard error of the fitted motion at points (n, 2) of depth (n,), pixels (n,).

        Args:
            correlation: how many fitted points carry one independent measurement
                (flow at points closer than its patch size is not independent).
        """
        p = np.asarray(p, dtype=np.float64)
        if self.cov_unit is None:
            return np.full(len(p), np.inf)
        u = p - self.centre
        jx, jy = _head_rows(u[:, 0], u[:, 1], np.asarray(z, dtype=np.float64) - self.z0)
        var = 0.5 * (np.einsum("ni,ij,nj->n", jx, self.cov_unit, jx) + np.einsum("ni,ij,nj->n", jy, self.cov_unit, jy))
        return self.residual_px * np.sqrt(np.maximum(var, 0.0) * correlation)


def _tukey(r: np.ndarray, min_scale: float) -> tuple[float, np.ndarray]:
    """Robust scale (1.4826 × median, at least ``min_scale``) and Tukey-biweight weights of residuals (n,)."""
    scale = max(min_scale, 1.4826 * float(np.median(r)))
    u = np.minimum(r * (1.0 / (4.685 * scale)), 1.0)
    return scale, (1.0 - u * u) ** 2


NORM_PX = 100.0  # the perspective terms are written per this many pixels from the centre
FORESHORTENING_PRIOR = 0.04  # stretch and shear of a turn up to about 15°: a few per cent
PERSPECTIVE_PRIOR = 0.03  # perspective change over NORM_PX, as a share


def _head_rows(ux: np.ndarray, uy: np.ndarray, dz: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Design rows (n, 10) of the x and y image coordinates for (a, b, tx, ty, mx, my, c, d, g, h).

    ``M = [[a + c, d - b], [b + d, a - c]]``: a similarity (a, b) plus the stretch and
    shear (c, d) of a turned face's foreshortening; (g, h) the perspective terms.
    """
    one, zero = np.ones_like(ux), np.zeros_like(ux)
    sx, sy = ux / NORM_PX, uy / NORM_PX
    return (
        np.column_stack([ux, -uy, one, zero, dz, zero, ux, uy, -ux * sx, -ux * sy]),
        np.column_stack([uy, ux, zero, one, zero, dz, -uy, ux, -uy * sx, -uy * sy]),
    )


def fit_head_motion(
    p: np.ndarray,
    z: np.ndarray,
    q: np.ndarray,
    iterations: int = 10,
    min_scale_px: float = 0.15,
    depth_ridge: float = 0.05,
    point_scale: np.ndarray | None = None,
    similarity_only: bool = False,
) -> AffineCamera:
    """Fit a turning head seen from close by (see :class:`AffineCamera`) with Tukey-biweight IRLS.

    Deterministic (no random sampling), robust to a minority of points that moved
    on their own. The terms beyond a similarity carry priors of the size a head
    turn of up to about 15° gives them, so a few noisy points are not read as a turn.

    Args:
        p: (n, 2) reference positions, pixels.
        z: (n,) reference depths, in the same pixels (any sign, used consistently).
        q: (n, 2) where they are now, pixels.
        iterations: IRLS rounds (1 to 50).
        min_scale_px: floor of the residual scale, pixels.
        depth_ridge: shrinks the depth term toward no turn, as a share of the
            depths' own weight (0 to 1).
        point_scale: (n,) how noisy each point is relative to the others (> 0;
            median about 1). On a real face some firm points are poor witnesses —
            a shine on the nose that moves with the light, hair over the forehead —
            and weighing each by its own noise keeps them from blurring the fit.
        similarity_only: hold every term beyond a similarity at zero (a 2-D fit,
            with its standard errors).

    Returns:
        The fit; identity with ``inlier_fraction`` 0 when there are too few points.
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    if p.size == 0 and q.size == 0:
        return AffineCamera.identity()
    if p.ndim != 2 or p.shape[1] != 2 or p.shape != q.shape or z.shape != (len(p),):
        raise ValueError(f"p and q must have shape (n, 2) and z (n,), got {p.shape}, {q.shape} and {z.shape}")
    if not 1 <= iterations <= 50:
        raise ValueError(f"iterations must be 1 to 50, got {iterations}")
    if not 0.0 <= depth_ridge <= 1.0:
        raise ValueError(f"depth_ridge must be 0 to 1, got {depth_ridge}")
    sp = np.ones(len(p)) if point_scale is None else np.asarray(point_scale, dtype=np.float64).reshape(-1)
    if sp.shape != (len(p),):
        raise ValueError(f"point_scale must have shape ({len(p)},), got {sp.shape}")
    ok = np.isfinite(p).all(1) & np.isfinite(q).all(1) & np.isfinite(z) & np.isfinite(sp) & (sp > 0)
    p, q, z, sp = p[ok], q[ok], z[ok], sp[ok]
    if len(p) < 4:
        return AffineCamera.identity()
    start = fit_similarity(p, q)
    centre = np.median(p, axis=0)
    z0 = float(np.median(z))
    u = p - centre
    jx, jy = _head_rows(u[:, 0], u[:, 1], z - z0)
    qx, qy = q[:, 0] - centre[0], q[:, 1] - centre[1]
    shift = start.apply(centre) - centre
    theta = np.array([start.a, start.b, shift[0], shift[1], 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    prior = np.zeros((10, 10))
    scale = min_scale_px
    w = np.ones(len(p))
    cov = None
    for _ in range(iterations):
        rx, ry = qx - jx @ theta, qy - jy @ theta
        scale, w = _tukey(np.sqrt(rx * rx + ry * ry) / sp, min_scale_px)
        if np.count_nonzero(w) < 4:
            break
        wn = w / (sp * sp)
        normal = (jx.T * wn) @ jx + (jy.T * wn) @ jy
        prior[4, 4] = prior[5, 5] = depth_ridge * float(wn @ ((z - z0) ** 2)) + 1e-9
        # Priors in the data's own units: a term is left near zero unless the
        # points ask for more than a turn of about 15° would give it.
        prior[6, 6] = prior[7, 7] = (scale / FORESHORTENING_PRIOR) ** 2
        prior[8, 8] = prior[9, 9] = (scale / PERSPECTIVE_PRIOR) ** 2
        if similarity_only:
            prior[4:, 4:] = np.eye(6) * 1e12
        try:
            cov = np.linalg.inv(normal + prior)
        except np.linalg.LinAlgError:
            cov = None
            break
        new = cov @ ((jx.T * wn) @ qx + (jy.T * wn) @ qy)
        converged = float(np.abs(new - theta).max()) < 1e-10
        theta = new
        if converged:
            break
    a, b, tx, ty, mx, my, c, d, g, h = (float(v) for v in theta)
    if cov is None or a * a + b * b < 1e-12:
        return similarity_to_camera(start)
    return AffineCamera(
        m2=np.array([[a + c, d - b], [b + d, a - c]]),
        mz=np.array([mx, my]),
        t=np.array([tx, ty]),
        z0=z0,
        inlier_fraction=float(np.count_nonzero(w)) / len(w),
        residual_px=float(scale),
        cov_unit=cov,
        persp=(g, h),
        centre=centre,
    )


def similarity_to_camera(s: Similarity) -> AffineCamera:
    """A similarity as an affine camera with no turn."""
    return AffineCamera(
        np.array([[s.a, -s.b], [s.b, s.a]]), np.zeros(2), np.asarray(s.t, float), 0.0, s.inlier_fraction, s.residual_px
    )


@dataclass(frozen=True)
class HeadPose3D:
    """A rigid head's small motion in 3-D, seen by a pinhole camera; pixels of one image plane.

    Reference points are taken back to 3-D from where they were seen and their depth
    (``P = (u (D + z) / D, z)`` with ``u`` about ``centre``, the face ``D`` pixels from
    the camera), moved (``P' = R P + T``) and seen again
    (``q = centre + D P'_xy / (D + P'_z)``). Turns, foreshortening and perspective all
    follow from six numbers, so none of them is extrapolated from a few firm points.

    Attributes:
        rotation: (3, 3) rotation ``R`` (x: a nod turns about it, y: a turn, z: a tilt).
        shift: (3,) translation ``T``, pixels (z toward the camera is negative).
        centre: (2,) the image point straight ahead of the face centre.
        distance_px: the face's distance from the camera, pixels of this image plane.
        inlier_fraction, residual_px: as for :class:`Similarity`.
        cov_unit: (6, 6) ``(Jᵀ W J)⁻¹`` for a small turn (rotation vector, applied on the
            left of ``R``) and shift at the fit: times ``residual_px²`` their covariance.
    """

    rotation: np.ndarray
    shift: np.ndarray
    centre: np.ndarray
    distance_px: float
    inlier_fraction: float = 1.0
    residual_px: float = 0.0
    cov_unit: np.ndarray | None = None

    @property
    def omega(self) -> np.ndarray:
        """(3,) the rotation as a rotation vector, radians."""
        r = self.rotation
        angle = float(np.arccos(np.clip((np.trace(r) - 1.0) / 2.0, -1.0, 1.0)))
        if angle < 1e-12:
            return np.zeros(3)
        axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]]) / (2.0 * np.sin(angle))
        return axis * angle

    def _seen(self, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        moved = pts @ self.rotation.T + self.shift
        return self.centre + self.distance_px * moved[:, :2] / (self.distance_px + moved[:, 2:3]), moved

    def apply(self, p: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Where points (n, 2) of depth (n,) are seen after the motion, (n, 2)."""
        return self._seen(_unproject(p, z, self.centre, self.distance_px))[0]

    def invert(self, q: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The reference position whose tissue, moved along the face, is seen at ``q``: (n, 2).

        The tissue is taken to move at its own depth (along the face, not into it).
        """
        q = np.asarray(q, dtype=np.float64)
        z = np.asarray(z, dtype=np.float64)
        d = self.distance_px
        p = q.copy()
        for _ in range(3):  # Newton: the map is nearly a similarity, so this converges at once
            seen, moved = self._seen(_unproject(p, z, self.centre, d))
            # d(seen)/d(p): through the unprojection (scale (d + z)/d in x, y) and the rotation.
            k = (d + z) / d
            g = d / (d + moved[:, 2])
            r = self.rotation
            a = g[:, None] * (r[0, :2][None] - (moved[:, :1] / (d + moved[:, 2:3])) * r[2, :2][None]) * k[:, None]
            b = g[:, None] * (r[1, :2][None] - (moved[:, 1:2] / (d + moved[:, 2:3])) * r[2, :2][None]) * k[:, None]
            res = q - seen
            det = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
            p = (
                p
                + np.column_stack(
                    [b[:, 1] * res[:, 0] - a[:, 1] * res[:, 1], a[:, 0] * res[:, 1] - b[:, 0] * res[:, 0]]
                )
                / det[:, None]
            )
        return p

    def prediction_se_px(self, p: np.ndarray, z: np.ndarray, correlation: float = 1.0) -> np.ndarray:
        """Standard error of the fitted motion at points (n, 2) of depth (n,), pixels (n,)."""
        p = np.asarray(p, dtype=np.float64)
        if self.cov_unit is None:
            return np.full(len(p), np.inf)
        _, moved = self._seen(_unproject(p, z, self.centre, self.distance_px))
        jx, jy = _pose_jacobian(moved, self.distance_px)
        var = 0.5 * (np.einsum("ni,ij,nj->n", jx, self.cov_unit, jx) + np.einsum("ni,ij,nj->n", jy, self.cov_unit, jy))
        return self.residual_px * np.sqrt(np.maximum(var, 0.0) * correlation)


def _unproject(p: np.ndarray, z: np.ndarray, centre: np.ndarray, d: float) -> np.ndarray:
    u = np.asarray(p, dtype=np.float64) - centre
    z = np.asarray(z, dtype=np.float64)
    k = (d + z) / d
    return np.column_stack([u[:, 0] * k, u[:, 1] * k, z])


def _rotation(omega: np.ndarray) -> np.ndarray:
    """Rodrigues: rotation matrix of a rotation vector (3,)."""
    th = float(np.linalg.norm(omega))
    if th < 1e-12:
        return np.eye(3)
    k = np.asarray(omega, float) / th
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(th) * kx + (1 - np.cos(th)) * (kx @ kx)


def _project(theta: np.ndarray, pts: np.ndarray, centre: np.ndarray, d: float) -> np.ndarray:
    """Points (n, 3) moved by (rotation vector, shift) ``theta`` (6,) and seen: (n, 2)."""
    moved = pts @ _rotation(theta[:3]).T + theta[3:]
    return centre + d * moved[:, :2] / (d + moved[:, 2:3])


def _pose_jacobian(moved: np.ndarray, d: float) -> tuple[np.ndarray, np.ndarray]:
    """(n, 6) derivatives of the image x and y of moved points (n, 3) for a small extra turn and shift.

    A turn ``δω`` on the left moves a point by ``δω × P'``; the camera sees
    ``d X / (d + Z)``.
    """
    x, y, zz = moved[:, 0], moved[:, 1], moved[:, 2]
    g = d / (d + zz)
    hx, hy = -x * g / (d + zz), -y * g / (d + zz)  # d(image)/dZ
    # δP' = δω × P' = (ωy z - ωz y, ωz x - ωx z, ωx y - ωy x)
    jx = np.column_stack([hx * y, g * zz - hx * x, -g * y, g, np.zeros_like(g), hx])
    jy = np.column_stack([-g * zz + hy * y, -hy * x, g * x, np.zeros_like(g), g, hy])
    return jx, jy


def fit_head_pose3d(
    p: np.ndarray,
    z: np.ndarray,
    q: np.ndarray,
    centre: np.ndarray,
    distance_px: float,
    iterations: int = 10,
    min_scale_px: float = 0.15,
    point_scale: np.ndarray | None = None,
) -> HeadPose3D:
    """Fit a rigid head's 3-D motion (see :class:`HeadPose3D`) with Tukey-biweight IRLS and Gauss–Newton.

    Deterministic (no random sampling), robust to a minority of points that moved on
    their own.

    Args:
        p: (n, 2) reference positions, pixels; z: (n,) their depths, pixels, larger
            is farther; q: (n, 2) where they are now.
        centre: (2,) the image point straight ahead of the face centre.
        distance_px: the face's distance from the camera, pixels (> 0).
        iterations: IRLS rounds (1 to 50), one Gauss–Newton step each.
        min_scale_px: floor of the residual scale, pixels.
        point_scale: (n,) each point's noise relative to the others (see :func:`fit_head_motion`).
    """
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    centre = np.asarray(centre, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or p.shape != q.shape or z.shape != (len(p),):
        raise ValueError(f"p and q must have shape (n, 2) and z (n,), got {p.shape}, {q.shape} and {z.shape}")
    if not distance_px > 0:
        raise ValueError(f"distance_px must be > 0, got {distance_px}")
    if not 1 <= iterations <= 50:
        raise ValueError(f"iterations must be 1 to 50, got {iterations}")
    sp = np.ones(len(p)) if point_scale is None else np.asarray(point_scale, dtype=np.float64).reshape(-1)
    ok = np.isfinite(p).all(1) & np.isfinite(q).all(1) & np.isfinite(z) & np.isfinite(sp) & (sp > 0)
    p, q, z, sp = p[ok], q[ok], z[ok], sp[ok]
    d = float(distance_px)
    if len(p) < 4:
        return HeadPose3D(np.eye(3), np.zeros(3), centre, d, 0.0, 0.0, None)
    pts = _unproject(p, z, centre, d)
    rot, shift = np.eye(3), np.zeros(3)
    w = np.ones(len(p))
    scale = min_scale_px
    cov = None
    for _ in range(iterations):
        moved = pts @ rot.T + shift
        res = q - (centre + d * moved[:, :2] / (d + moved[:, 2:3]))
        scale, w = _tukey(np.sqrt(res[:, 0] ** 2 + res[:, 1] ** 2) / sp, min_scale_px)
        if np.count_nonzero(w) < 4:
            break
        wn = w / (sp * sp)
        jx, jy = _pose_jacobian(moved, d)
        try:
            cov = np.linalg.inv((jx.T * wn) @ jx + (jy.T * wn) @ jy + 1e-9 * np.eye(6))
        except np.linalg.LinAlgError:
            cov = None
            break
        step = cov @ ((jx.T * wn) @ res[:, 0] + (jy.T * wn) @ res[:, 1])
        rot = _rotation(step[:3]) @ rot
        shift = _rotation(step[:3]) @ shift + step[3:]
        if float(np.abs(step[:3]).max()) * d < 1e-4 and float(np.abs(step[3:]).max()) < 1e-4:
            break
    return HeadPose3D(rot, shift, centre, d, float(np.count_nonzero(w)) / len(w), float(scale), cov)
