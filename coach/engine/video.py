"""Reading video files: frames with timestamps, and one clear error when it fails.

Also the checks an uploaded file passes before it is written anywhere: what it is
is decided by its first bytes (:func:`sniff_video`), never by its name.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from coach.errors import VideoError

DEFAULT_FPS = 30.0
MIN_FPS, MAX_FPS = 1.0, 240.0
MAX_SIDE_PX = 4096  # larger videos are refused
MEASURE_SIDE_PX = 1920  # larger frames are shrunk to this before measuring
HEAD_BYTES = 64  # what sniff_video needs to see of a file

# Container (as sniff_video names it) → the file suffix FFmpeg expects for it.
CONTAINER_SUFFIX = {"mp4": ".mp4", "matroska": ".mkv", "avi": ".avi", "y4m": ".y4m", "ogg": ".ogv"}
CONTAINER_NAMES = "MP4, MOV, WebM, MKV, AVI, Y4M or Ogg"

# ISO base-media brands of still pictures: an ftyp box, but no video.
_PICTURE_BRANDS = {
    **dict.fromkeys([b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"], "HEIC"),
    **dict.fromkeys([b"avif", b"avis"], "AVIF"),
    b"crx ": "Canon raw",
}


def sniff_video(head: bytes) -> str | None:
    """Which video container a file holds, from its first bytes (never its name).

    Args:
        head: the file's first bytes; :data:`HEAD_BYTES` are plenty, fewer than 12 recognise nothing.

    Returns:
        ``"mp4"`` (MP4, MOV, M4V, 3GP: an ISO base-media ``ftyp`` box),
        ``"matroska"`` (MKV, WebM), ``"avi"``, ``"y4m"``, ``"ogg"``, or ``None``
        for anything else (pictures in an ``ftyp`` box, such as HEIC, included).
    """
    head = bytes(head[:HEAD_BYTES])
    if len(head) < 12:
        return None
    if head[4:8] == b"ftyp":
        box_size = int.from_bytes(head[:4], "big")
        return "mp4" if box_size >= 16 and head[8:12] not in _PICTURE_BRANDS else None
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "matroska"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "avi"
    if head.startswith(b"YUV4MPEG2 "):
        return "y4m"
    if head.startswith(b"OggS"):
        return "ogg"
    return None


def sniff_picture(head: bytes) -> str | None:
    """The kind of still picture a file holds (``"PNG"``, ``"JPEG"``…), from its first bytes, or ``None``."""
    head = bytes(head[:HEAD_BYTES])
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head.startswith(b"BM") and len(head) >= 14:
        return "BMP"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "WebP"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "TIFF"
    if head[4:8] == b"ftyp":
        return _PICTURE_BRANDS.get(head[8:12])
    return None


def check_upload(head: bytes, size_bytes: int, max_bytes: int) -> str:
    """Decide whether an uploaded file may be measured, before it is written anywhere.

    Args:
        head: the upload's first bytes (:data:`HEAD_BYTES`).
        size_bytes: its size, bytes.
        max_bytes: the largest size accepted, bytes.

    Returns:
        The container (a key of :data:`CONTAINER_SUFFIX`).

    Raises:
        VideoError: one plain sentence saying why not and what to do instead.
    """
    if size_bytes <= 0:
        raise VideoError("That file is empty. Please choose the video again")
    if size_bytes > max_bytes:
        raise VideoError(
            f"That video is {size_bytes / 2**20:,.0f} MB; please use one under {max_bytes / 2**20:,.0f} MB "
            "(a shorter clip, or a lower resolution)"
        )
    container = sniff_video(head)
    if container is not None:
        return container
    picture = sniff_picture(head)
    if picture is not None:
        raise VideoError(f"That is a picture ({picture}), not a video. Please choose a video of your exercise")
    raise VideoError(f"That file is not a video we can read. Please choose an {CONTAINER_NAMES} video")


def display_name(name: str, max_chars: int = 60) -> str:
    """A user-given file name made safe to show: its last part only, no control characters, not too long.

    It is only ever shown (never used as a path), and still shown as plain text.
    """
    base = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    # Control, format (bidi overrides), unassigned and surrogate characters can disguise a name.
    kept = "".join(c for c in base if not unicodedata.category(c).startswith("C"))
    kept = " ".join(kept.split())
    if len(kept) > max_chars:
        kept = kept[: max_chars - 1] + "…"
    return kept or "your video"


def frame_rate(reported: float) -> float:
    """The frame rate to time frames by: the file's own when it is a usable number, else 30 fps.

    Containers may report 0, NaN, infinity or absurd rates (1000 fps from a
    millisecond time base); timestamps must still increase steadily.
    """
    try:
        fps = float(reported)
    except (TypeError, ValueError):
        return DEFAULT_FPS
    return fps if math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS else DEFAULT_FPS


def _frame_count(reported: float) -> int:
    """The container's frame count as a non-negative int (0 when unknown or nonsense)."""
    try:
        n = float(reported)
    except (TypeError, ValueError):
        return 0
    return int(n) if math.isfinite(n) and 0 < n < 1e9 else 0


def _to_rgb(bgr: np.ndarray) -> np.ndarray:
    if bgr.ndim == 2:
        return cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB)
    if bgr.shape[2] == 4:
        return cv2.cvtColor(bgr, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _decodable(frame: np.ndarray | None) -> bool:
    return (
        frame is not None
        and frame.dtype == np.uint8
        and frame.size > 0
        and (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] in (3, 4)))
    )


@dataclass(frozen=True)
class VideoInfo:
    """What a video file says about itself.

    Attributes:
        fps: frames per second used for timestamps.
        fps_reported: what the file claimed (may be 0 or absurd).
        frame_count: the container's estimate (may be 0 when unknown).
        size_wh: (width, height) in the file, pixels.
        frame_wh: (width, height) of the frames handed out, pixels (smaller
            than ``size_wh`` when the video is larger than the reader's ``max_side_px``).
    """

    path: Path
    fps: float
    fps_reported: float
    frame_count: int
    size_wh: tuple[int, int]
    frame_wh: tuple[int, int]

    @property
    def fps_was_guessed(self) -> bool:
        return self.fps != self.fps_reported

    @property
    def downscaled(self) -> bool:
        return self.frame_wh != self.size_wh


class VideoReader:
    """Frames of a video file as (t_s, RGB uint8), timestamps from the frame rate.

    Args:
        path: the file.
        mirrored: the video is a selfie view (left and right swapped); frames
            are flipped back so sides stay anatomical.
        name: how messages call the file (default: its path), e.g. "This file"
            when the path is a private temporary one.
        max_side_px: frames larger than this on their long side are shrunk to
            it (320 to 4096); measurements are in millimetres, so they keep their scale.

    Raises:
        VideoError: the file is missing, empty, unreadable, not a video, a single
            picture, or larger than 4096 pixels a side.
    """

    def __init__(
        self, path: str | Path, mirrored: bool = False, name: str | None = None, max_side_px: int = MEASURE_SIDE_PX
    ) -> None:
        if not 320 <= max_side_px <= MAX_SIDE_PX:
            raise ValueError(f"max_side_px must be 320 to {MAX_SIDE_PX}, got {max_side_px}")
        p = Path(path)
        shown = str(p) if name is None else name
        if not p.exists():
            raise VideoError(f"No such file: {shown}")
        if not p.is_file():
            raise VideoError(f"Not a file: {shown}")
        try:
            size = p.stat().st_size
            with open(p, "rb"):
                pass
        except OSError as err:
            raise VideoError(f"Cannot read {shown}: {err.strerror}") from None
        if size == 0:
            raise VideoError(f"{shown} is empty (0 bytes)")
        cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
        try:
            if not cap.isOpened():
                raise VideoError(f"{shown} is not a video FaceCoach can read")
            first = self._read(cap, shown, 0)
            if first is None:
                raise VideoError(f"{shown} is not a video FaceCoach can read (no frame could be decoded)")
            second = self._read(cap, shown, 1)
            if second is None:
                raise VideoError(f"{shown} holds a single picture, not a video")
            h, w = first.shape[:2]
            if w > MAX_SIDE_PX or h > MAX_SIDE_PX:
                raise VideoError(f"{shown} is {w}×{h}; videos up to {MAX_SIDE_PX} pixels a side are supported")
        except BaseException:
            cap.release()
            raise
        reported = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        scale = min(1.0, max_side_px / max(w, h))
        frame_wh = (w, h) if scale == 1.0 else (max(1, round(w * scale)), max(1, round(h * scale)))
        self.info = VideoInfo(
            p, frame_rate(reported), reported, _frame_count(cap.get(cv2.CAP_PROP_FRAME_COUNT)), (w, h), frame_wh
        )
        self.mirrored = mirrored
        self.max_side_px = max_side_px
        self._name = shown
        self._cap = cap
        self._pending: list[np.ndarray] = [first, second]

    @staticmethod
    def _read(cap: cv2.VideoCapture, shown: str, index: int) -> np.ndarray | None:
        """The next decoded frame, or None at the end (a damaged tail ends the video there)."""
        try:
            ok, bgr = cap.read()
        except cv2.error:
            raise VideoError(f"{shown} is damaged: frame {index + 1} cannot be decoded") from None
        return bgr if ok and _decodable(bgr) else None

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._cap.release()

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        index = 0
        while True:
            bgr = self._pending.pop(0) if self._pending else self._read(self._cap, self._name, index)
            if bgr is None:
                return
            h, w = bgr.shape[:2]
            if max(w, h) > self.max_side_px:
                s = self.max_side_px / max(w, h)
                bgr = cv2.resize(bgr, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            rgb = _to_rgb(bgr)
            if self.mirrored:
                rgb = np.ascontiguousarray(rgb[:, ::-1])
            yield index / self.info.fps, rgb
            index += 1
