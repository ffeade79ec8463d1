"""The only module that talks to MediaPipe: frames in, face observations out.

One :class:`FaceTracker` per video stream. MediaPipe's VIDEO mode keeps tracking
state between frames and needs strictly increasing timestamps, so a tracker must
never be shared by two streams; the model bytes can be.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator

import numpy as np

from coach.engine.model import ModelFile, resolve_model
from coach.engine.observation import FaceObservation

MAX_FACES = 3
FOLLOW_SHARE = 0.5  # a face within half its width of where the followed one was is the same person
# Frames in a row in which another face alone is not taken for the followed one (the
# followed face missed for a moment); after that it is followed (the patient may have moved fast).
FOLLOW_PATIENCE = 3


@contextlib.contextmanager
def _native_stderr_silenced() -> Iterator[None]:
    """Hide MediaPipe's C++ start-up chatter (it writes straight to fd 2)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def create_landmarker(model: ModelFile, max_faces: int = MAX_FACES, min_confidence: float = 0.5):  # noqa: ANN201
    """A bare MediaPipe FaceLandmarker in VIDEO mode, with the options :class:`FaceTracker` uses.

    (Also what ``benchmarks/live.py`` times as "bare MediaPipe".) Close it after use.
    """
    from mediapipe.tasks.python import BaseOptions, vision

    options = vision.FaceLandmarkerOptions(
        base_options=BaseOptions(model_asset_buffer=model.data),
        running_mode=vision.RunningMode.VIDEO,
        num_faces=max_faces,
        min_face_detection_confidence=min_confidence,
        min_face_presence_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
        output_face_blendshapes=True,
        output_facial_transformation_matrixes=True,
    )
    with _native_stderr_silenced():
        return vision.FaceLandmarker.create_from_options(options)


class FaceTracker:
    """MediaPipe Face Landmarker in VIDEO mode.

    Args:
        model: a verified model; resolved with :func:`coach.engine.model.resolve_model`
            when omitted.
        max_faces: faces to look for; the largest is measured (1 to 5).
        min_confidence: detection, presence and tracking confidence (0.1 to 0.95).

    Use as a context manager, or call :meth:`close`.
    """

    def __init__(
        self,
        model: ModelFile | None = None,
        max_faces: int = MAX_FACES,
        min_confidence: float = 0.5,
    ) -> None:
        if not 1 <= max_faces <= 5:
            raise ValueError(f"max_faces must be 1 to 5, got {max_faces}")
        if not 0.1 <= min_confidence <= 0.95:
            raise ValueError(f"min_confidence must be 0.1 to 0.95, got {min_confidence}")
        self._model = model or resolve_model()
        self._landmarker = create_landmarker(self._model, max_faces, min_confidence)
        self._last_ms = -1
        self._followed: tuple[np.ndarray, float] | None = None  # centre (px) and width of the face followed
        self._missed = 0  # frames in a row where only other faces were seen
        self._closed = False
        self._warmed = False

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release MediaPipe's graph. Safe to call twice."""
        if not self._closed:
            self._closed = True
            self._landmarker.close()

    def __del__(self) -> None:
        # MediaPipe's own finaliser fails at interpreter shutdown; close early.
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing useful to do at teardown
            pass

    def _choose(self, faces: list[np.ndarray]) -> int:
        """Which face to follow: the one where the followed face was, else the largest.

        With two people in view the measured face must not jump to the other one when
        they come closer: the face whose centre is within ``FOLLOW_SHARE`` of the followed
        face's width of where it was last seen is kept. When only faces elsewhere are
        found, none is measured for up to ``FOLLOW_PATIENCE`` frames (-1), then the largest
        is followed.
        """
        centres = [f[:, :2].mean(axis=0) for f in faces]
        widths = [float(f[:, 0].max() - f[:, 0].min()) for f in faces]
        best = int(np.argmax(widths))
        if self._followed is not None:
            centre, width = self._followed
            gaps = [float(np.linalg.norm(c - centre)) for c in centres]
            near = int(np.argmin(gaps))
            if gaps[near] <= FOLLOW_SHARE * width:
                best = near
            elif self._missed < FOLLOW_PATIENCE:
                # Only someone else is in view (the followed face was missed in this
                # frame): not measured; the followed face is looked for again next frame.
                self._missed += 1
                return -1
        self._missed = 0
        self._followed = (centres[best], widths[best])
        return best

    def update(self, frame_rgb: np.ndarray, t_s: float) -> FaceObservation | None:
        """Find the followed face in one frame (at first, and when it is lost, the largest).

        Args:
            frame_rgb: (H, W, 3) uint8 RGB image, unmirrored.
            t_s: the frame's timestamp in seconds. Timestamps that do not
                increase are nudged forward by 1 ms (MediaPipe refuses them).

        Returns:
            The followed face, or ``None`` when no face is found.
        """
        if self._closed:
            raise RuntimeError("FaceTracker.update called after close()")
        frame = np.asarray(frame_rgb)
        if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
            raise ValueError(f"frame_rgb: expected (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
        import mediapipe as mp

        t_ms = max(int(round(t_s * 1000.0)), self._last_ms + 1)
        self._last_ms = t_ms
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(frame))
        if not self._warmed:
            # The first inference logs delegate set-up messages; keep them quiet too.
            with _native_stderr_silenced():
                result = self._landmarker.detect_for_video(image, t_ms)
            self._warmed = True
        else:
            result = self._landmarker.detect_for_video(image, t_ms)
        if not result.face_landmarks:
            self._followed = None
            return None
        h, w = frame.shape[:2]
        scale = np.array([w, h, w], dtype=np.float64)
        faces = [np.array([(p.x, p.y, p.z) for p in face], dtype=np.float64) * scale for face in result.face_landmarks]
        best = self._choose(faces)
        if best < 0:
            return None
        blend: dict[str, float] = {}
        if result.face_blendshapes and len(result.face_blendshapes) > best:
            blend = {c.category_name: float(c.score) for c in result.face_blendshapes[best]}
        pose = None
        if result.facial_transformation_matrixes and len(result.facial_transformation_matrixes) > best:
            pose = np.asarray(result.facial_transformation_matrixes[best], dtype=np.float64)
        return FaceObservation(
            t_s=float(t_s),
            landmarks_px=faces[best],
            blendshapes=blend,
            pose=pose,
            image_wh=(w, h),
            faces_seen=len(faces),
        )
