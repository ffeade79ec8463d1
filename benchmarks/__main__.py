"""`python -m benchmarks`: live coaching speed, file speed, then the quick accuracy grid (about 10 minutes).

The long ones run on their own: `python -m benchmarks.memory` (a 30-minute session),
`python -m benchmarks.dashboard` (clinic scale), `python -m benchmarks.compare` (before/after).
`python -m benchmarks.report --write` then puts the figures in docs/performance.md.
"""

import sys

from benchmarks import accuracy, live, speed

rc = live.main([])
rc |= speed.main([])
rc |= accuracy.main(["--quick"])
sys.exit(rc)
