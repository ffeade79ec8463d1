"""An uploaded video as a file OpenCV can open, kept off the disk where the system allows.

On Linux the bytes go in a memory-only file (``memfd_create``) that OpenCV's FFmpeg opens as
``/proc/self/fd/N``: nothing touches the disk, and the kernel frees the memory when the file is
closed or the process ends, killed included. Elsewhere (or when that fails) they go in a private
temporary folder, ``facecoach-upload-<pid>-…``, deleted when the measuring ends; a process
killed meanwhile leaves it behind, and :func:`remove_stale_folders` deletes it at the next start.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
FOLDER_PREFIX = "facecoach-upload-"
MEMORY_FILE_NAME = "facecoach-upload"  # what /proc/<pid>/fd shows it as; never a path on disk
_FOLDER_PID = re.compile(re.escape(FOLDER_PREFIX) + r"(\d+)-")


@contextmanager
def private_copy(data: bytes | memoryview, suffix: str, in_memory: bool = True) -> Iterator[Path]:
    """The upload as a file only this process reads, for as long as the block runs.

    Args:
        data: the file's bytes.
        suffix: the suffix FFmpeg expects for the container (``".mp4"``…), given to the copy
            in a folder (a memory file has no name: FFmpeg then knows the container by its bytes).
        in_memory: try a memory-only file first; False always uses the temporary folder.

    Yields:
        Its path: ``/proc/self/fd/N`` for a memory file, else ``<tmp>/facecoach-upload-<pid>-…/upload<suffix>``.
    """
    fd = _memory_file(data) if in_memory else None
    if fd is not None:
        try:
            yield Path(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix=f"{FOLDER_PREFIX}{os.getpid()}-") as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        yield path


def _memory_file(data: bytes | memoryview) -> int | None:
    """The descriptor of a memory-only file holding ``data``; None where there is none (not Linux, no /proc)."""
    create = getattr(os, "memfd_create", None)
    if create is None or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        fd = create(MEMORY_FILE_NAME, os.MFD_CLOEXEC)
    except OSError:
        return None
    try:
        with open(fd, "wb", closefd=False) as f:
            f.write(data)
    except OSError:  # no memory left for it: the folder is the fallback
        os.close(fd)
        return None
    return fd


def remove_stale_folders(root: str | Path | None = None) -> list[Path]:
    """Delete the upload folders of processes that no longer run (a server killed while measuring).

    Only this user's folders named ``facecoach-upload-<pid>-…`` are touched, and only when no
    process ``<pid>`` runs; when that cannot be told, the folder is kept.

    Args:
        root: where to look; the system's temporary folder by default.

    Returns:
        The folders deleted.
    """
    root = Path(tempfile.gettempdir() if root is None else root)
    gone = []
    for folder in sorted(root.glob(f"{FOLDER_PREFIX}*")):
        found = _FOLDER_PID.match(folder.name)
        if found is None or folder.is_symlink() or not folder.is_dir():
            continue
        if hasattr(os, "getuid") and folder.lstat().st_uid != os.getuid():
            continue
        if _running(int(found.group(1))):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            gone.append(folder)
    return gone


@functools.cache
def remove_stale_folders_once() -> int:
    """:func:`remove_stale_folders` in the system's temporary folder, once per process; how many went."""
    gone = remove_stale_folders()
    if gone:
        log.info("deleted %d uploaded videos' folders left by a FaceCoach that was stopped", len(gone))
    return len(gone)


def _running(pid: int) -> bool:
    """Whether process ``pid`` runs (True when that cannot be told)."""
    if pid == os.getpid() or not 0 < pid < 2**31:
        return True
    if sys.platform == "win32":
        return _running_on_windows(pid)
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only whether the process exists
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return True


def _running_on_windows(pid: int) -> bool:
    # os.kill(pid, 0) would end the process on Windows: ask for its exit code instead.
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return kernel32.GetLastError() != 87  # ERROR_INVALID_PARAMETER: no such process
    try:
        code = ctypes.c_ulong()
        if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
            return True
        return code.value == 259  # STILL_ACTIVE
    finally:
        kernel32.CloseHandle(handle)
