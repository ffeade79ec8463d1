"""Errors a person can act on: each carries one plain sentence."""


class FaceCoachError(Exception):
    """Base class. ``str(err)`` is a complete sentence meant for the user."""


class ModelError(FaceCoachError):
    """The face model file is missing, unreadable or not the expected one."""


class VideoError(FaceCoachError):
    """A video file is missing, unreadable, corrupt or not a video."""


class ExerciseError(FaceCoachError):
    """An exercise or program definition is malformed or unknown."""
