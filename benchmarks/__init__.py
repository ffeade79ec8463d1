"""Scripts that print figures (accuracy, speed) and write them to JSON."""
