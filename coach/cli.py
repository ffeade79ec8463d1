"""Command line: ``python -m coach analyze VIDEO``, ``python -m coach exercises``.

The CLI is the engine's composition root: the one place in ``coach`` that may
import ``exercises`` (the data), so the engine itself stays independent of it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import TextIO

from coach.engine.measures.peak import how_sure
from coach.errors import FaceCoachError


def _quiet_native_logs() -> None:
    # MediaPipe's C++ logging writes start-up chatter to stderr; keep stderr for
    # messages meant for the person running the command.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # OpenCV and FFmpeg complain on stderr about files they cannot open; the
    # CLI says so itself, in one line.
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")


def finite_float(text: str) -> float:
    """An argparse type: a finite number (``nan`` and ``inf`` are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def one_line(message: str) -> str:
    """``message`` with control characters (newlines in a file name…) written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m coach",
        description="FaceCoach: measure each side of the face in exercise videos.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    a = sub.add_parser("analyze", help="measure an exercise video and score its repetitions")
    a.add_argument("video", help="video file (mp4, avi, mov, webm, y4m…)")
    a.add_argument("--exercise", default="smile", help="exercise id (default: smile); see `exercises`")
    a.add_argument("--affected-side", choices=["left", "right"], help="the patient's affected side")
    a.add_argument(
        "--mirrored",
        action="store_true",
        help="the video was saved as a mirror image (raise your left hand while filming: if it shows on the "
        "left of the picture, the video is mirrored)",
    )
    a.add_argument("--model", help="path to face_landmarker.task (default: found automatically)")
    a.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")

    s = sub.add_parser("session", help="replay a recorded guided session through the coach")
    s.add_argument("video", help="video recorded while following the program's cues from its start")
    s.add_argument("--program", required=True, help="program id; see `programs`")
    s.add_argument("--affected-side", choices=["left", "right"], help="the patient's affected side")
    s.add_argument("--mirrored", action="store_true", help="the video was saved as a mirror image")
    s.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="EXERCISE.FIELD=VALUE",
        help="tune a step, e.g. smile.reps=3 or smile.hold_s=4 (repeatable)",
    )
    s.add_argument("--model", help="path to face_landmarker.task")
    s.add_argument("--json", action="store_true", help="print one JSON object")

    pr = sub.add_parser("programs", help="list the programs")
    pr.add_argument("--json", action="store_true", help="print JSON")

    e = sub.add_parser("exercises", help="list the exercise library")
    e.add_argument("--json", action="store_true", help="print JSON")

    ph = sub.add_parser("phantom", help="write a virtual-patient video with known movement")
    ph.add_argument("out", help="output file: .mp4, .avi or .y4m")
    ph.add_argument("--left-mm", type=finite_float, default=4.0, help="left mouth-corner movement, mm")
    ph.add_argument("--right-mm", type=finite_float, default=2.0, help="right mouth-corner movement, mm")
    ph.add_argument("--reps", type=int, default=3)
    ph.add_argument("--face-width-px", type=finite_float, default=200.0)
    ph.add_argument("--roll-deg", type=finite_float, default=0.0)
    ph.add_argument("--seed", type=int, default=0)

    m = sub.add_parser("model", help="show where the face model was found")
    m.add_argument("--model", help="path to face_landmarker.task")

    sub.add_parser(
        "preflight",
        help="check the settings and the database before the app starts; print the setup code if there is "
        "no administrator yet",
    )
    ad = sub.add_parser("admin", help="accounts, on the server: the first or a replacement administrator")
    adsub = ad.add_subparsers(dest="admin_command", required=True)
    for name, what in (
        ("create", "create an administrator account (also to replace a lost one)"),
        ("reset-password", "set a new password for any account; it must be changed at the next sign-in"),
    ):
        c = adsub.add_parser(name, help=what)
        c.add_argument("username")
        c.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input instead of asking"
        )
    adsub.add_parser("setup-code", help="print a new one-time code for creating the first administrator in the app")
    return p


def _analyze(args: argparse.Namespace, out: TextIO) -> int:
    from coach.engine.analysis import analyze_video
    from coach.engine.model import resolve_model
    from coach.engine.video import VideoReader
    from exercises import get_exercise

    exercise = get_exercise(args.exercise)
    VideoReader(args.video).close()  # a bad file is reported before the model loads
    model = resolve_model(args.model)
    if sys.stderr.isatty():
        sys.stderr.write("Measuring the video: this takes about as long as the video plays…\n")
    result = analyze_video(args.video, exercise, affected_side=args.affected_side, mirrored=args.mirrored, model=model)
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
    else:
        out.write(format_summary(result.to_dict(), exercise.name) + "\n")
    return 0


def _amount(value: float, unit: str) -> str:
    """A side's movement in words: "3.2 mm", or "45 % closed" for eye closure."""
    return f"{value:.1f} mm" if unit == "mm" else f"{value:.0f} % closed"


def format_summary(d: dict, exercise_name: str) -> str:
    """A short, plain summary of an analysis dict (the JSON contract)."""
    how = "read as a mirror image" if d.get("mirrored") else "read as filmed (not mirrored)"
    affected = f"; affected side: {d['affected_side']}" if d.get("affected_side") else ""
    lines = [
        f"FaceCoach — {exercise_name} ({d['exercise']}): {d['source']}",
        f"  {d['duration_s']:.1f} s at {d['fps']:g} fps; face seen in {d['frames_with_face']} of {d['frames']} frames",
        f"  Sides are your own left and right, {how}{affected}",
    ]
    reps = d["reps"]
    lines.append(f"  {len(reps)} repetition{'s' if len(reps) != 1 else ''} found")
    for r in reps:
        sym = "–" if r["symmetry_pct"] is None else f"{r['symmetry_pct']:.0f} %"
        left, right = _amount(r["movement"]["left"], r["unit"]), _amount(r["movement"]["right"], r["unit"])
        pulled = "".join(f"   {side} pulled the other way" for side in r.get("dragged", []))
        lines.append(
            f"  rep {r['index']}: {r['start_s']:.1f}–{r['end_s']:.1f} s   left {left}   right {right}   "
            f"symmetry {sym}   ({how_sure(r['confidence'])}){pulled}"
        )
    s = d["summary"]
    if s["movement"] is not None:
        sym = "–" if s["symmetry_pct"] is None else f"{s['symmetry_pct']:.0f} %"
        weaker = s["weaker_side"] or "neither (the two sides moved about the same)"
        left, right = _amount(s["movement"]["left"], s["unit"]), _amount(s["movement"]["right"], s["unit"])
        lines.append(f"  Overall: left {left}, right {right}; symmetry {sym}; weaker side: {weaker}")
        if d["affected_side"]:
            lines.append("  Symmetry: your affected side's movement as a share of the other side's (100 % = the same).")
        else:
            lines.append("  Symmetry: the weaker side's movement as a share of the stronger side's (100 % = the same).")
    for w in d["warnings"]:
        lines.append(f"  Note: {w}")
    if not reps and d["frames_with_face"] and not d.get("reps_not_measured"):
        lines.append(
            "  If you did a different exercise, name it with --exercise (the list: python -m coach exercises)."
        )
    return "\n".join(lines)


def parse_sets(items: Sequence[str]) -> dict[str, dict[str, float | int]]:
    """``["smile.reps=3", "smile.hold_s=4.5"]`` → ``{"smile": {"reps": 3, "hold_s": 4.5}}``."""
    out: dict[str, dict[str, float | int]] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        ex_id, dot, name = key.partition(".")
        if not (eq and dot and ex_id and name):
            raise FaceCoachError(f"--set {item!r}: write it as EXERCISE.FIELD=VALUE, e.g. smile.reps=3")
        try:
            value: float | int = int(raw) if name == "reps" else float(raw)
        except ValueError:
            raise FaceCoachError(f"--set {item!r}: {raw!r} is not a number") from None
        out.setdefault(ex_id, {})[name] = value
    return out


def _session(args: argparse.Namespace, out: TextIO) -> int:
    from coach.engine.analysis import tracked
    from coach.engine.model import resolve_model
    from coach.engine.video import VideoReader
    from coach.sessions.cues import SessionEngine
    from exercises import get_program

    plan = get_program(args.program).plan(parse_sets(args.set))
    with VideoReader(args.video, mirrored=args.mirrored) as video:
        model = resolve_model(args.model)
        with SessionEngine(plan, args.affected_side, model=model) as engine:
            for t, frame, obs in tracked(video, engine.tracker):
                engine.update(frame, t, obs)
            result = engine.result()
        d = {"source": str(args.video), "fps": round(video.info.fps, 3), **result.to_dict()}
    if args.json:
        out.write(json.dumps(d, ensure_ascii=False) + "\n")
    else:
        out.write(format_session(d, plan.name) + "\n")
    return 0


def format_session(d: dict, program_name: str) -> str:
    """A short, plain summary of a session dict."""
    lines = [f"FaceCoach — {program_name}: {d['source']}"]
    reps = d["reps"]
    for ex in d["exercises"]:
        u = ex["unit"]
        lines.append(f"  {ex['name']}: {ex['completed']} of {ex['planned']} done")
        for r in (r for r in reps if r["step"] == ex["step"]):
            if not r["completed"]:
                lines.append(f"    rep {r['index']}: no movement seen")
                continue
            sym = "–" if r["symmetry_pct"] is None else f"{r['symmetry_pct']:.0f} %"
            extra = ""
            syn = r["synkinesis"]
            if syn["flagged"]:
                extra += f"  synkinesis ({syn['watch']} {syn['value']:.0f} {syn['unit']})"
            if r["flags"]:
                extra += "  " + ", ".join(f.replace("_", " ") for f in r["flags"])
            lines.append(
                f"    rep {r['index']}: left {r['peak']['left']:.1f} {u}  right {r['peak']['right']:.1f} {u}  "
                f"symmetry {sym}{extra}"
            )
    if d["score"] is not None:
        lines.append(f"  Session score: {d['score']} / 100")
        lines.extend(f"    {w}" for w in d["score_explained"])
    if d.get("grades"):
        g = d["grades"]
        lines.append(f"  {g['label']}")
        ef = g["eface_like"]
        if ef["dynamic_score"] is not None:
            lines.append(f"    eFACE-like dynamic score: {ef['dynamic_score']}")
        else:
            measured = ef["measured_items_mean"]
            lines.append(
                f"    eFACE-like dynamic score: incomplete (not measured: {', '.join(ef['missing'])})"
                + ("" if measured is None else f"; mean of the measured items {measured}")
            )
        sb = g["sunnybrook_like"]
        if sb["missing"]:
            lines.append(f"    Sunnybrook-like: incomplete (not measured: {', '.join(sb['missing'])})")
        else:
            lines.append(
                f"    Sunnybrook-like: voluntary {sb['voluntary_score']}, resting {sb['resting_score']}, "
                f"synkinesis {sb['synkinesis_score']}, composite {sb['composite']}"
            )
    for w in d["warnings"]:
        lines.append(f"  Note: {w}")
    return "\n".join(lines)


def _programs(args: argparse.Namespace, out: TextIO) -> int:
    from exercises import load_programs

    progs = load_programs()
    if args.json:
        rows = [
            {
                "id": p.id,
                "name": p.name,
                "for": p.for_whom,
                "steps": [e for e, _ in p.steps],
                "assessment": p.assessment,
            }
            for p in progs.values()
        ]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    width = max(len(i) for i in progs)
    for p in progs.values():
        minutes = p.plan().duration_s / 60
        out.write(f"{p.id:<{width}}  {p.name} ({len(p.steps)} exercises, about {minutes:.0f} min)\n")
    return 0


def _exercises(args: argparse.Namespace, out: TextIO) -> int:
    from exercises import load_library

    lib = load_library()
    if args.json:
        rows = [
            {"id": e.id, "name": e.name, "measure": e.measure, "reps": e.reps, "hold_s": e.hold_s} for e in lib.values()
        ]
        out.write(json.dumps(rows, ensure_ascii=False) + "\n")
        return 0
    width = max(len(i) for i in lib)
    for e in lib.values():
        out.write(f"{e.id:<{width}}  {e.name} — {e.reps} × hold {e.hold_s:g} s; measures {e.measure_def.label}\n")
    return 0


def _phantom(args: argparse.Namespace, out: TextIO) -> int:
    from coach.virtual.phantom import HeadMotion, Schedule, smile_phantom, write_video

    try:
        spec = smile_phantom(
            args.left_mm,
            args.right_mm,
            schedule=Schedule(reps=args.reps),
            face_width_px=args.face_width_px,
            head=HeadMotion(roll_deg=args.roll_deg),
            seed=args.seed,
        )
    except ValueError as err:
        raise FaceCoachError(str(err)) from None
    try:
        path = write_video(spec, args.out)
    except OSError as err:
        why = err.strerror or "give a .avi, .mp4 or .y4m file in a folder that exists"
        raise FaceCoachError(f"cannot write {args.out}: {why}") from None
    out.write(f"wrote {path} ({spec.n_frames} frames, {spec.length_s:g} s)\n")
    return 0


def _model(args: argparse.Namespace, out: TextIO) -> int:
    from coach.engine.model import resolve_model

    m = resolve_model(args.model)
    out.write(f"face model OK: {m.path} (from {m.origin}, {len(m.data):,} bytes, checksum verified)\n")
    return 0


def _open_accounts():
    from coach.store import Store
    from coach.store.auth import Accounts

    return Accounts(Store())


def _preflight(args: argparse.Namespace, out: TextIO) -> int:
    """Settings and database checked (and migrated) before the server starts; the setup code while needed."""
    from coach.store.db import clinic_mode

    accounts = _open_accounts()
    store = accounts.store
    where = store.engine.url.render_as_string(hide_password=True)
    out.write(f"records: {where} ({'clinic server' if clinic_mode() else 'this computer'})\n")
    code = accounts.issue_setup_code()
    if code is not None:
        out.write(
            "FaceCoach has no administrator yet. In the app, create one with this setup code "
            f"(it works once, for 24 hours):\n\n    {code}\n\n"
        )
    store.close()
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    import getpass

    first = getpass.getpass("Password: ")
    if getpass.getpass("The same password again: ") != first:
        raise FaceCoachError("the two passwords are not the same")
    return first


def _admin(args: argparse.Namespace, out: TextIO) -> int:
    accounts = _open_accounts()
    try:
        if args.admin_command == "setup-code":
            code = accounts.issue_setup_code()
            if code is None:
                raise FaceCoachError("there is an administrator already: no setup code is needed")
            out.write(f"setup code (works once, for 24 hours): {code}\n")
            return 0
        password = _read_password(args)
        try:
            if args.admin_command == "create":
                accounts.create_admin(args.username, password)
                out.write(f"administrator {args.username.strip().lower()} created\n")
            else:
                role = accounts.reset_on_server(args.username, password)
                out.write(
                    f"new password set for {role} {args.username.strip().lower()}: the account is enabled and "
                    "asks for a new password at its next sign-in\n"
                )
        except ValueError as err:
            raise FaceCoachError(str(err)) from None
        return 0
    finally:
        accounts.store.close()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Run the CLI; returns the exit code (0 ok, 2 bad input or set-up, 1 a bug).

    Set ``FACECOACH_DEBUG=1`` to see a bug's traceback instead of its one line.
    """
    out = out or sys.stdout
    err = err or sys.stderr
    _quiet_native_logs()
    args = build_parser().parse_args(argv)
    handlers = {
        "analyze": _analyze,
        "session": _session,
        "programs": _programs,
        "exercises": _exercises,
        "phantom": _phantom,
        "model": _model,
        "preflight": _preflight,
        "admin": _admin,
    }
    try:
        return handlers[args.command](args, out)
    except FaceCoachError as e:
        err.write(f"facecoach: {one_line(str(e))}\n")
        return 2
    except KeyboardInterrupt:
        err.write("facecoach: stopped\n")
        return 130
    except Exception as e:  # noqa: BLE001 - the person running it gets one line, not a traceback
        if os.environ.get("FACECOACH_DEBUG", "").strip() == "1":
            raise
        err.write(f"facecoach: unexpected error ({one_line(f'{type(e).__name__}: {e}')}); please report it\n")
        return 1
