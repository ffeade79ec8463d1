"""Reading video files: frames with timestamps, and one clear error when it fails."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from coach.errors import VideoError

DEFAULT_FPS = 30.0
MAX_SIDE_PX = 4096


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself.

    Attributes:
        fps: frames per second used for timestamps.
        fps_reported: what the file claimed (may be 0 or absurd).
        frame_count: the container's estimate (may be 0 when unknown).
        size_wh: (width, height) in pixels.
    """

    path: Path
    fps: float
    fps_reported: float
    frame_count: int
    size_wh: tuple[int, int]

    @property
    def fps_was_guessed(self) -> bool:
        return self.fps != self.fps_reported


class VideoReader:
    """Frames of a video file as (t_s, RGB uint8), timestamps from the frame rate.

    Args:
        path: the file.
        mirrored: the video is a selfie view (left and right swapped); frames
            are flipped back so sides stay anatomical.

    Raises:
        VideoError: the file is missing, empty, unreadable or not a video.
    """

    def __init__(self, path: str | Path, mirrored: bool = False) -> None:
        p = Path(path)
        if not p.exists():
            raise VideoError(f"No such file: {p}")
        if not p.is_file():
            raise VideoError(f"Not a file: {p}")
        try:
            size = p.stat().st_size
            with open(p, "rb"):
                pass
        except OSError as err:
            raise VideoError(f"Cannot read {p}: {err.strerror}") from None
        if size == 0:
            raise VideoError(f"The file {p} is empty")
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise VideoError(f"{p} is not a video FaceCoach can read")
        ok, first = cap.read()
        if not ok or first is None or first.ndim != 3:
            cap.release()
            raise VideoError(f"{p} is not a video FaceCoach can read (no frame could be decoded)")
        ok2, second = cap.read()
        if not ok2:
            cap.release()
            raise VideoError(f"{p} holds a single picture, not a video")
        h, w = first.shape[:2]
        if w > MAX_SIDE_PX or h > MAX_SIDE_PX:
            cap.release()
            raise VideoError(f"{p} is {w}×{h}; videos up to {MAX_SIDE_PX} pixels a side are supported")
        reported = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        fps = reported if math.isfinite(reported) and 1.0 <= reported <= 240.0 else DEFAULT_FPS
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.info = VideoInfo(p, fps, reported, max(0, count), (w, h))
        self.mirrored = mirrored
        self._cap = cap
        self._pending: list[np.ndarray] = [first, second]

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._cap.release()

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        index = 0
        while True:
            if self._pending:
                bgr = self._pending.pop(0)
            else:
                ok, bgr = self._cap.read()
                if not ok or bgr is None:
                    return
            rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            if self.mirrored:
                rgb = np.ascontiguousarray(rgb[:, ::-1])
            yield index / self.info.fps, rgb
            index += 1
