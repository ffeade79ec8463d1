"""The measuring engine: a picture in, per-side movement and repetitions out.

tracking (MediaPipe landmarks) → face_frame (the face's own axes, millimetres) →
motion (tissue motion, the head's rigid fit) → measures (pure per-side measures) →
measurer (one stream, frame by frame) → reps (repetitions) → analysis (a whole video).
"""
