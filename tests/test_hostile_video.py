"""Messy and hostile video input: uploads judged by content, odd containers, odd sizes and rates.

What the patient sees for each case is listed in docs/research.md ("Bad inputs tried").
"""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import struct
import tempfile
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coach.engine.analysis import Analyzer
from coach.engine.video import (
    CONTAINER_SUFFIX,
    DEFAULT_FPS,
    HEAD_BYTES,
    MAX_SIDE_PX,
    VideoReader,
    _frame_count,
    check_upload,
    display_name,
    frame_rate,
    sniff_video,
)
from coach.errors import VideoError
from coach.virtual.phantom import PhantomRenderer, Schedule, smile_phantom, write_video
from tests.test_cli import run_cli
from tests.test_hostile_frames import dim

ONE_REP = Schedule(lead_in_s=1.2, rise_s=0.8, hold_s=1.2, release_s=0.8, rest_s=1.0, reps=1)
MB = 2**20
no_db = settings(database=None, max_examples=200, deadline=None)


def write_avi(path: Path, size_wh: tuple[int, int], frames: int, fps: float = 30.0) -> Path:
    """An MJPEG AVI of flat grey frames (no face)."""
    w, h = size_wh
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert writer.isOpened()
    for i in range(frames):
        writer.write(np.full((h, w, 3), 90 + i % 100, np.uint8))
    writer.release()
    return path


def with_avi_rate(path: Path, out: Path, scale: int, rate: int) -> Path:
    """A copy of an AVI whose stream header claims ``rate / scale`` frames per second."""
    data = bytearray(path.read_bytes())
    strh, avih = data.find(b"strh"), data.find(b"avih")
    data[strh + 28 : strh + 36] = struct.pack("<II", scale, rate)
    data[avih + 8 : avih + 12] = struct.pack("<I", 0)  # no microseconds-per-frame hint either
    out.write_bytes(bytes(data))
    return out


# --- what a file is, from its first bytes ----------------------------------------------------


@pytest.mark.parametrize(
    ("head", "container"),
    [
        (b"\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2", "mp4"),
        (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00", "mp4"),  # MOV from a phone
        (b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00isom", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9fB\x86\x81\x01B\xf7\x81", "matroska"),  # WebM / MKV
        (b"RIFF\xfc\x1a\x00\x00AVI LIST", "avi"),
        (b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n", "y4m"),
        (b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00", "ogg"),
    ],
    ids=["mp4", "mov", "3gp", "webm", "avi", "y4m", "ogg"],
)
def test_sniff_video_recognises_containers_by_content(head, container):
    assert sniff_video(head) == container
    assert sniff_video(head + bytes(100)) == container  # more bytes than needed is fine


@pytest.mark.parametrize(
    ("ext", "fourcc", "container"),
    [("mp4", "mp4v", "mp4"), ("mov", "mp4v", "mp4"), ("mkv", "MJPG", "matroska"), ("avi", "MJPG", "avi")],
)
def test_sniff_video_recognises_what_opencv_writes(tmp_path, ext, fourcc, container):
    path = tmp_path / f"clip.{ext}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 30, (64, 48))
    for i in range(3):
        writer.write(np.full((48, 64, 3), 100 + i, np.uint8))
    writer.release()
    assert sniff_video(path.read_bytes()[:HEAD_BYTES]) == container


@pytest.mark.parametrize(
    "head",
    [
        b"",
        b"RIFF",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01",
        b"GIF89a\x01\x00\x01\x00\x80\x00",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1",  # an iPhone photo
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avif",
        b"\x00\x00\x00\x08ftypisom",  # an ftyp box too small to be one
        b"RIFF\x10\x00\x00\x00WEBPVP8 ",
        b"RIFF\x10\x00\x00\x00WAVEfmt ",
        b"this is not a video\n",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"<!DOCTYPE html><html>",
        b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
    ],
    ids=[
        "empty",
        "short",
        "png",
        "jpeg",
        "gif",
        "heic",
        "avif",
        "tiny-ftyp",
        "webp",
        "wav",
        "text",
        "pdf",
        "zip",
        "html",
        "elf",
    ],
)
def test_sniff_video_refuses_everything_else(head):
    assert sniff_video(head) is None


@no_db
@given(st.binary(max_size=200))
def test_sniff_video_never_fails_on_any_bytes(head):
    assert sniff_video(head) in (None, *CONTAINER_SUFFIX)


@pytest.mark.parametrize(
    ("head", "size", "says"),
    [
        (b"", 0, "empty"),
        (b"\x1a\x45\xdf\xa3" + bytes(60), 250 * MB, "under 200 MB"),  # a real video, but too large
        (b"\x89PNG\r\n\x1a\n" + bytes(56), 5000, "picture (PNG)"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1", 5000, "picture (HEIC)"),
        (b"this is not a video\n", 20, "not a video"),
    ],
    ids=["empty", "too-large", "png", "heic", "text"],
)
def test_check_upload_says_why_a_file_is_refused(head, size, says):
    with pytest.raises(VideoError, match=re.escape(says)):
        check_upload(head, size, 200 * MB)


def test_check_upload_accepts_a_video_and_names_its_container():
    assert check_upload(b"RIFF\x00\x00\x00\x00AVI LIST", 10 * MB, 200 * MB) == "avi"


# --- the name a browser sends is only shown ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("", "your video"),
        ("smile.mp4", "smile.mp4"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\Videos\\smile.mov", "smile.mov"),
        ("evil\u202egnp.mp4", "evilgnp.mp4"),  # a right-to-left override disguising the extension
        ("two\nlines\r.mp4", "twolines.mp4"),
        ("  lots   of   space .mp4 ", "lots of space .mp4"),
        ("x" * 300 + ".mp4", "x" * 59 + "…"),
    ],
    ids=["empty", "plain", "traversal", "windows-path", "bidi", "newlines", "spaces", "long"],
)
def test_display_name_keeps_only_a_safe_file_name(name, shown):
    assert display_name(name) == shown


@no_db
@given(st.text(max_size=300))
def test_display_name_of_any_text_is_short_plain_and_pathless(name):
    shown = display_name(name)
    assert 0 < len(shown) <= 60
    assert "/" not in shown and "\\" not in shown
    assert not any(unicodedata.category(c).startswith("C") for c in shown)


# --- frame rates and timestamps -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "used"),
    [
        (0.0, DEFAULT_FPS),
        (-30.0, DEFAULT_FPS),
        (math.nan, DEFAULT_FPS),
        (math.inf, DEFAULT_FPS),
        (1e-6, DEFAULT_FPS),
        (1000.0, DEFAULT_FPS),  # a millisecond time base, not a frame rate
        (90000.0, DEFAULT_FPS),
        ("junk", DEFAULT_FPS),
        (None, DEFAULT_FPS),
        (1.0, 1.0),
        (25.0, 25.0),
        (30000 / 1001, 30000 / 1001),
        (240.0, 240.0),
    ],
)
def test_frame_rate_uses_the_files_rate_only_when_it_is_usable(reported, used):
    assert frame_rate(reported) == used


@pytest.mark.parametrize(("reported", "count"), [(math.nan, 0), (math.inf, 0), (-1.0, 0), (1e300, 0), (375.0, 375)])
def test_a_nonsense_frame_count_is_unknown(reported, count):
    assert _frame_count(reported) == count


@pytest.mark.parametrize(
    ("scale", "rate"), [(1, 1000), (1, 0), (0, 0), (1_000_000, 1)], ids=["1000fps", "rate-0", "0-over-0", "1e-6fps"]
)
def test_timestamps_strictly_increase_whatever_the_container_claims(tmp_path, scale, rate):
    src = write_avi(tmp_path / "src.avi", (64, 48), 20)
    path = with_avi_rate(src, tmp_path / "odd.avi", scale, rate)
    with VideoReader(path) as video:
        times = [t for t, _ in video]
        fps = video.info.fps
    assert len(times) == 20
    assert 1.0 <= fps <= 240.0
    steps = np.diff(times)
    assert (steps > 0).all()
    np.testing.assert_allclose(steps, 1.0 / fps)


# --- sizes ------------------------------------------------------------------------------------------


def test_a_huge_video_is_shrunk_before_measuring(tmp_path):
    path = write_avi(tmp_path / "huge.avi", (4000, 3000), 3)
    with VideoReader(path) as video:
        frames = [f for _, f in video]
        info = video.info
    assert info.size_wh == (4000, 3000)
    assert info.frame_wh == (1920, 1440) and info.downscaled
    assert [f.shape for f in frames] == [(1440, 1920, 3)] * 3


def test_a_video_larger_than_4096_pixels_is_refused(tmp_path):
    path = write_avi(tmp_path / "wide.avi", (MAX_SIDE_PX + 8, 64), 2)
    with pytest.raises(VideoError, match=f"up to {MAX_SIDE_PX} pixels"):
        VideoReader(path)


def test_max_side_px_is_checked(tmp_path):
    path = write_avi(tmp_path / "ok.avi", (64, 48), 2)
    with pytest.raises(ValueError, match="max_side_px must be 320 to 4096, got 10"):
        VideoReader(path, max_side_px=10)


def test_a_shrunk_video_measures_like_the_original(model, phantom_video):
    spec = smile_phantom(4.0, 2.0, schedule=ONE_REP)
    with VideoReader(phantom_video(spec, "shrink"), max_side_px=320) as video, Analyzer(model=model) as an:
        assert video.info.frame_wh == (320, 240)
        for t, frame in video:
            an.update(frame, t)
        res = an.result("shrunk", video.info.fps, spec.schedule.duration_s)
    assert len(res.reps) == 1
    assert res.summary.symmetry_pct == pytest.approx(50.0, abs=8.0)
    assert res.summary.weaker_side == "right"


# --- broken files: one clear sentence ----------------------------------------------------------------


MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00"


def broken_file(kind: str, folder: Path) -> Path:
    """A file that is not a usable video, of the given kind."""
    if kind == "one-frame":
        return write_avi(folder / "one.avi", (64, 48), 1)
    if kind == "avi-header-then-garbage":
        content = write_avi(folder / "src.avi", (64, 48), 10).read_bytes()[:300] + os.urandom(30000)
    else:
        content = {
            "empty": b"",
            "mp4-header-then-garbage": MP4_HEAD + os.urandom(30000),
            "webm-header-then-garbage": b"\x1a\x45\xdf\xa3" + os.urandom(30000),
        }[kind]
    path = folder / f"broken-{kind}"
    path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("kind", "says"),
    [
        ("empty", "empty"),
        ("mp4-header-then-garbage", "not a video"),
        ("webm-header-then-garbage", "not a video"),
        ("avi-header-then-garbage", "not a video"),
        ("one-frame", "single picture"),
    ],
)
def test_a_broken_file_is_one_video_error(tmp_path, kind, says):
    with pytest.raises(VideoError, match=says):
        VideoReader(broken_file(kind, tmp_path))


def test_a_video_cut_short_is_read_up_to_the_damage(tmp_path):
    whole = write_avi(tmp_path / "whole.avi", (64, 48), 30).read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(whole[: len(whole) // 2] + os.urandom(len(whole) // 2))
    with VideoReader(path) as video:
        times = [t for t, _ in video]
    assert 2 <= len(times) < 30
    assert (np.diff(times) > 0).all()


# --- the command line --------------------------------------------------------------------------------


def _assert_one_line(proc) -> None:
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("facecoach: "), proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", ["header-then-garbage", "one-frame", "jpeg-renamed", "too-large", "newline-name"])
def test_cli_bad_video_is_one_line(tmp_path, kind):
    if kind == "header-then-garbage":
        path = tmp_path / "x.mp4"
        path.write_bytes(MP4_HEAD + os.urandom(50000))
    elif kind == "one-frame":
        path = write_avi(tmp_path / "one.avi", (64, 48), 1)
    elif kind == "jpeg-renamed":
        ok, jpeg = cv2.imencode(".jpg", np.full((48, 64, 3), 128, np.uint8))
        path = tmp_path / "photo.mp4"
        path.write_bytes(jpeg.tobytes())
    elif kind == "too-large":
        path = write_avi(tmp_path / "wide.avi", (MAX_SIDE_PX + 8, 64), 2)
    else:
        path = tmp_path / "two\nlines.mp4"  # missing, and its name would break the one line
    _assert_one_line(run_cli("analyze", path, "--json"))


def test_cli_measures_a_video_whose_container_claims_1000_fps(tmp_path):
    spec = smile_phantom(4.0, 2.0, schedule=ONE_REP)
    good = write_video(spec, tmp_path / "good.avi")
    path = with_avi_rate(good, tmp_path / "odd.avi", 1, 1000)
    proc = run_cli("analyze", path, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["fps"] == DEFAULT_FPS
    assert d["duration_s"] == pytest.approx(ONE_REP.duration_s, abs=0.05)
    assert len(d["reps"]) == 1
    assert d["reps"][0]["symmetry_pct"] == pytest.approx(50.0, abs=8.0)
    assert any("frame rate" in w for w in d["warnings"])


def test_cli_measures_a_huge_video(tmp_path):
    path = write_avi(tmp_path / "huge.avi", (4000, 3000), 3)
    proc = run_cli("analyze", path, "--json")
    assert proc.returncode == 0, proc.stderr
    d = json.loads(proc.stdout)
    assert d["frames"] == 3 and d["frames_with_face"] == 0


@pytest.mark.parametrize(
    "args",
    [["phantom", "/nonexistent-folder/x.avi", "--reps", "1"], ["phantom", "/nonexistent-folder/x.y4m", "--reps", "1"]],
    ids=["avi", "y4m"],
)
def test_cli_phantom_to_an_unwritable_place_is_one_line(args):
    _assert_one_line(run_cli(*args))


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "lots"])
def test_cli_phantom_refuses_numbers_that_are_not_finite(tmp_path, value):
    proc = run_cli("phantom", tmp_path / "x.avi", "--roll-deg", value)
    assert proc.returncode == 2
    assert "--roll-deg" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.avi").exists()


# --- the upload page -----------------------------------------------------------------------------------

MEASURE_PAGE = Path(__file__).resolve().parents[1] / "ui" / "views" / "measure.py"


def measure_page():
    from streamlit.testing.v1 import AppTest

    # Run the page as the app does: from the repository root, so `coach` is the engine package.
    script = f"import runpy\nrunpy.run_path({str(MEASURE_PAGE)!r})\n"
    return AppTest.from_string(script, default_timeout=180).run()


@pytest.fixture
def written(tmp_path, monkeypatch) -> list[Path]:
    """Every file the page writes, with temporary folders made under ``tmp_path``."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    paths: list[Path] = []
    original = pathlib.Path.write_bytes

    def spy(self, data):
        paths.append(Path(self))
        return original(self, data)

    monkeypatch.setattr(pathlib.Path, "write_bytes", spy)
    return paths


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("notes.mp4", b"this is not a video\n" * 50, "not a video we can read"),
        ("face.mp4", cv2.imencode(".png", np.full((64, 64, 3), 128, np.uint8))[1].tobytes(), "picture (PNG)"),
        ("IMG_0001.mov", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1" + bytes(500), "picture (HEIC)"),
        ("empty.webm", b"", "empty"),
        ("x.mp4", MP4_HEAD + bytes(5000), "could not use that video"),
    ],
    ids=["text-renamed", "png-renamed", "heic-renamed", "empty", "header-then-nothing"],
)
def test_upload_page_refuses_what_is_not_a_video(written, name, content, says):
    at = measure_page()
    at.file_uploader(key="upload").set_value((name, content, "video/mp4")).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and says in errors[0], errors
    assert "/" not in errors[0]  # no server path in what the patient reads
    assert all(not p.exists() for p in written)  # nothing left behind


def test_upload_page_names_the_file_itself_and_measures_it(written, tmp_path, phantom_video):
    spec = smile_phantom(4.0, 2.0, schedule=ONE_REP)
    video = phantom_video(spec, "upload-smile").read_bytes()  # an AVI, sent with a misleading name
    at = measure_page()
    name = "../../../etc/cron.d/\u202evom.mp4"
    at.file_uploader(key="upload").set_value((name, video, "video/mp4")).run()
    assert not at.exception
    if hasattr(os, "memfd_create"):  # measured from a memory-only file: nothing on disk at all
        assert written == [] and not any(tmp_path.iterdir())
    else:
        assert [p.name for p in written] == ["upload.avi"]  # named by its content, in a private folder
        assert written[0].parent.parent == tmp_path and not written[0].parent.exists()
    assert [t.value for t in at.text] == ["Your video: vom.mp4"]
    # No number before the person has checked left and right on a still of the video.
    assert not at.subheader and len(at.get("image")) == 1
    sides_checked(at)
    assert not at.exception
    assert any("1 smile scored" in s.value for s in at.subheader)
    assert not any("dark" in w.value for w in at.warning)
    assert all(not p.exists() for p in written)  # each look at the video deletes its copy


def sides_checked(at, swapped: bool = False) -> None:
    """Answer the page's left-and-right check and run it."""
    from ui.views.measure import SIDES_RIGHT, SIDES_SWAPPED

    (radio,) = [r for r in at.radio if r.key.startswith("sides_")]
    radio.set_value(SIDES_SWAPPED if swapped else SIDES_RIGHT).run()


@pytest.mark.parametrize("answer_swapped", [True, False])
def test_a_mirrored_selfie_video_is_measured_with_the_right_sides_once_the_person_says_so(
    written, phantom_video, answer_swapped
):
    # A front-camera video saved as a mirror image: the patient's weak left side shows on
    # the picture's left. Told so, the page reads it the right way round.
    spec = smile_phantom(2.0, 4.0, schedule=ONE_REP, mirrored=True)
    video = phantom_video(spec, "upload-selfie").read_bytes()
    at = measure_page()
    at.file_uploader(key="upload").set_value(("selfie.avi", video, "video/x-msvideo")).run()
    assert not at.exception and not at.subheader
    sides_checked(at, swapped=answer_swapped)
    assert not at.exception
    weaker = "left" if answer_swapped else "right"  # a wrong answer swaps the sides
    assert any(f"**{weaker}** side moved less" in m.value for m in at.markdown)


def test_upload_page_warns_that_a_dark_video_may_be_less_accurate(written, tmp_path):
    path = tmp_path / "dark.avi"
    spec = smile_phantom(4.0, 2.0, schedule=ONE_REP)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), spec.fps, spec.size_wh)
    for i, (_, frame) in enumerate(PhantomRenderer(spec).frames()):
        writer.write(cv2.cvtColor(dim(frame, i, light=0.08), cv2.COLOR_RGB2BGR))
    writer.release()
    at = measure_page()
    at.file_uploader(key="upload").set_value(("dark.avi", path.read_bytes(), "video/x-msvideo")).run()
    sides_checked(at)
    assert not at.exception
    assert any("quite dark" in w.value for w in at.warning)


def test_cli_an_unexpected_error_is_one_line_unless_debugging(monkeypatch):
    import io

    from coach import cli

    def broken(args, out):
        raise RuntimeError("something\nunforeseen")

    monkeypatch.setattr(cli, "_exercises", broken)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["exercises"], out, err) == 1
    assert err.getvalue() == "facecoach: unexpected error (RuntimeError: something\\nunforeseen); please report it\n"
    monkeypatch.setenv("FACECOACH_DEBUG", "1")
    with pytest.raises(RuntimeError):
        cli.main(["exercises"], out, err)
