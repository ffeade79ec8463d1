"""The live coach: camera frames in on one thread, a locked snapshot out for the page."""
