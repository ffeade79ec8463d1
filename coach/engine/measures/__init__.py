"""Per-frame, per-side measures: pure functions over arrays."""
