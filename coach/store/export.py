"""A patient's data for the clinical record: every rep as CSV, everything kept as a ZIP of CSV files,
and a print-ready HTML report.

Everything a person typed (names, notes) is escaped: the report is safe to open
whatever was written in it, and no CSV cell starts like a spreadsheet formula.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import math
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from coach.sessions.series import RepSeries
from coach.store.info import HistoryPoint, RepInfo, SessionInfo
from coach.store.repo import Store

CSV_COLUMNS = (
    "session_id",
    "session_started_utc",
    "program",
    "source",
    "session_status",
    "session_score",
    "exercise",
    "step",
    "rep",
    "completed",
    "unit",
    "left",
    "right",
    "symmetry_pct",
    "onset_lag_s",
    "release_lag_s",
    "synkinesis",
    "synkinesis_watch",
    "synkinesis_value",
    "synkinesis_side",
    "flags",
    "confidence",
)

HEALTHY_SYMMETRY_PCT = (79.0, 98.0)  # healthy smiles (DESIGN.md §6)
NO_NOTES = "<li class='muted'>No notes.</li>"


# Spreadsheets read a cell starting with these as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(x: object) -> object:
    """A value as written in a CSV cell: None and NaN empty, floats to 3 decimals, text never a formula."""
    if x is None:
        return ""
    if isinstance(x, float):
        return round(x, 3) if math.isfinite(x) else ""
    if isinstance(x, str) and x.startswith(FORMULA_STARTS):
        return "'" + x  # never a formula in a spreadsheet
    return x


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV text, "\n" line ends, every cell through :func:`_cell`."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    # The csv module quotes only the line terminator's characters, so a lone "\r" in text would
    # be written bare and split the row for readers; such rows quote every text cell.
    w_text = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC)
    for row in itertools.chain([header], rows):
        cells = [_cell(v) for v in row]
        (w_text if any(isinstance(c, str) and "\r" in c for c in cells) else w).writerow(cells)
    return buf.getvalue()


def _rep_row(s: SessionInfo, r: RepInfo) -> tuple[object, ...]:
    """One rep as the values of :data:`CSV_COLUMNS`."""
    return (
        s.id,
        s.started_at.isoformat(timespec="seconds"),
        s.program_id,
        s.source,
        s.status,
        s.score,
        r.exercise_id,
        r.step,
        r.rep_index,
        int(r.completed),
        r.unit,
        r.peak_left,
        r.peak_right,
        r.symmetry_pct,
        r.onset_lag_s,
        r.release_lag_s,
        int(r.synkinesis),
        r.synkinesis_kind,
        r.synkinesis_value,
        r.synkinesis_side,
        " ".join(r.flags),
        r.confidence,
    )


def patient_csv(store: Store, patient_id: int) -> str:
    """One row per rep, oldest first; sides are the patient's own."""
    return _csv(CSV_COLUMNS, (_rep_row(s, r) for s, r in store.reps(patient_id)))


# -- everything kept, as a ZIP of CSV files -------------------------------------------------

ARCHIVE_FILES = ("README.txt", "patient.csv", "sessions.csv", "repetitions.csv", "series.csv")
ARCHIVE_README = """FaceCoach: everything kept about one patient's practice
==========================================================

patient.csv      The patient's details: name, condition, affected side, surgery, therapist and the
                 assigned program (with the therapist's changes to it). One row.
sessions.csv     One row per practice session: when it started and ended, the program, how it was
                 recorded, whether it was completed, the score with its parts and the explanation
                 shown, the assessment grades (estimates, not a clinician's grading; columns
                 "grades.*", empty for sessions that were not an assessment), the movements completed
                 and their mean symmetry.
repetitions.csv  One row per movement (repetition): what was measured on each side, symmetry, timing,
                 synkinesis, flags, confidence, its start and end (start_s, end_s: seconds on the
                 session's clock) and "detail", the full scoring as saved (JSON).
series.csv       The frame-by-frame measurements behind each repetition, one row per camera frame
                 from the movement cue to the rest after it: time in seconds from the repetition's
                 start, the movement on each side (in "unit") and the eye narrowing on each side
                 (per cent of the resting eye opening). An empty cell means that frame could not be
                 measured. Join it to repetitions.csv by rep_id.

"Left" and "right" are the patient's own sides, not as seen in a mirror or on the screen.
All dates and times are UTC. Numbers use a dot for decimals. The files are UTF-8 CSV; text that
would start like a spreadsheet formula (= + - @, tab, carriage return) has an apostrophe put in front.
No video and no pictures of the face are ever kept: only the measurements in these files.
The therapist's private notes are not part of this archive.
"""
SESSION_COLUMNS = (
    "session_id",
    "started_utc",
    "ended_utc",
    "program",
    "source",
    "affected_side",
    "status",
    "score",
    "score_explained",
    "reps_completed",
    "mean_symmetry_pct",
)
SERIES_COLUMNS = (
    "rep_id",
    "session_id",
    "exercise",
    "step",
    "rep",
    "t_s",
    "left",
    "right",
    "eye_left",
    "eye_right",
    "unit",
)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed, so the same records give the same bytes


def _plain(x: object) -> object:
    """JSON-ready: non-finite floats as None (JSON has no NaN), tuples as lists."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def _json(x: object) -> str:
    return json.dumps(_plain(x), sort_keys=True, ensure_ascii=False, allow_nan=False)


def _flat(d: dict, prefix: str) -> dict[str, object]:
    """Nested dicts as dotted columns (``grades.eface_like.measured_items_mean``); lists as JSON cells."""
    out: dict[str, object] = {}
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict) and v:
            out.update(_flat(v, key))
        elif isinstance(v, dict | list | tuple):
            out[key] = _json(v)
        else:
            out[key] = v
    return out


def _utc(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat(timespec="seconds")


def _patient_file(store: Store, patient_id: int, names: dict[str, str]) -> str:
    p = store.patient(patient_id)
    a = store.assignment(patient_id)
    header = (
        "patient_id",
        "name",
        "condition",
        "affected_side",
        "surgery",
        "surgery_date",
        "therapist",
        "program",
        "program_name",
        "program_assigned_utc",
        "program_changes",
        "example_data",
    )
    row = (
        p.id,
        p.name,
        p.condition,
        p.affected_side,
        p.surgery,
        None if p.surgery_date is None else p.surgery_date.isoformat(),
        p.therapist_name,
        None if a is None else a.program_id,
        None if a is None else names.get(a.program_id, a.program_id),
        None if a is None else _utc(a.assigned_at),
        None if a is None else _json(a.overrides),
        int(p.is_demo),
    )
    return _csv(header, [row])


def _sessions_file(sessions: list[SessionInfo]) -> str:
    parts = [{f"score_parts.{k}": v for k, v in (s.score_parts or {}).items()} for s in sessions]
    grades = [_flat(s.grades, "grades") if s.grades else {} for s in sessions]
    extra = sorted({k for d in parts for k in d}) + sorted({k for d in grades for k in d})
    rows = [
        (
            s.id,
            _utc(s.started_at),
            _utc(s.ended_at),
            s.program_id,
            s.source,
            s.affected_side,
            s.status,
            s.score,
            " ".join(s.score_explained),
            s.reps_completed,
            s.mean_symmetry_pct,
            *((p | g).get(k) for k in extra),
        )
        for s, p, g in zip(sessions, parts, grades, strict=True)
    ]
    return _csv((*SESSION_COLUMNS, *extra), rows)


def _series_rows(store: Store, reps: list[tuple[SessionInfo, RepInfo]]) -> Iterable[tuple[object, ...]]:
    for s, r in reps:
        data = store.rep_series(r.id)
        if data is None:
            continue
        try:
            ser = RepSeries.from_bytes(data)
        except ValueError:
            continue  # a damaged series must not cost the patient the rest of their records
        cols = [[float(v) for v in getattr(ser, a)] for a in ("t_s", "left", "right", "eye_left", "eye_right")]
        for t, left, right, eye_left, eye_right in zip(*cols, strict=True):
            yield (r.id, s.id, ser.exercise_id, ser.step, ser.index, t, left, right, eye_left, eye_right, ser.unit)


def patient_archive_zip(store: Store, patient_id: int, names: dict[str, str] | None = None) -> bytes:
    """Everything kept about a patient's practice: a ZIP of plain CSV files with a README.

    The files are :data:`ARCHIVE_FILES` (what each holds is in :data:`ARCHIVE_README`); rows
    oldest first, sides the patient's own, times UTC. Deterministic: the same records give the
    same bytes.

    Args:
        names: program id → display name for ``patient.csv`` (the id is used when missing).
    """
    names = names or {}
    reps = store.reps(patient_id)
    details = store.rep_details(patient_id)
    files = {
        "README.txt": ARCHIVE_README,
        "patient.csv": _patient_file(store, patient_id, names),
        "sessions.csv": _sessions_file(store.sessions(patient_id)[::-1]),
        "repetitions.csv": _csv(
            ("rep_id", *CSV_COLUMNS, "start_s", "end_s", "detail"),
            ((r.id, *_rep_row(s, r), r.start_s, r.end_s, _json(details.get(r.id, {}))) for s, r in reps),
        ),
        "series.csv": _csv(SERIES_COLUMNS, _series_rows(store, reps)),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in ARCHIVE_FILES:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever machine wrote it
            info.external_attr = 0o644 << 16
            zf.writestr(info, files[name].encode("utf-8"))
    return buf.getvalue()


# -- the report -----------------------------------------------------------------------------


def _svg_trend(points: list[HistoryPoint], width: int = 640, height: int = 180) -> str:
    """Symmetry (%) per session as an inline SVG line, with the healthy band shaded."""
    pts = [(p.started_at, p.symmetry_pct) for p in points if p.symmetry_pct is not None]
    if len(pts) < 2:
        return "<p class='muted'>Not enough sessions for a chart yet.</p>"
    t0, t1 = pts[0][0].timestamp(), pts[-1][0].timestamp()
    span = max(t1 - t0, 1.0)
    top = max(120.0, max(v for _, v in pts))

    def xy(t: datetime, v: float) -> tuple[float, float]:
        return 40 + (width - 50) * (t.timestamp() - t0) / span, 10 + (height - 30) * (1 - v / top)

    lo, hi = HEALTHY_SYMMETRY_PCT
    y_hi, y_lo = xy(pts[0][0], hi)[1], xy(pts[0][0], lo)[1]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(t, v) for t, v in pts))
    grid = "".join(
        f"<line x1='40' x2='{width - 10}' y1='{xy(pts[0][0], g)[1]:.1f}' y2='{xy(pts[0][0], g)[1]:.1f}' "
        f"stroke='#ddd'/><text x='4' y='{xy(pts[0][0], g)[1] + 4:.1f}' font-size='11'>{g:.0f}%</text>"
        for g in (0, 50, 100)
    )
    return (
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
        f"aria-label='Symmetry per session'>"
        f"<rect x='40' y='{y_hi:.1f}' width='{width - 50}' height='{y_lo - y_hi:.1f}' fill='#d8f0dc'/>"
        f"{grid}<polyline points='{line}' fill='none' stroke='#1f6fb2' stroke-width='2'/>"
        f"<text x='{width - 200}' y='{y_hi - 3:.1f}' font-size='11' fill='#2e7d32'>"
        f"healthy range {lo:.0f}–{hi:.0f}%</text>"
        "</svg>"
    )


def patient_report_html(
    store: Store, patient_id: int, names: dict[str, str] | None = None, include_notes: bool = False
) -> str:
    """A self-contained, print-ready page: the patient, their program, progress per exercise and grades.

    Args:
        names: exercise and program id → display name (ids are shown when missing).
        include_notes: add the therapist's private notes (the therapist's copy); the default
            (the patient's copy) has no notes and no notes section.
    """
    names = names or {}
    esc = html.escape
    p = store.patient(patient_id)
    a = store.assignment(patient_id)
    sessions = store.sessions(patient_id)
    hist = store.history(patient_id)
    by_ex: dict[str, list[HistoryPoint]] = defaultdict(list)
    for h in hist:
        by_ex[h.exercise_id].append(h)
    generated = datetime.now().strftime("%d %b %Y %H:%M")
    rows = []
    for ex_id, pts in sorted(by_ex.items()):
        first, last = pts[0], pts[-1]

        def sym(h: HistoryPoint) -> str:
            return "–" if h.symmetry_pct is None else f"{h.symmetry_pct:.0f}%"

        rows.append(
            "<tr>"
            f"<td>{esc(names.get(ex_id, ex_id))}</td><td>{len(pts)}</td>"
            f"<td>{first.started_at:%d %b %Y}: L {first.mean_left:.1f} / R {first.mean_right:.1f} {esc(first.unit)}, "
            f"{sym(first)}</td>"
            f"<td>{last.started_at:%d %b %Y}: L {last.mean_left:.1f} / R {last.mean_right:.1f} {esc(last.unit)}, "
            f"{sym(last)}</td>"
            f"<td>{sum(h.synkinesis_reps for h in pts)}</td>"
            "</tr>"
        )
    charts = "".join(
        f"<h3>{esc(names.get(ex_id, ex_id))}: symmetry per session</h3>{_svg_trend(pts)}"
        for ex_id, pts in sorted(by_ex.items())
    )
    sess_rows = "".join(
        f"<tr><td>{s.started_at:%d %b %Y %H:%M}</td><td>{esc(names.get(s.program_id, s.program_id))}</td>"
        f"<td>{esc(s.status.replace('_', ' '))}</td><td>{s.reps_completed}</td>"
        f"<td>{'–' if s.mean_symmetry_pct is None else f'{s.mean_symmetry_pct:.0f}%'}</td>"
        f"<td>{'–' if s.score is None else s.score}</td></tr>"
        for s in sessions[:60]
    )
    grades = [s for s in sessions if s.grades]
    grade_rows = "".join(
        f"<tr><td>{s.started_at:%d %b %Y}</td>"
        f"<td>{_eface(s.grades)}</td>"
        f"<td>{_g(s.grades, 'sunnybrook_like', 'voluntary_score')}</td>"
        f"<td>{_g(s.grades, 'sunnybrook_like', 'synkinesis_score')}</td>"
        f"<td>{_g(s.grades, 'sunnybrook_like', 'composite')}</td></tr>"
        for s in grades
    )
    notes = ""
    if include_notes:
        items = "".join(
            f"<li><b>{n.created_at:%d %b %Y}</b> {esc(n.therapist_name or '')}: {esc(n.text)}</li>"
            for n in store.notes(patient_id)
        )
        notes = f"<h2>Notes</h2><ul>{items or NO_NOTES}</ul>\n"
    surgery = ""
    if p.surgery:
        surgery = f"<dt>Surgery</dt><dd>{esc(p.surgery)}"
        surgery += f" ({p.surgery_date:%d %b %Y})</dd>" if p.surgery_date else "</dd>"
    demo_note = " Example data (demo patient)." if p.is_demo else ""
    program = "none" if a is None else esc(names.get(a.program_id, a.program_id))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FaceCoach report: {esc(p.name)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
td, th {{ border: 1px solid #bbb; padding: 4px 8px; font-size: 13px; text-align: left; }}
dt {{ font-weight: bold; float: left; width: 10em; }} dd {{ margin-left: 10em; }}
.muted {{ color: #777; }} @media print {{ .noprint {{ display: none; }} }}
</style></head><body>
<h1>FaceCoach report</h1>
<p class="muted">Generated {generated}. Movements are measured from video by FaceCoach; grades are estimates,
not a diagnosis. "Left" and "right" are the patient's own sides.{demo_note}</p>
<dl><dt>Patient</dt><dd>{esc(p.name)}</dd>
<dt>Condition</dt><dd>{esc(p.condition or "–")}</dd>
<dt>Affected side</dt><dd>{esc(p.affected_side or "not set")}</dd>{surgery}
<dt>Therapist</dt><dd>{esc(p.therapist_name or "–")}</dd>
<dt>Program</dt><dd>{program}</dd>
<dt>Sessions</dt><dd>{len(sessions)}</dd></dl>
<h2>Progress per exercise</h2>
<table><tr><th>Exercise</th><th>Sessions</th><th>First</th><th>Latest</th><th>Reps with synkinesis</th></tr>
{"".join(rows) or "<tr><td colspan=5>No exercises yet.</td></tr>"}</table>
{charts}
<h2>Assessment estimates</h2>
<table><tr><th>Date</th><th>eFACE-like (measured items)</th><th>Sunnybrook-like voluntary</th>
<th>synkinesis</th><th>composite</th></tr>{grade_rows or "<tr><td colspan=5>No assessment yet.</td></tr>"}</table>
<h2>Recent sessions</h2>
<table><tr><th>When (UTC)</th><th>Program</th><th>Status</th><th>Reps</th><th>Symmetry</th><th>Score</th></tr>
{sess_rows or "<tr><td colspan=6>No sessions yet.</td></tr>"}</table>
{notes}</body></html>
"""


def _eface(grades: dict) -> str:
    """The eFACE-like mean over the measured items (older records have only the dynamic score)."""
    key = "measured_items_mean" if "measured_items_mean" in (grades.get("eface_like") or {}) else "dynamic_score"
    return _g(grades, "eface_like", key)


def _g(grades: dict | None, *path: str) -> str:
    x: object = grades
    for k in path:
        if not isinstance(x, dict) or k not in x:
            return "–"
        x = x[k]
    if x is None:
        return "–"
    return f"{x:.0f}" if isinstance(x, float) else html.escape(str(x))
