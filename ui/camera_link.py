"""Keeps the browser's camera picture measurable on its way to the coach.

Chrome sends the webcam to the coach (aiortc, through streamlit-webrtc) as VP8 video.
With its defaults for a camera, two things blur the small movements the coach measures:

* The bit rate starts at 300 kbit/s and climbs for about ten seconds. The picture is at
  its worst just as the face appears and the resting baseline is taken, so the first
  smile was read on a different picture from the later ones.
* A temporal noise filter in the encoder (libvpx's "noise sensitivity", on by default
  for camera video) blends each frame with the last one. On a face that sways a little,
  as every real face does, it smears the mouth corners: with the same codec in
  ``python -m benchmarks.codec``, live minus ``analyze`` had an SD of 2.25 points on a
  swaying face with the filter and 1.33 without it (largest 6.6 and 3.2).

So, unless ``FACECOACH_CAMERA_TUNING=0``:

* The coach's answer asks VP8 to start at 2 Mbit/s (``x-google-start-bitrate``; up to 3,
  and down to 300 kbit/s if the link needs it: a weak home upload should get a blurrier
  picture, not a frozen one).
* Chromium browsers are asked for the camera without the encoder's noise filter: the
  page's camera request (width, height, frame rate, device) is made in Chromium's older
  constraint form, which alone carries ``googNoiseReduction: false``. Any other request,
  a browser that refuses it, a camera that does not match it, or another browser gets the
  request unchanged; a person who says no is not asked twice. Firefox and Safari keep
  their own encoders' settings. Whether the filter is then off cannot be read from the
  page; the measurements show it.

An earlier version marked the track ``contentHint = "detail"`` to drop the filter; WebRTC
then encodes the camera as a screen share (its sender takes "detail" and "text" for
screen content), which left a small movement on a still face unencoded for longer and read
the still face lower. It is no longer used.

Measured end to end with ``python -m benchmarks.browser`` (``benchmarks/results/browser.json``).
"""

from __future__ import annotations

import os
import re
from typing import NamedTuple


class Bitrate(NamedTuple):
    """What the coach asks the browser's VP8 encoder for, kbit/s."""

    min_kbps: int = 300
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
    """True unless ``FACECOACH_CAMERA_TUNING=0`` (the browser's own camera settings, for comparison)."""
    return os.environ.get(TUNING_ENV, "1") != "0"


# Start high (2 Mbit/s) so the resting baseline is taken on a good picture, but let a weak
# home upload fall back to 300 kbit/s rather than freeze the video.
LOCAL_LINK = Bitrate()
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
# On the camera frame's mediaDevices, ``facecoachWrapped`` says it is wrapped,
# ``facecoachQuiet`` counts the cameras opened without the noise filter, and
# ``facecoachQuietError`` keeps why the last such request fell back (the browser test reads them).
# The body of ``function (getUserMedia, devices)`` returning the wrapped getUserMedia (also
# run on its own by the browser tests). It is placed in a JS template literal: no backticks.
WRAP_GET_USER_MEDIA_JS = """        // The request in Chromium's older form, or null if it holds anything else.
        function older(video) {
          if (!video || typeof video !== "object" || Array.isArray(video)) return null;
          const mandatory = {googNoiseReduction: false};
          const optional = [];
          const names = {width: "Width", height: "Height", frameRate: "FrameRate"};
          for (const [key, value] of Object.entries(video)) {
            const given = value !== null && typeof value === "object";
            if (key === "deviceId") {
              const id = given ? (value.exact !== undefined ? value.exact : value.ideal) : value;
              if (typeof id !== "string") return null;
              if (given && value.exact === undefined) optional.push({sourceId: id});
              else mandatory.sourceId = id;
            } else if (key in names) {
              const exact = given && value.exact !== undefined;
              const n = !given ? value : exact ? value.exact : value.ideal;
              if (typeof n !== "number" || Object.keys(given ? value : {}).length > 1) return null;
              if (exact) {
                mandatory["min" + names[key]] = n;
                mandatory["max" + names[key]] = n;
              } else {
                optional.push({["min" + names[key]]: n}, {["max" + names[key]]: n});
              }
            } else {
              return null;
            }
          }
          return {mandatory: mandatory, optional: optional};
        }
        // Did the browser honour the older form? (One that skips names it does not know
        // would open any camera at any size without an error.)
        function matches(track, video) {
          const got = track.getSettings ? track.getSettings() : {};
          const want = Object.assign({}, video.mandatory);
          for (const entry of video.optional) Object.assign(want, entry);
          if (want.sourceId !== undefined && got.deviceId !== undefined && got.deviceId !== want.sourceId) return false;
          for (const [min, max, key] of [["minWidth", "maxWidth", "width"], ["minHeight", "maxHeight", "height"]]) {
            if (want[min] !== undefined && got[key] !== undefined && got[key] !== want[min]) return false;
          }
          return true;
        }
        return async function (constraints) {
          const video = constraints && !constraints.audio ? older(constraints.video) : null;
          if (video) {
            let stream;
            try {
              stream = await getUserMedia({video: video});
            } catch (e) {
              // The person said no, or the page may not ask: never ask a second time.
              if (e && (e.name === "NotAllowedError" || e.name === "SecurityError" || e.name === "AbortError")) throw e;
              devices.facecoachQuietError = String(e);
            }
            if (stream) {
              const track = stream.getVideoTracks()[0];
              if (track && matches(track, video)) {
                devices.facecoachQuiet = (devices.facecoachQuiet || 0) + 1;
                return stream;
              }
              devices.facecoachQuietError = "the camera opened did not match the request";
              for (const t of stream.getTracks()) t.stop();
            }
          }
          return getUserMedia(constraints);
        };
"""

NO_NOISE_FILTER_HTML = (
    """<script>
(function () {
  const page = window.parent.document;
  function wrap(win) {
    try {
      const devices = win && win.navigator && win.navigator.mediaDevices;
      if (!devices || devices.facecoachWrapped) return;
      if (!/Chrome\\//.test(win.navigator.userAgent)) return;  // the constraint is Chromium's
      // Built in the camera frame's own realm, so it keeps working if this frame goes.
      devices.getUserMedia = new win.Function("getUserMedia", "devices", `
"""
    + WRAP_GET_USER_MEDIA_JS
    + """`)(devices.getUserMedia.bind(devices), devices);
      devices.facecoachQuiet = 0;
      devices.facecoachWrapped = true;
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
)
