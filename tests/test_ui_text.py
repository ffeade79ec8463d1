"""What people typed shows as typed (ui/text.py), and an upload never outlives the server (ui/upload_copy.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from coach.engine.video import VideoReader
from tests.test_app import accounts, signed_in, tab, texts
from tests.test_app import data_dir as data_dir  # the fixture: a fresh, empty data folder
from ui.text import WORD_JOINER, plain
from ui.upload_copy import FOLDER_PREFIX, private_copy, remove_stale_folders

ROOT = Path(__file__).resolve().parents[1]
J = WORD_JOINER
SPECIAL = set("\\`*_{}[]()#+-.!|<>~$:&/=^")


def shown(markdown: str) -> str:
    """What CommonMark shows for a text of backslash escapes (the escape goes, the character stays).

    Fails when a special character is left unescaped, or a backslash escapes something ordinary.
    """
    out, chars = [], iter(markdown)
    for c in chars:
        if c == "\\":
            escaped = next(chars)
            assert escaped in SPECIAL, f"a backslash before {escaped!r} in {markdown!r}"
            out.append(escaped)
        else:
            assert c not in SPECIAL, f"{c!r} is not escaped in {markdown!r}"
            out.append(c)
    return "".join(out)


# --- plain ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "markdown"),
    [
        ("", ""),
        ("Kim", "Kim"),
        ('Bell\'s palsy, 50% "better"?', 'Bell\'s palsy, 50% "better"?'),  # what means nothing stays
        ("**Bob** [x](http://e)", rf"\*\*Bob\*\* \[x\]\(http{J}\:\/\/e\)"),
        ("# Big", r"\# Big"),
        ("1. one", r"1\. one"),
        ("- item", r"\- item"),
        ("> quote", r"\> quote"),
        ("`code`", r"\`code\`"),
        ("<script>alert(1)</script>", r"\<script\>alert\(1\)\<\/script\>"),
        ("&lt;b&gt;", r"\&lt;b\&gt;"),
        ("$x^2$ :red[y] :material/home: :smile:", r"\$x\^2\$ \:red\[y\] \:material\/home\: \:smile\:"),
        ("~~gone~~ a|b", r"\~\~gone\~\~ a\|b"),
        ("back\\slash_name", r"back\\slash\_name"),
        ("Bob\n===", r"Bob \=\=\="),
        ("  two\n\n    lines\t", "two lines"),
        ("www.e.com bob@e.com", rf"www{J}\.e\.com bob@{J}e\.com"),
        (":streamlit: a -> b", rf"\:{J}streamlit\: a \-{J}\> b"),
        ("Zoë 李 😀", "Zoë 李 😀"),
    ],
    ids=[
        "empty",
        "name",
        "ordinary-punctuation",
        "bold-and-link",
        "heading",
        "ordered-list",
        "list",
        "quote",
        "code",
        "html",
        "entities",
        "streamlit-math-colour-icon-emoji",
        "strike-table",
        "backslash",
        "setext-heading",
        "white-space",
        "autolinks",
        "logo-arrow",
        "unicode",
    ],
)
def test_plain_escapes_what_markdown_would_read(typed, markdown):
    assert plain(typed) == markdown
    assert shown(plain(typed)).replace(J, "") == " ".join(typed.split())


@given(st.text())
def test_plain_of_any_text_shows_that_text_on_one_line(typed):
    out = shown(plain(typed))  # every special character escaped, nothing else
    assert out.replace(J, "") == " ".join(typed.split()).replace(J, "")
    # What GFM and Streamlit rewrite after the escapes are read: addresses, the logo, arrows.
    assert not re.search(r"(?i)(https?|mailto|xmpp):|www\.|[\w.+-]@[\w-]|:streamlit:", out)
    assert not re.search(r"(^|\s)(<->|->|<-|--|>=|<=|~=)(\s|$)", out)
    assert "\n" not in out


def test_a_patients_name_shows_as_typed_on_the_therapists_page(data_dir):
    """Issue 16: a name typed by a therapist was drawn as Markdown (bold, a link, a heading)."""
    accounts(data_dir)
    at = signed_in("lee")
    name, condition = "**Bob** [x](http://e)", "# Big"
    at.text_input(key="new_name").input(name)
    at.text_input(key="new_condition").input(condition)
    at.button(key="new_add").click().run()
    assert not at.exception
    added = [s.value for s in at.success if "was added" in s.value]
    assert len(added) == 1 and added[0].startswith(plain(name) + " was added with the program “")
    assert [h.value for h in at.header] == [plain(name)]  # the patient opened is Bob
    assert any(c.value.startswith(plain(condition) + " · affected side") for c in at.caption)
    tab(at, "Program")
    on_page = "\n".join([texts(at), *(s.value for s in at.success), *(h.value for h in at.header)])
    for typed in (name, condition):  # never as Markdown, anywhere it shows
        assert not re.search(r"(?<!\\)" + re.escape(typed), on_page), typed
    assert list(at.dataframe[0].value["Patient"]).count(name) == 1  # a table cell is text: kept as typed


# --- the upload's copy ----------------------------------------------------------------------------

needs_memfd = pytest.mark.skipif(
    not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"), reason="memory-only files are Linux's"
)


def _clip(path: Path, fourcc: str, n: int = 24) -> Path:
    """A small moving video written by OpenCV (an MP4 from OpenCV keeps its index at the end)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (160, 120))
    assert writer.isOpened(), fourcc
    for i in range(n):
        frame = np.full((120, 160, 3), 40, np.uint8)
        cv2.circle(frame, (20 + 5 * i, 60), 15, (0, 200, 255), -1)
        writer.write(frame)
    writer.release()
    return path


def _frames(path: Path) -> tuple[tuple, list[np.ndarray]]:
    with VideoReader(path, name="This file") as video:
        info = video.info
        return (info.fps, info.frame_count, info.size_wh), [frame for _, frame in video]


def _videos(tmp_path: Path) -> list[tuple[Path, str]]:
    from benchmarks import media

    found = [(_clip(tmp_path / "clip.mp4", "mp4v"), ".mp4"), (_clip(tmp_path / "clip.avi", "MJPG"), ".avi")]
    real = media.cache_dir() / "carphone.mp4"  # a real face, when the media cache has it
    return found + ([(real, ".mp4")] if real.exists() else [])


@needs_memfd
def test_a_memory_file_reads_the_same_frames_as_a_copy_on_disk_and_writes_nothing(tmp_path, monkeypatch):
    for i, (source, suffix) in enumerate(_videos(tmp_path)):
        data = source.read_bytes()
        with private_copy(data, suffix, in_memory=False) as on_disk:
            assert on_disk.parent.name.startswith(f"{FOLDER_PREFIX}{os.getpid()}-")
            expected = _frames(on_disk)
        assert not on_disk.parent.exists()  # deleted as the block ended
        temp = tmp_path / f"temp-{i}"
        temp.mkdir()
        monkeypatch.setattr(tempfile, "tempdir", str(temp))
        with private_copy(memoryview(data), suffix) as in_memory:
            assert re.fullmatch(r"/proc/self/fd/\d+", str(in_memory))
            assert os.readlink(in_memory).startswith("/memfd:")  # no file on any disk
            info, frames = _frames(in_memory)
            assert list(temp.iterdir()) == []
        assert not in_memory.exists() or not os.readlink(in_memory).startswith("/memfd:")  # closed, freed
        assert info == expected[0] and len(frames) == len(expected[1]) > 10, source.name
        assert all(np.array_equal(a, b) for a, b in zip(frames, expected[1], strict=True)), source.name


def _hold_a_copy(temp: Path, in_memory: bool) -> subprocess.Popen:
    """A process holding an upload's copy until it is killed; its temporary folder is ``temp``."""
    script = (
        "import sys, time\n"
        "from ui.upload_copy import private_copy\n"
        f"with private_copy(b'RIFF' + bytes(5000), '.avi', in_memory={in_memory}) as path:\n"
        "    print(path, flush=True)\n"
        "    time.sleep(120)\n"
    )
    env = {**os.environ, "TMPDIR": str(temp), "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
@pytest.mark.parametrize("in_memory", [pytest.param(True, marks=needs_memfd), False], ids=["memory", "folder"])
def test_a_killed_server_leaves_no_video_behind(tmp_path, in_memory):
    """Issue 16: the server killed while measuring left the patient's video in a temporary folder."""
    child = _hold_a_copy(tmp_path, in_memory)
    try:
        line = child.stdout.readline().strip()
        assert line, "the process holding the copy did not start"
        held = Path(line)
        assert held.exists()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    if in_memory:
        assert list(tmp_path.iterdir()) == []  # it never touched the disk; the kernel freed it
        return
    assert held.exists() and held.parent.name.startswith(f"{FOLDER_PREFIX}{child.pid}-")  # left behind…
    assert remove_stale_folders(tmp_path) == [held.parent]  # …until the next start deletes it
    assert list(tmp_path.iterdir()) == []


def test_only_the_folders_of_processes_that_ended_are_removed(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(timeout=30)
    dead = tmp_path / f"{FOLDER_PREFIX}{ended.pid}-abc"
    mine = tmp_path / f"{FOLDER_PREFIX}{os.getpid()}-def"
    parent = tmp_path / f"{FOLDER_PREFIX}{os.getppid()}-ghi"
    others = [tmp_path / "facecoach-eval-xyz", tmp_path / f"{FOLDER_PREFIX}x-1", tmp_path / "unrelated"]
    for folder in [dead, mine, parent, *others]:
        folder.mkdir()
        (folder / "upload.mp4").write_bytes(b"a patient's video")
    a_file = tmp_path / f"{FOLDER_PREFIX}{ended.pid}-file"
    a_file.write_bytes(b"not a folder")
    assert remove_stale_folders(tmp_path) == [dead]
    assert not dead.exists()
    assert all(p.exists() for p in [mine, parent, *others, a_file])
    assert remove_stale_folders(tmp_path) == []  # nothing left to do
