"""Keeps the browser's camera picture measurable on its way to the coach.

Chrome sends the webcam to the coach (aiortc, through streamlit-webrtc) as VP8 video.
With its defaults for a camera, two things blur the small movements the coach measures:

* The bit rate starts at 300 kbit/s and climbs for about ten seconds. The picture is at
  its worst just as the face appears and the resting baseline is taken, so the first
  smile was read on a different picture from the later ones.
* A temporal noise filter in the encoder blends each frame with the last one. On a face
  that sways a little, as every real face does, it smears the mouth corners: a rep could
  read 5 to 9 points off (``python -m benchmarks.codec``).

Two settings, both standard WebRTC, address this:

* The coach's answer asks for 1.5 to 3 Mbit/s from the first frame
  (``x-google-min/start/max-bitrate`` on VP8). The coach runs on the patient's own
  computer, so the link is local and the bit rate costs nothing.
* The camera track is marked ``contentHint = "detail"``: the browser then turns the noise
  filter off and keeps the full picture size, dropping frames rather than detail when
  it is short of bandwidth. The coach drops frames anyway (it always reads the newest).

They are off unless ``FACECOACH_CAMERA_TUNING=1``. Measured end to end
(``python -m benchmarks.browser``, ``benchmarks/results/browser.json``), they helped the
swaying face (live minus ``analyze``: SD 3.0 -> 1.3 points, no rep more than 5 off instead
of 3 of 12) but read the still face lower (mean -0.9 instead of 0.0, SD 2.4 instead of 2.1,
2 reps of 30 more than 5 off instead of none). The "detail" mode is made for screens, and
seems to leave a small movement on an unmoving face unencoded for longer. Until a setting
helps both, the browser's defaults stay.
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple


class Bitrate(NamedTuple):
    """What the coach asks the browser's VP8 encoder for, kbit/s."""

    min_kbps: int = 1500
    start_kbps: int = 2000
    max_kbps: int = 3000

    def fmtp(self) -> str:
        return (
            f"x-google-min-bitrate={self.min_kbps};"
            f"x-google-start-bitrate={self.start_kbps};"
            f"x-google-max-bitrate={self.max_kbps}"
        )


TUNING_ENV = "FACECOACH_CAMERA_TUNING"


def enabled() -> bool:
    """True only with ``FACECOACH_CAMERA_TUNING=1``: off by default, see the module's note."""
    return os.environ.get(TUNING_ENV) == "1"


LOCAL_LINK = Bitrate()  # the coach runs on the patient's own computer
_VP8_RTPMAP = re.compile(r"a=rtpmap:(\d+) VP8/90000")
_FMTP = re.compile(r"a=fmtp:(\d+) ")


def with_bitrate(sdp: str, bitrate: Bitrate = LOCAL_LINK) -> str:
    """``sdp`` with ``bitrate`` added to the format parameters of every VP8 payload type.

    Other codecs, and VP8's retransmission payload (``apt=``), are left alone. A VP8
    payload type without an ``a=fmtp`` line gets one after its ``a=rtpmap`` line.
    """
    if not 0 < bitrate.min_kbps <= bitrate.start_kbps <= bitrate.max_kbps:
        raise ValueError(f"bit rates must be 0 < min <= start <= max, got {bitrate}")
    newline = "\r\n" if "\r\n" in sdp else "\n"
    lines = sdp.split(newline)
    vp8 = {m.group(1) for line in lines if (m := _VP8_RTPMAP.fullmatch(line.strip()))}
    has_fmtp = {m.group(1) for line in lines if (m := _FMTP.match(line))}
    out = []
    for line in lines:
        fmtp = _FMTP.match(line)
        if fmtp and fmtp.group(1) in vp8 and "x-google-" not in line:
            line = f"{line.rstrip()};{bitrate.fmtp()}"
        out.append(line)
        rtpmap = _VP8_RTPMAP.fullmatch(line.strip())
        if rtpmap and rtpmap.group(1) not in has_fmtp:
            out.append(f"a=fmtp:{rtpmap.group(1)} {bitrate.fmtp()}")
    return newline.join(out)


def install(bitrate: Bitrate = LOCAL_LINK) -> None:
    """Make every aiortc answer in this process carry ``bitrate`` for VP8 (once; idempotent).

    streamlit-webrtc creates the peer connection and its answer itself and offers no
    hook for the SDP, so the answer is edited where aiortc makes it.
    """
    from aiortc import RTCPeerConnection, RTCSessionDescription

    if getattr(RTCPeerConnection.createAnswer, "facecoach_bitrate", None) == bitrate:
        return
    original = getattr(RTCPeerConnection.createAnswer, "facecoach_original", RTCPeerConnection.createAnswer)

    async def create_answer(self: RTCPeerConnection) -> RTCSessionDescription:
        answer = await original(self)
        return RTCSessionDescription(sdp=with_bitrate(answer.sdp, bitrate), type=answer.type)

    create_answer.facecoach_bitrate = bitrate  # type: ignore[attr-defined]
    create_answer.facecoach_original = original  # type: ignore[attr-defined]
    RTCPeerConnection.createAnswer = create_answer  # type: ignore[method-assign]


# Runs in a zero-height component frame of the coach page. Streamlit's component frames
# share the page's origin, so it can reach the camera component's frame and wrap its
# getUserMedia before START is pressed; a frame that reloads is wrapped again.
# On the frame's mediaDevices, ``facecoachDetail`` says it is wrapped and ``facecoachHinted``
# counts the camera tracks marked (the browser test reads both).
DETAIL_HINT_HTML = """<script>
(function () {
  const page = window.parent.document;
  function wrap(win) {
    try {
      const devices = win && win.navigator && win.navigator.mediaDevices;
      if (!devices || devices.facecoachDetail) return;
      // Built in the camera frame's own realm, so it keeps working if this frame goes.
      devices.getUserMedia = new win.Function("getUserMedia", "devices", `
        return async function (constraints) {
          const stream = await getUserMedia(constraints);
          for (const track of stream.getVideoTracks()) {
            if ("contentHint" in track) {
              track.contentHint = "detail";
              devices.facecoachHinted = (devices.facecoachHinted || 0) + 1;
            }
          }
          return stream;
        };`)(devices.getUserMedia.bind(devices), devices);
      devices.facecoachDetail = true;
    } catch (e) { /* a frame from another origin: not the camera's */ }
  }
  function scan() {
    for (const frame of page.querySelectorAll("iframe")) {
      wrap(frame.contentWindow);
      if (!frame.facecoachWatched) {
        frame.facecoachWatched = true;
        frame.addEventListener("load", () => wrap(frame.contentWindow));
      }
    }
  }
  scan();
  new MutationObserver(scan).observe(page.body, {childList: true, subtree: true});
})();
</script>"""
