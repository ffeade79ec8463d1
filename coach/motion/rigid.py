"""Robust similarity fit between point sets (pure NumPy, deterministic)."""

from __future__ import annotations

from dataclasses import dataclass

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
