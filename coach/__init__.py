"""FaceCoach engine: measure each side of the face from video, frame by frame.

The engine never imports streamlit. MediaPipe is touched only in
:mod:`coach.engine.tracking`; OpenCV only where frames are read, warped or drawn.
"""

__version__ = "0.1.0"
