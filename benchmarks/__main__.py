"""`python -m benchmarks`: speed, then the quick accuracy grid."""

import sys

from benchmarks import accuracy, speed

rc = speed.main([])
rc |= accuracy.main(["--quick"])
sys.exit(rc)
