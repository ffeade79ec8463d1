"""The camera link's settings: the bit rate in the coach's answer, on plain SDP and on aiortc's own."""

from __future__ import annotations

import asyncio
import re

import pytest
from aiortc import RTCPeerConnection

from ui.camera_link import Bitrate, install, with_bitrate

BITRATE = "x-google-min-bitrate=300;x-google-start-bitrate=2000;x-google-max-bitrate=3000"


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        # no VP8 at all: nothing to do
        (["m=audio 9 UDP/TLS/RTP/SAVPF 111", "a=rtpmap:111 opus/48000/2"], None),
        # VP8 without format parameters: a line is added after its rtpmap
        (
            ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=rtpmap:96 VP8/90000", "a=rtcp-fb:96 nack"],
            ["m=video 9 UDP/TLS/RTP/SAVPF 96", "a=rtpmap:96 VP8/90000", f"a=fmtp:96 {BITRATE}", "a=rtcp-fb:96 nack"],
        ),
        # VP8 with format parameters: appended; its retransmission and H.264 untouched
        (
            [
                "a=rtpmap:100 VP8/90000",
                "a=fmtp:100 max-fr=30",
                "a=rtpmap:101 rtx/90000",
                "a=fmtp:101 apt=100",
                "a=rtpmap:102 H264/90000",
                "a=fmtp:102 packetization-mode=1",
            ],
            [
                "a=rtpmap:100 VP8/90000",
                f"a=fmtp:100 max-fr=30;{BITRATE}",
                "a=rtpmap:101 rtx/90000",
                "a=fmtp:101 apt=100",
                "a=rtpmap:102 H264/90000",
                "a=fmtp:102 packetization-mode=1",
            ],
        ),
    ],
)
def test_with_bitrate_touches_only_vp8(lines, expected):
    sdp = "\r\n".join(lines) + "\r\n"
    out = with_bitrate(sdp)
    assert out == ("\r\n".join(expected) + "\r\n" if expected else sdp)
    assert with_bitrate(out) == out  # applying it twice changes nothing


def test_bitrate_must_be_ordered():
    with pytest.raises(ValueError, match="min <= start <= max"):
        with_bitrate("a=rtpmap:96 VP8/90000\r\n", Bitrate(3000, 2000, 1000))
    with pytest.raises(ValueError, match="min <= start <= max"):
        with_bitrate("a=rtpmap:96 VP8/90000\r\n", Bitrate(0, 2000, 3000))


def _vp8_fmtp(sdp: str) -> list[str]:
    vp8 = set(re.findall(r"a=rtpmap:(\d+) VP8/90000", sdp))
    return [line for line in sdp.splitlines() if (m := re.match(r"a=fmtp:(\d+) ", line)) and m.group(1) in vp8]


def test_aiortc_answer_carries_the_bitrate_and_the_browser_side_accepts_it(monkeypatch):
    # Restored after the test: install() replaces aiortc's createAnswer for the process.
    monkeypatch.setattr(RTCPeerConnection, "createAnswer", RTCPeerConnection.createAnswer)
    install()
    install()  # twice: still one layer

    async def negotiate() -> tuple[str, str]:
        camera, coach = RTCPeerConnection(), RTCPeerConnection()
        try:
            camera.addTransceiver("video", direction="sendonly")
            await camera.setLocalDescription(await camera.createOffer())
            await coach.setRemoteDescription(camera.localDescription)
            await coach.setLocalDescription(await coach.createAnswer())
            await camera.setRemoteDescription(coach.localDescription)
            return camera.localDescription.sdp, coach.localDescription.sdp
        finally:
            await camera.close()
            await coach.close()

    offer, answer = asyncio.run(negotiate())
    assert not any("x-google" in line for line in _vp8_fmtp(offer))
    fmtp = _vp8_fmtp(answer)
    assert fmtp and all(line.endswith(BITRATE) and line.count("x-google-min-bitrate") == 1 for line in fmtp)
    assert [line for line in answer.splitlines() if "x-google" in line] == fmtp  # only on VP8
