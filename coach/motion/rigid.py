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


def _weighted_fit(p: np.ndarray, q: np.ndarray, w: np.ndarray) -> tuple[float, float, np.ndarray]:
    sw = w.sum()
    pc = (w[:, None] * p).sum(0) / sw
    qc = (w[:, None] * q).sum(0) / sw
    P, Q = p - pc, q - qc
    den = (w * (P * P).sum(1)).sum()
    if den <= 1e-12:
        return 1.0, 0.0, qc - pc
    a = (w * (P[:, 0] * Q[:, 0] + P[:, 1] * Q[:, 1])).sum() / den
    b = (w * (P[:, 0] * Q[:, 1] - P[:, 1] * Q[:, 0])).sum() / den
    t = qc - np.array([a * pc[0] - b * pc[1], b * pc[0] + a * pc[1]])
    return float(a), float(b), t


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
    a, b, t = 1.0, 0.0, np.median(q - p, axis=0)
    w = np.ones(len(p))
    scale = min_scale_px
    for _ in range(iterations):
        r = np.linalg.norm(q - (np.stack([a * p[:, 0] - b * p[:, 1], b * p[:, 0] + a * p[:, 1]], 1) + t), axis=1)
        scale = max(min_scale_px, 1.4826 * float(np.median(r)))
        c = 4.685 * scale
        u = np.clip(r / c, 0.0, 1.0)
        w = (1.0 - u * u) ** 2
        if (w > 0).sum() < 3:
            break
        a, b, t = _weighted_fit(p, q, w)
    inliers = float((w > 0).mean())
    return Similarity(a, b, np.asarray(t, dtype=np.float64), inliers, float(scale))
