"""A camera file whose frames say their own index, to check what reaches the server.

Each frame carries its index as a row of black/white blocks along the top edge
(bit 0 leftmost), big enough to survive the browser's VP8/H.264 encoding.
Plain NumPy, so the probe app can import it without the engine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

N_BITS = 10
BLOCK_WH = (32, 24)  # one bit, pixels
_LOW, _HIGH = 16, 235  # video-range luma


def write_index_y4m(path: str | Path, n_frames: int = 90, size_wh: tuple[int, int] = (320, 240), fps: int = 30) -> Path:
    """Write an I420 YUV4MPEG2 file (what Chromium's fake camera plays) of numbered grey frames.

    Args:
        path: output file; must end in ``.y4m``.
        n_frames: 1 to 2**N_BITS frames.
        size_wh: frame size, pixels; even, and wide enough for the code.
        fps: frames per second.
    """
    path = Path(path)
    w, h = size_wh
    if path.suffix != ".y4m":
        raise ValueError(f"path must end in .y4m, got {path.name!r}")
    if not 1 <= n_frames <= 2**N_BITS:
        raise ValueError(f"n_frames must be in [1, {2**N_BITS}], got {n_frames}")
    if w % 2 or h % 2 or w < N_BITS * BLOCK_WH[0] or h < 2 * BLOCK_WH[1]:
        raise ValueError(f"size_wh must be even and at least {(N_BITS * BLOCK_WH[0], 2 * BLOCK_WH[1])}, got {size_wh}")
    bw, bh = BLOCK_WH
    chroma = np.full(w * h // 2, 128, np.uint8).tobytes()
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for i in range(n_frames):
            y = np.full((h, w), 60 + (i * 3) % 120, np.uint8)  # the body changes too, as a real camera's does
            for b in range(N_BITS):
                y[:bh, b * bw : (b + 1) * bw] = _HIGH if (i >> b) & 1 else _LOW
            f.write(b"FRAME\n")
            f.write(y.tobytes())
            f.write(chroma)
    return path


def read_index(gray: np.ndarray) -> int | None:
    """The index written by :func:`write_index_y4m`, from a decoded frame.

    Args:
        gray: (h, w) uint8 luma of the received frame, same size as written.

    Returns:
        The frame index, or None when the top row holds no code (e.g. another camera).
    """
    bw, bh = BLOCK_WH
    if gray.ndim != 2 or gray.shape[1] < N_BITS * bw or gray.shape[0] < bh:
        return None
    index = 0
    for b in range(N_BITS):
        centre = gray[bh // 4 : 3 * bh // 4, b * bw + bw // 4 : (b + 1) * bw - bw // 4].astype(np.float32)
        level = float(centre.mean())
        if abs(level - (_LOW + _HIGH) / 2) < 50 or float(centre.std()) > 30:
            return None  # not a clean block: not our code
        index |= int(level > (_LOW + _HIGH) / 2) << b
    return index
