"""Guided sessions: the plan and its cues, each repetition's score, the session's summary and grades."""
