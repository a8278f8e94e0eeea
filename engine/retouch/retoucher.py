"""The instant retouch: one selfie in, one studio-style headshot JPEG out."""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
from numpy.typing import NDArray
from PIL import Image

from engine.retouch import framing, matte, profile, skin, tone
from engine.retouch.background import blurred_backdrop, canvas
from engine.retouch.background import check_spec as background_spec
from engine.retouch.decode import decode_rgb
from engine.retouch.options import NoFaceError, RetouchOptions, aspect_of

Float = NDArray[Any]  # cv2's stubs type every array loosely
Points = NDArray[np.float64]
WORK_SIDE = 640  # analysis runs on a copy this large; the pixels come from the full photo
CHIN, LEFT_IRIS, RIGHT_IRIS = 152, 468, 473


class FaceMesher(Protocol):
    """Finds the main face and returns its mesh (N >= 468 rows, x and y in pixels first), or None.

    `engine.faces.FaceAnalyzer` is one.
    """

    def mesh(self, rgb: NDArray[np.uint8]) -> Points | None: ...


@dataclass(frozen=True)
class Retouched:
    """A finished headshot with what the tests and the profile kit want to know about it."""

    image: NDArray[np.uint8]
    alpha: Float
    mesh: Points  # face points in the output frame
    frame: framing.Frame


class Retoucher:
    """Holds the face and segmentation models; build one per process and reuse it."""

    def __init__(
        self, faces: FaceMesher, segmenter: Any, options: RetouchOptions | None = None
    ) -> None:
        self.faces = faces
        self.segmenter = segmenter
        self.options = options or RetouchOptions()
        self._lock = threading.Lock()  # mediapipe graphs are not safe to share between threads

    def retouch(self, data: bytes, *, background: str = "grey", aspect: str = "1:1") -> bytes:
        """Return a studio-style headshot JPEG made from the photo file `data`.

        Raises `QualityError` for a file the gate refuses to read, `NoFaceError` without a face
        and `RetouchError` for an unknown background or aspect (all are `HeadshotsError`s).
        """
        rgb = decode_rgb(data)
        result = self.retouch_array(rgb, background=background, aspect=aspect)
        return encode_jpeg(result.image, self.options.jpeg_quality)

    def retouch_array(
        self, rgb: NDArray[np.uint8], *, background: str = "grey", aspect: str = "1:1"
    ) -> Retouched:
        """Frame, cut out, relight and sharpen the person in an RGB array."""
        spec = background_spec(background)
        shape = aspect_of(aspect)
        work, factor = _work_copy(rgb)
        mesh_work, coarse = self._analyse(work)
        mesh = mesh_work / factor
        geometry = _geometry(mesh)
        frame = framing.plan_frame(
            geometry, (rgb.shape[1], rgb.shape[0]), shape, self.options, framing.cut_sides(coarse)
        )
        person = framing.warp(rgb.astype(np.float32), frame)
        coarse_out = framing.warp(coarse, frame.scaled_source(factor), border=0.0)
        alpha = matte.refine(person, coarse_out, self.options.feather_px)
        # Beyond the photo's edge there is only the backdrop: no smeared copies of edge pixels.
        inside = framing.warp(
            np.ones(work.shape[:2], np.float32), frame.scaled_source(factor), border=0.0
        )
        alpha = alpha * np.clip(inside, 0.0, 1.0)
        mesh_out = frame.apply(mesh)
        skin_weight = skin.skin_mask(mesh_out, (frame.width, frame.height), person)
        person = self._finish(person, skin_weight, frame.scale())
        backdrop = self._backdrop(spec, person, alpha)
        out = matte.composite(person, alpha, backdrop)
        image = np.clip(out + 0.5, 0, 255).astype(np.uint8)
        return Retouched(image=image, alpha=alpha, mesh=mesh_out, frame=frame)

    def profile_kit(
        self, headshot: bytes, *, name: str, title: str, brand_colour: str
    ) -> dict[str, bytes]:
        """Return the profile kit of a headshot, its avatar centred on the face found in it."""
        rgb = decode_rgb(headshot)
        work, factor = _work_copy(rgb)
        with self._lock:
            mesh = self.faces.mesh(work)
        focus = None if mesh is None else avatar_focus(mesh[:, :2] / factor, rgb.shape[1])
        return profile.profile_kit(
            headshot, name=name, title=title, brand_colour=brand_colour, focus=focus
        )

    def _analyse(self, work: NDArray[np.uint8]) -> tuple[Points, Float]:
        with self._lock:
            mesh = self.faces.mesh(work)
            if mesh is None:
                raise NoFaceError("I could not find a face in this photo; send a clear selfie")
            return mesh[:, :2], matte.segment(self.segmenter, work)

    def _finish(self, person: Float, skin_weight: Float, upscale: float) -> Float:
        o = self.options
        person = tone.correct_light(person, skin_weight, o.exposure, o.white_balance)
        person = tone.local_contrast(person, o.local_contrast)
        person = skin.smooth_skin(person, skin_weight, o.skin_smoothing)
        return skin.sharpen(person, o.sharpen, skin_weight, upscale)

    def _backdrop(self, spec: str, person: Float, alpha: Float) -> Float:
        if spec == "blur":
            return blurred_backdrop(person, alpha)
        h, w = alpha.shape
        return canvas(spec, w, h, self.options.brand_colour)

    def close(self) -> None:
        """Release the models' graphs."""
        for model in (self.faces, self.segmenter):
            closer = getattr(model, "close", None)
            if closer is not None:
                closer()


def avatar_focus(mesh: Points, width: int) -> profile.Focus:
    """Return the circle-safe square around the head: centre just below the eyes."""
    face = _geometry(mesh)
    ex, ey = face.eyes
    reach = face.eye_chin()
    return (ex / width, (ey + 0.35 * reach) / width, 5.2 * reach / width)


def encode_jpeg(image: NDArray[np.uint8], quality: int = 92) -> bytes:
    """Encode an RGB array as a JPEG file."""
    # The instant retouch edits the person's own photo; no model made it, so it carries no AI
    # mark (core/provenance.py marks generated images only).
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality, subsampling=0)
    return buffer.getvalue()


def _work_copy(rgb: NDArray[np.uint8]) -> tuple[NDArray[np.uint8], float]:
    factor = min(1.0, WORK_SIDE / max(rgb.shape[:2]))
    if factor == 1.0:
        return rgb, 1.0
    size = (round(rgb.shape[1] * factor), round(rgb.shape[0] * factor))
    work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    return np.asarray(work, dtype=np.uint8), size[0] / rgb.shape[1]


def _geometry(mesh: Points) -> framing.FaceGeometry:
    if len(mesh) > RIGHT_IRIS:
        eyes = [mesh[LEFT_IRIS], mesh[RIGHT_IRIS]]
    else:
        eyes = [mesh[list(skin.RIGHT_EYE)].mean(axis=0), mesh[list(skin.LEFT_EYE)].mean(axis=0)]
    eyes.sort(key=lambda p: float(p[0]))
    return framing.FaceGeometry(
        left_eye=(float(eyes[0][0]), float(eyes[0][1])),
        right_eye=(float(eyes[1][0]), float(eyes[1][1])),
        chin=(float(mesh[CHIN][0]), float(mesh[CHIN][1])),
    )
