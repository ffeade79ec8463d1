"""A patient's data for the clinical record: every rep as CSV, and a print-ready HTML report.

Everything a person typed (names, notes) is escaped: the report is safe to open
whatever was written in it.
"""

from __future__ import annotations

import csv
import html
import io
from collections import defaultdict
from datetime import datetime

from coach.store.info import HistoryPoint
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


def _cell(x: object) -> object:
    if x is None:
        return ""
    if isinstance(x, float):
        return round(x, 3)
    if isinstance(x, str) and x[:1] in ("=", "+", "-", "@"):
        return "'" + x  # never a formula in a spreadsheet
    return x


def patient_csv(store: Store, patient_id: int) -> str:
    """One row per rep, oldest first; sides are the patient's own."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for s, r in store.reps(patient_id):
        w.writerow(
            [
                _cell(v)
                for v in (
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
            ]
        )
    return buf.getvalue()


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


def patient_report_html(store: Store, patient_id: int, names: dict[str, str] | None = None) -> str:
    """A self-contained, print-ready page: the patient, their program, progress per exercise, grades and notes.

    Args:
        names: exercise and program id → display name (ids are shown when missing).
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
    notes = "".join(
        f"<li><b>{n.created_at:%d %b %Y}</b> {esc(n.therapist_name or '')}: {esc(n.text)}</li>"
        for n in store.notes(patient_id)
    )
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
<h2>Notes</h2><ul>{notes or "<li class='muted'>No notes.</li>"}</ul>
</body></html>
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
