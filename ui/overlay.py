"""What the patient sees during a live session: their video (or a simple face) with the coach on top.

Two views share one heads-up display (per-side progress bars toward the
target, the cue, the hold countdown, the rep counter and gentle warnings):

* :func:`draw_overlay` draws it on the camera frame, shown as a mirror by default;
* :func:`draw_simple_face` draws it around a schematic face, for patients who
  would rather not see themselves.

Sides in the data are anatomical (the patient's left mouth corner is landmark
291, on the image's right in an unmirrored frame). Mirroring happens here, for
display only: in a mirror view the patient's left is on the screen's left.
Text is ASCII only (OpenCV's fonts have nothing else) and scales with the frame.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

from coach.engine import landmarks as L
from coach.engine.exercise import ExerciseSpec
from coach.engine.face_frame import eye_centers_px, face_frame
from coach.engine.measurer import NO_FACE
from coach.engine.observation import FaceObservation
from coach.errors import FaceCoachError
from coach.live.coach import LiveSnapshot, frame_brightness
from coach.sessions.cues import Cue, LiveFeedback, SessionUpdate
from coach.sessions.plan import DONE
from ui.annotate import LEFT_COLOUR, RIGHT_COLOUR

SIDE_COLOUR = {"left": LEFT_COLOUR, "right": RIGHT_COLOUR}  # RGB
BAND_COLOUR = (70, 200, 110)  # the target band
WARN_COLOUR = (255, 196, 70)  # gentle amber
WHITE = (255, 255, 255)
INK = (20, 20, 24)
FACE_BACKGROUND = (232, 228, 222)
FACE_LINE = (70, 72, 80)

TARGET_BAND = (0.8, 1.2)  # progress (value ÷ target) that counts as on target
BAR_FULL = 1.5  # progress that fills a bar
NO_TARGET_FULL = {"mm": 10.0, "%": 100.0}  # what fills a bar when the exercise has no target
TOO_DARK = 55.0  # mean grey level below which we ask for more light
TOO_DARK_TEXT = "It's a bit dark: add light in front of you"
NO_FACE_TEXT = "We can't see your face"

FONT = cv2.FONT_HERSHEY_DUPLEX
_ASCII = {
    "\u2026": "...",
    "\u2013": "-",
    "\u2014": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u00f7": "/",
    "\u00d7": "x",
    "\u00b0": " deg",
}

State = LiveSnapshot | SessionUpdate | None


@dataclass(frozen=True)
class _View:
    """What to draw, gathered from a snapshot or an update."""

    cue: Cue | None
    feedback: LiveFeedback | None
    status: str | None
    observation: FaceObservation | None
    exercise: ExerciseSpec | None
    brightness: float | None
    done: bool


def ascii_text(text: str) -> str:
    """``text`` with typographic characters replaced and anything else non-ASCII dropped."""
    for k, v in _ASCII.items():
        text = text.replace(k, v)
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _view_of(
    state: State, observation: FaceObservation | None, exercise: ExerciseSpec | None, brightness: float | None
) -> _View:
    if isinstance(state, LiveSnapshot):
        return _View(
            state.cue,
            state.feedback,
            state.status,
            observation if observation is not None else state.last_observation,
            exercise if exercise is not None else state.exercise,
            brightness if brightness is not None else state.brightness,
            state.done,
        )
    if isinstance(state, SessionUpdate):
        upd = state
        if exercise is None:
            exercise = _exercise_for(upd.cue)
        return _View(
            upd.cue, upd.feedback, upd.measures.status, observation, exercise, brightness, upd.cue.phase == DONE
        )
    if state is not None:
        raise TypeError(f"state: expected a LiveSnapshot, a SessionUpdate or None, got {type(state).__name__}")
    return _View(None, None, None, observation, exercise, brightness, False)


def _exercise_for(cue: Cue) -> ExerciseSpec | None:
    # An update does not carry its exercise; the library's has the same measure and target.
    from exercises import get_exercise

    try:
        return get_exercise(cue.exercise_id)
    except FaceCoachError:
        return None


# -- public views -------------------------------------------------------------------------------
def draw_overlay(
    frame_rgb: np.ndarray,
    state: State,
    mirror: bool = True,
    *,
    observation: FaceObservation | None = None,
    exercise: ExerciseSpec | None = None,
) -> np.ndarray:
    """The patient's camera view with the coach drawn on it.

    Args:
        frame_rgb: (H, W, 3) uint8 RGB frame as the camera gave it (unmirrored).
        state: a :class:`LiveSnapshot` (its last observation and exercise are
            used), a :class:`SessionUpdate`, or None before anything is known.
        mirror: show the frame as a mirror (the patient's left on the screen's left).
        observation: the face to mark (default: the snapshot's); its landmarks
            are scaled if it was found in a frame of another size.
        exercise: the exercise (default: the snapshot's, or the library's for an update).

    Returns:
        A new (H, W, 3) uint8 RGB image.
    """
    frame = np.asarray(frame_rgb)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"frame_rgb: expected (H, W, 3) uint8, got {frame.shape} {frame.dtype}")
    h, w = frame.shape[:2]
    img = cv2.flip(frame, 1) if mirror else frame.copy()
    view = _view_of(state, observation, exercise, frame_brightness(frame))
    obs = view.observation
    if obs is not None and obs.finite:
        ow, oh = obs.image_wh if all(obs.image_wh) else (w, h)
        xy = obs.xy * np.array([w / ow, h / oh])
        if mirror:
            xy = xy * np.array([-1.0, 1.0]) + np.array([w - 1.0, 0.0])
        _draw_marks(img, xy, view.exercise, max(2.0, obs.width_px() * w / ow / 70.0))
    _draw_hud(img, view, mirror)
    return img


def draw_simple_face(
    state: State,
    size_wh: tuple[int, int] = (640, 480),
    mirror: bool = True,
    *,
    observation: FaceObservation | None = None,
    exercise: ExerciseSpec | None = None,
) -> np.ndarray:
    """A schematic face that moves like the patient's, with the same coach on top.

    The face is drawn upright and centred from the landmarks (head tilt,
    position and size removed), so only the face's own movement shows.

    Args:
        state: as for :func:`draw_overlay`.
        size_wh: output size, pixels.
        mirror: draw it as a mirror image (the patient's left on the screen's left).
        observation, exercise: as for :func:`draw_overlay`.

    Returns:
        A new (H, W, 3) uint8 RGB image.
    """
    w, h = (int(v) for v in size_wh)
    if not (32 <= w <= 8192 and 32 <= h <= 8192):
        raise ValueError(f"size_wh must be within 32..8192 each, got {size_wh}")
    img = np.empty((h, w, 3), np.uint8)
    img[:] = FACE_BACKGROUND
    view = _view_of(state, observation, exercise, None)
    # The face fills the space between the bars, above the cue. In eye distances a
    # face spans ~0.8 above the eyes to ~1.8 below them, and ~2.2 across.
    s = _scale_of(w, h)
    top, bottom = int(60 * s), h - _cue_band_max_h(s) - int(8 * s)
    unit = min((bottom - top) / 2.75, (w - 2 * int(90 * s)) / 2.3)
    cx, cy = w / 2.0, (top + bottom) / 2.0 - 0.49 * unit
    xy = _schematic_xy(view.observation)
    if xy is None:
        axes = (int(unit * 1.1), int(unit * 1.3))
        centre = (int(cx), int(cy + 0.49 * unit))
        cv2.ellipse(img, centre, axes, 0, 0, 360, (190, 188, 186), max(2, int(unit / 40)), cv2.LINE_AA)
    else:
        px = np.stack([cx + (-1.0 if mirror else 1.0) * xy[:, 0] * unit, cy - xy[:, 1] * unit], axis=1)
        _draw_schematic(img, px, unit)
        _draw_marks(img, px, view.exercise, max(3.0, unit / 16.0))
    _draw_hud(img, view, mirror)
    return img


def _schematic_xy(obs: FaceObservation | None) -> np.ndarray | None:
    """(478, 2) landmarks in eye distances: x to the patient's left, y up, origin between the eyes."""
    if obs is None or not obs.finite:
        return None
    eyes = eye_centers_px(obs.xy)
    dist = float(np.linalg.norm(eyes["left"] - eyes["right"]))
    if dist < 1e-6:
        return None
    try:
        return face_frame(obs.xy, None, px_per_mm=dist).to_mm(obs.xy)
    except ValueError:
        return None


def _draw_schematic(img: np.ndarray, px: np.ndarray, unit: float) -> None:
    th = max(2, int(round(unit / 45.0)))

    def poly(idx: tuple[int, ...], closed: bool, colour: tuple[int, int, int] = FACE_LINE, t: int = th) -> None:
        pts = np.round(px[list(idx)] * 16).astype(np.int32)
        cv2.polylines(img, [pts], closed, colour, t, cv2.LINE_AA, shift=4)

    oval = np.round(px[list(L.FACE_OVAL)] * 16).astype(np.int32)
    cv2.fillPoly(img, [oval], (246, 240, 232), cv2.LINE_AA, shift=4)
    poly(L.FACE_OVAL, True)
    for side in L.SIDES:
        poly(L.BROW_CONTOUR[side], True, FACE_LINE, th)
        eye = np.round(px[list(L.EYE_CONTOUR[side])] * 16).astype(np.int32)
        cv2.fillPoly(img, [eye], WHITE, cv2.LINE_AA, shift=4)
        iris = px[L.IRIS_CENTER[side]]
        a, b = L.IRIS_HORIZONTAL[side]
        r = 0.5 * float(np.linalg.norm(px[a] - px[b]))
        # Clip the iris to the eye opening (so a closing eye covers it), within the eye's box only.
        x, y, bw, bh = cv2.boundingRect(eye >> 4)
        box = _roi(img, x - 1, y - 1, x + bw + 2, y + bh + 2)
        if box is not None:
            bx, by, roi = box
            mask = np.zeros(roi.shape[:2], np.uint8)
            cv2.fillPoly(mask, [eye - np.int32([bx * 16, by * 16])], 255, cv2.LINE_AA, shift=4)
            disc = np.zeros_like(mask)
            centre = (int(round(iris[0])) - bx, int(round(iris[1])) - by)
            cv2.circle(disc, centre, max(2, int(round(r))), 255, -1, cv2.LINE_AA)
            roi[(mask > 0) & (disc > 0)] = (95, 110, 130)
        poly(L.EYE_CONTOUR[side], True)
    poly(L.NOSE_LINE, False)
    poly(L.NOSE_BASE, False)
    lips = np.round(px[list(L.LIPS_OUTER)] * 16).astype(np.int32)
    cv2.fillPoly(img, [lips], (214, 150, 150), cv2.LINE_AA, shift=4)
    inner = np.round(px[list(L.LIPS_INNER)] * 16).astype(np.int32)
    cv2.fillPoly(img, [inner], (120, 60, 66), cv2.LINE_AA, shift=4)
    poly(L.LIPS_OUTER, True)


# -- markers on the face ------------------------------------------------------------------------
def _draw_marks(img: np.ndarray, xy: np.ndarray, ex: ExerciseSpec | None, r: float) -> None:
    """Mark the points the exercise is about, in each side's colour. ``xy``: (478, 2) screen pixels."""
    measure = ex.measure if ex is not None else "mouth_corner"
    eyes = measure == "eye_closure" or (ex is not None and ex.watch == "eye")
    mouth_r = r if measure.startswith(("mouth", "corner")) else r * 0.7
    for side in L.SIDES:
        colour = SIDE_COLOUR[side]
        if eyes:
            main = measure == "eye_closure"
            pts = np.round(xy[list(L.EYE_CONTOUR[side])] * 16).astype(np.int32)
            t = max(1, int(round(r / (2.5 if main else 4.0))))
            cv2.polylines(img, [pts], True, colour, t, cv2.LINE_AA, shift=4)
        if measure == "brow":
            pts = np.round(xy[list(L.BROW_CONTOUR[side][:5])] * 16).astype(np.int32)
            cv2.polylines(img, [pts], False, colour, max(2, int(round(r / 2.5))), cv2.LINE_AA, shift=4)
            _dot(img, xy[L.MID_BROW[side]], r, colour)
        if measure == "nose_ala":
            _dot(img, xy[L.NOSE_ALA[side]], r * 0.8, colour)
        _dot(img, xy[L.MOUTH_CORNER[side]], mouth_r, colour)


def _dot(img: np.ndarray, p: np.ndarray, r: float, colour: tuple[int, int, int]) -> None:
    c = (int(round(p[0] * 16)), int(round(p[1] * 16)))
    rr = int(round(r * 16))
    cv2.circle(img, c, rr + 24, WHITE, -1, cv2.LINE_AA, shift=4)
    cv2.circle(img, c, rr, colour, -1, cv2.LINE_AA, shift=4)


# -- the heads-up display -----------------------------------------------------------------------
CUE_SCALE = 1.1  # at 640 × 480; everything scales with the frame
CUE_PAD = 14
LINE_GAP = 0.45  # between two cue lines, of a line's height


def _scale_of(w: int, h: int) -> float:
    return min(w / 640.0, h / 480.0)


def _cue_band_max_h(s: float) -> int:
    """Height of the cue band with two lines of text (the most it wraps to)."""
    line_h = cv2.getTextSize("Ag", FONT, CUE_SCALE * s, _cue_thickness(s))[0][1]
    return int(2 * line_h + LINE_GAP * line_h + 2 * CUE_PAD * s)


def _cue_thickness(s: float) -> int:
    return max(1, int(round(2.0 * s)))


def _draw_hud(img: np.ndarray, view: _View, mirror: bool) -> None:
    h, w = img.shape[:2]
    s = _scale_of(w, h)
    cue_top = _draw_cue(img, view, s)
    _draw_bars(img, view, mirror, s)
    _draw_countdown(img, view, s)
    # The counter always leaves room for the countdown, so it never changes size mid-rep.
    _draw_counter(img, view, s, w // 2 - _countdown_radius(s) - int(12 * s))
    _draw_warnings(img, _warnings(view), s, cue_top)


def overlay_messages(state: State, frame_rgb: np.ndarray | None = None) -> list[str]:
    """The gentle prompts the overlay shows (at most three), e.g. to repeat them as text.

    Args:
        state: as for :func:`draw_overlay`.
        frame_rgb: the frame, for the "too dark" check (default: the snapshot's brightness).
    """
    brightness = frame_brightness(frame_rgb) if frame_rgb is not None else None
    return _warnings(_view_of(state, None, None, brightness))


def _warnings(view: _View) -> list[str]:
    msgs = list(view.feedback.messages) if view.feedback is not None else []
    if view.status == NO_FACE and NO_FACE_TEXT not in msgs:
        msgs.append(NO_FACE_TEXT)
    if view.brightness is not None and view.brightness < TOO_DARK:
        msgs.append(TOO_DARK_TEXT)
    if view.done:
        return []
    said = _cue_text(view).lower()
    out: list[str] = []
    for m in msgs:
        if m not in out and m.lower() not in said:
            out.append(m)
    return out[:3]


def _cue_text(view: _View) -> str:
    cue = view.cue
    if cue is None:
        return "Getting ready..." if not view.done else "All done. Well done!"
    return ascii_text(cue.words).strip().rstrip(".")  # the countdown is drawn big on its own


def _draw_cue(img: np.ndarray, view: _View, s: float) -> int:
    """The cue in large letters on a dark band at the bottom; returns the band's top."""
    h, w = img.shape[:2]
    text = _cue_text(view)
    margin = int(20 * s)
    lines, scale, th = _fit(text, w - 2 * margin, CUE_SCALE * s, _cue_thickness(s))
    line_h = cv2.getTextSize("Ag", FONT, scale, th)[0][1]
    gap = int(line_h * LINE_GAP)
    band_h = len(lines) * line_h + (len(lines) - 1) * gap + 2 * int(CUE_PAD * s)
    top = h - band_h
    _shade(img, 0, top, w, h, INK, 0.62)
    y = top + int(CUE_PAD * s) + line_h
    for line in lines:
        tw = cv2.getTextSize(line, FONT, scale, th)[0][0]
        cv2.putText(img, line, ((w - tw) // 2, y), FONT, scale, WHITE, th, cv2.LINE_AA)
        y += line_h + gap
    return top


def _fit(text: str, width: int, scale: float, th: int) -> tuple[list[str], float, int]:
    """Lines and scale so ``text`` fits ``width``: shrink a little, then wrap onto two lines."""
    for sc in (scale, scale * 0.85):
        if cv2.getTextSize(text, FONT, sc, th)[0][0] <= width:
            return [text], sc, th
    words = text.split()
    best = [text]
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(best) == 1 or max(len(a), len(b)) < max(len(x) for x in best):
            best = [a, b]
    sc = scale
    while sc > 0.3 and max(cv2.getTextSize(x, FONT, sc, th)[0][0] for x in best) > width:
        sc *= 0.92
    return best, sc, th


def _bar_geometry(w: int, h: int, s: float) -> tuple[int, int, int, int]:
    """(bar width, side margin, top, bottom), pixels; the same whatever the cue says."""
    bw = int(round(30 * s))
    top = int(128 * s)  # below a two-line rep counter
    bottom = h - _cue_band_max_h(s) - int(40 * s)
    return bw, int(16 * s), top, max(top + 20, bottom)


def _draw_bars(img: np.ndarray, view: _View, mirror: bool, s: float) -> None:
    """One vertical bar per side: movement toward the target, the target band shaded."""
    h, w = img.shape[:2]
    bw, margin, top, bottom = _bar_geometry(w, h, s)
    bh = bottom - top
    fb = view.feedback
    unit = view.exercise.measure_def.unit if view.exercise is not None else "mm"
    has_target = view.exercise is None or view.exercise.target > 0
    lab_scale, lab_th = 0.72 * s, max(1, int(round(1.6 * s)))
    for side in L.SIDES:
        # In a mirror the patient's left is on the screen's left.
        on_left = (side == "left") == mirror
        x0 = margin if on_left else w - margin - bw
        x1 = x0 + bw
        _shade(img, x0, top, x1, bottom, INK, 0.55)
        frac = None
        in_band = False
        if fb is not None and fb.progress is not None:
            p = fb.progress[side]
            frac = p / BAR_FULL
            in_band = TARGET_BAND[0] <= p <= TARGET_BAND[1]
        elif fb is not None and fb.value is not None:
            frac = fb.value[side] / NO_TARGET_FULL.get(unit, 10.0)
        if has_target:
            y_hi = bottom - int(bh * TARGET_BAND[1] / BAR_FULL)
            y_lo = bottom - int(bh * TARGET_BAND[0] / BAR_FULL)
            _shade(img, x0 - int(4 * s), y_hi, x1 + int(4 * s), y_lo, BAND_COLOUR, 0.45)
            y_t = bottom - int(bh / BAR_FULL)
            cv2.line(img, (x0 - int(6 * s), y_t), (x1 + int(6 * s), y_t), BAND_COLOUR, max(1, int(2 * s)), cv2.LINE_AA)
        if frac is not None and math.isfinite(frac):
            y = bottom - int(round(bh * min(1.0, max(0.0, frac))))
            pad = max(2, int(4 * s))
            if y < bottom - 1:
                cv2.rectangle(img, (x0 + pad, y), (x1 - pad, bottom - pad), SIDE_COLOUR[side], -1)
        edge = BAND_COLOUR if in_band else WHITE
        cv2.rectangle(img, (x0, top), (x1, bottom), edge, max(1, int(round((3 if in_band else 1.5) * s))))
        label = "Left" if side == "left" else "Right"
        _label(img, label, x0, x1, top - int(10 * s), on_left, lab_scale, lab_th, INK, SIDE_COLOUR[side])
        if fb is not None and fb.value is not None and math.isfinite(fb.value[side]):
            v = fb.value[side]
            txt = f"{v:.0f} %" if unit == "%" else f"{v:.1f} {unit}"
            _label(img, txt, x0, x1, bottom + int(24 * s), on_left, 0.6 * s, max(1, int(round(1.3 * s))), WHITE, INK)


def _label(
    img: np.ndarray,
    text: str,
    x0: int,
    x1: int,
    baseline: int,
    on_left: bool,
    scale: float,
    th: int,
    colour: tuple[int, int, int],
    backing: tuple[int, int, int],
) -> None:
    """Text by a bar, kept inside the frame: left-aligned on the left edge, right-aligned on the right."""
    (tw, t_h), _ = cv2.getTextSize(text, FONT, scale, th)
    x = x0 if on_left else x1 - tw
    pad = max(2, int(t_h * 0.35))
    _shade(img, x - pad, baseline - t_h - pad, x + tw + pad, baseline + pad, backing, 0.85 if backing != INK else 0.6)
    cv2.putText(img, text, (x, baseline), FONT, scale, colour, th, cv2.LINE_AA)


def _draw_counter(img: np.ndarray, view: _View, s: float, max_right: int) -> None:
    """The rep counter ("Gentle smile  2 of 5") at the top left, ending before ``max_right``.

    A long name goes on a line of its own above "2 of 5"; only then is it shrunk.
    """
    cue = view.cue
    if cue is None or view.done:
        return
    name, count = ascii_text(cue.exercise_name), f"{cue.rep} of {cue.reps}"
    scale, th = 0.8 * s, max(1, int(round(1.8 * s)))
    room = max(1, max_right - int(24 * s))
    lines = [f"{name}  {count}"]
    if cv2.getTextSize(lines[0], FONT, scale, th)[0][0] > room:
        lines = [name, count]
        widest = max(cv2.getTextSize(t, FONT, scale, th)[0][0] for t in lines)
        if widest > room:
            scale *= room / widest
    sizes = [cv2.getTextSize(t, FONT, scale, th)[0] for t in lines]
    t_h = sizes[0][1]
    gap = int(0.6 * t_h)
    x, y = int(16 * s), int(16 * s) + t_h
    pad = int(8 * s)
    bottom = y + (len(lines) - 1) * (t_h + gap)
    _shade(img, x - pad, y - t_h - pad, x + max(w for w, _ in sizes) + pad, bottom + pad + int(4 * s), INK, 0.55)
    for text in lines:
        cv2.putText(img, text, (x, y), FONT, scale, WHITE, th, cv2.LINE_AA)
        y += t_h + gap


COUNTDOWN_SCALE = 2.4


def _countdown_radius(s: float) -> int:
    (tw, t_h), _ = cv2.getTextSize("8", FONT, COUNTDOWN_SCALE * s, max(2, int(round(5 * s))))
    return int(max(tw, t_h) * 0.5 + 18 * s)


def _draw_countdown(img: np.ndarray, view: _View, s: float) -> None:
    """The seconds left in a hold, big, in a disc at the top centre."""
    if view.cue is None or view.cue.countdown is None or view.done:
        return
    h, w = img.shape[:2]
    text = str(view.cue.countdown)
    r = _countdown_radius(s)
    scale, th = COUNTDOWN_SCALE * s, max(2, int(round(5 * s)))
    (tw, t_h), _ = cv2.getTextSize(text, FONT, scale, th)
    if tw > 1.5 * r:  # two digits
        scale *= 1.5 * r / tw
        (tw, t_h), _ = cv2.getTextSize(text, FONT, scale, th)
    c = (w // 2, int(10 * s) + r)
    overlay_roi = _roi(img, c[0] - r, c[1] - r, c[0] + r + 1, c[1] + r + 1)
    if overlay_roi is not None:
        x0, y0, roi = overlay_roi
        disc = roi.copy()
        cv2.circle(disc, (c[0] - x0, c[1] - y0), r, INK, -1, cv2.LINE_AA)
        roi[...] = cv2.addWeighted(disc, 0.62, roi, 0.38, 0.0)
    cv2.circle(img, c, r, BAND_COLOUR, max(2, int(3 * s)), cv2.LINE_AA)
    cv2.putText(img, text, (c[0] - tw // 2, c[1] + t_h // 2), FONT, scale, WHITE, th, cv2.LINE_AA)


def _draw_warnings(img: np.ndarray, msgs: list[str], s: float, cue_top: int) -> None:
    """Gentle prompts, stacked just above the cue band."""
    h, w = img.shape[:2]
    scale, th = 0.72 * s, max(1, int(round(1.6 * s)))
    y = cue_top - int(12 * s)
    for m in reversed(msgs):
        text = ascii_text(m)
        (tw, t_h), _ = cv2.getTextSize(text, FONT, scale, th)
        if tw > w - int(140 * s):
            scale_m = scale * (w - int(140 * s)) / tw
            (tw, t_h), _ = cv2.getTextSize(text, FONT, scale_m, th)
        else:
            scale_m = scale
        pad = int(9 * s)
        x = (w - tw) // 2
        _shade(img, x - pad, y - t_h - pad, x + tw + pad, y + pad, WARN_COLOUR, 0.88)
        cv2.putText(img, text, (x, y), FONT, scale_m, INK, th, cv2.LINE_AA)
        y -= t_h + 2 * pad + int(8 * s)


# -- small drawing helpers ----------------------------------------------------------------------
def _roi(img: np.ndarray, x0: int, y0: int, x1: int, y1: int) -> tuple[int, int, np.ndarray] | None:
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, img[y0:y1, x0:x1]


def _shade(img: np.ndarray, x0: int, y0: int, x1: int, y1: int, colour: tuple[int, int, int], alpha: float) -> None:
    """Blend a filled rectangle into ``img`` in place (only the rectangle is touched)."""
    r = _roi(img, x0, y0, x1, y1)
    if r is None:
        return
    roi = r[2]
    solid = np.empty_like(roi)
    solid[:] = colour
    roi[...] = cv2.addWeighted(roi, 1.0 - alpha, solid, alpha, 0.0)
