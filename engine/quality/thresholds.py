"""Every threshold of the quality gate, in one place, with how each value was chosen.

"Measured" figures come from the real photos (scikit-image's astronaut and cameraman, matplotlib's
Grace Hopper) and copies degraded in code (tests/photos.py; the measuring script's variants are
those of tests/test_quality_checks.py): blur sigma 1-3 px, brightness x0.25 and x0.5, x1.4+20 and
x2.2+40, a bright backdrop behind a dimmed face, drawn sunglasses, rotations of 20, 35 and 90
degrees, JPEG quality 30, 2x up- and 2/3 downscales, the photo pasted small into a large canvas.

"Calibration" figures come from the wider set built in tests/variety.py and measured by
`python bench/calibrate_gate.py` (rerun it when a threshold changes): the astronaut and Grace
Hopper at framings from a tight crop to 7 face sides wide, rotations of 6 and 12 degrees,
perspective tilts, scales x0.75-x2.5, JPEG q30-75, and relit: a window behind (with and without
glare over the face), a dim room, an on-camera flash.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    """Limits and cut-offs of the gate; build a variant with `dataclasses.replace`."""

    # Telegram's getFile cap, the same default as Settings.max_upload_bytes.
    max_bytes: int = 20 * 1024 * 1024
    # 80 MP admits 48-64 MP phone photos and stays below Pillow's own bomb warning (89 MP).
    max_pixels: int = 80_000_000
    # A 320 px short side still holds a usable face; Telegram's own previews (90/320 px) do not.
    min_side_px: int = 320
    # Analysis size: faces from ~57 px are found, the mesh runs on a crop, and a 12 MP JPEG
    # decodes at 1/2 or 1/4 scale through Pillow's draft mode.
    analysis_px: int = 1024
    # JPEGs decode at the smallest 1/2, 1/4 or 1/8 scale whose long side stays >= this: a 12 MP
    # photo decodes at 1/4 (~1000 px) in a fraction of the full decode's ~50 ms.
    draft_px: int = 768
    # Identity from the file's pixels: a face narrower than this in the analysis pixels has its
    # descriptor chip cut from the file decoded larger (up to its full size), so a face gets
    # the same descriptor whether the photo comes as a 12 MP file or a 1280 px chat photo
    # (bench/alignment.py: a 190 px face analysed at 61 px was 0.25 from dlib's own pipeline).
    detail_face_px: int = 240
    # mediapipe full-range scores: real faces 0.65-0.94 (0.65 = astronaut turned 90 degrees).
    min_face_score: float = 0.5
    # Second faces: the full-range detector finds one only from ~1/8 of the image's side (an
    # astronaut face pasted at 135 px into a 1024x1200 Grace Hopper is missed, at 144 px found).
    # One under 0.4 of the main face's side (144/401 = 0.36: someone well behind) is tolerated;
    # the same pasted at 206 px (0.51) and the side-by-side collage (0.52) are not.
    background_face_ratio: float = 0.4
    # A single face under this share of the short side makes the gate look again on tiles
    # (engine/quality/crowd.py): others of its size could hide beside it. Grace Hopper's 0.39
    # skips it; the astronaut's 0.20 and every group photo whose first pass found one face
    # take it (0.066-0.227: 23 of the 267 group shots of bench/calibrate_gate.py, 2-30 people).
    crowd_look_below: float = 0.3
    # Face box side over the image's short side: astronaut 0.20, Grace Hopper 0.39, cameraman
    # 0.15; Grace pasted into a 4x3 canvas 0.11 (rejected), full-body shots lower still.
    min_face_fraction: float = 0.12
    warn_face_fraction: float = 0.16
    # Face side in the original file's pixels: astronaut 105, cameraman 75, astronaut at 2/3
    # size 70. Below 90 a training crop is mostly upscaling; below 100 it is worth a warning.
    min_face_px: int = 90
    warn_face_px: int = 100
    good_face_px: int = 400
    # Share of face box or mesh outside the frame: 0.00 on every whole face measured; the
    # astronaut cropped at the brows 0.10, through the eyes 0.36, down the middle of the face 0.19.
    max_outside: float = 0.08
    # Fine/coarse Laplacian ratio on the aligned 128 px face: sharp photos 0.29-1.09 (JPEG q30
    # 0.29-0.87, dark copies 0.29-1.09), blurred sigma 1.5: 0.10-0.23, sigma 3: 0.13-0.15.
    # Calibration: every sharp copy 0.27-1.09 (0.27: the astronaut at x0.75, 0.28: tilted).
    min_sharpness: float = 0.20
    warn_sharpness: float = 0.26
    good_sharpness: float = 0.45
    # Mean grey level of the face: originals 139-178, x0.5 copies 68-89, x0.25 copies 34-44.
    # Calibration: every well-lit copy 142-178, a dim room 31-39 (rejected), a flash 227-249.
    min_brightness: float = 55.0
    warn_brightness: float = 80.0
    ideal_brightness: float = 150.0
    # Share of face pixels at >= 250: originals 0.00, x1.4+20 0.12-0.58, x2.2+40 0.63-0.71.
    # Calibration: 0.00 on every copy but the flash (0.41-0.86); a window glare over the face
    # leaves the inner face unclipped, so it is told apart by the backlight ratio below.
    max_clipped: float = 0.25
    warn_clipped: float = 0.08
    max_brightness: float = 230.0
    # With no face found at all: whole-image grey mean and clipped share that explain why
    # (astronaut x2.2+40 has no detectable face and 0.50 of its pixels clipped).
    no_face_dark: float = 30.0
    no_face_clipped: float = 0.35
    # With no face found: a surround (top and sides) this bright, 2.5x the middle, is a window
    # behind a silhouette (backlit advice), not a washed-out photo.
    no_face_bright_surround: float = 200.0
    # Background over face brightness: originals 0.56-1.24, backlit copies 3.5-5.1.
    # Calibration: every well-lit copy 0.24-0.91, the flash 0.53-0.64; a window behind 3.30-3.35
    # (face 57-71), with glare 2.71-2.75 (face 77-89). Backlight is judged before over- and
    # underexposure and is then the only light finding: its fix (turn round) is neither's.
    backlit_ratio: float = 2.2
    warn_backlit_ratio: float = 1.6
    backlit_face_below: float = 130.0  # a bright backdrop behind a well-lit face is fine
    # Head pose from the mesh, degrees (bench/calibrate_gate.py). The originals read |yaw| and
    # |pitch| <= 1.2. Every framing (a tight crop to a frame 7 face sides wide), scale (x0.75 to
    # x2.5), JPEG quality (30-75) and perspective tilt reads within 4 degrees of its original on
    # every axis, so a crop and the full photo get the same verdict; rotations of 6 and 12
    # degrees read as roll within 3.5. The cameraman, in profile, reads yaw 49.6-54.9 in every
    # framing and is rejected. A raised chin at a podium read pitch 25.3 (issue 15): ordinary
    # variation, a warning; only looking far up or down (over 35) is rejected.
    max_yaw: float = 42.0
    warn_yaw: float = 25.0
    max_pitch: float = 35.0
    warn_pitch: float = 20.0
    max_roll: float = 30.0
    warn_roll: float = 15.0
    # Lid gap over eye width, the smaller eye: open eyes 0.15-0.34 (0.15-0.20 with drawn
    # sunglasses, 0.18-0.19 for the cameraman squinting); eyes painted shut with cheek colour and
    # a lash line 0.055-0.071.
    min_eye_openness: float = 0.12
    # Eye patch (spread + half mean) over cheek brightness: open eyes 0.40-0.67 (blurred 0.40),
    # drawn sunglasses 0.05.
    min_eye_visibility: float = 0.25
    # pHash bits of the aligned face: copies recompressed (q40), darkened, cropped and resized,
    # or rotated 10 degrees 2-4; a mirrored copy 32; astronaut, Grace Hopper and cameraman
    # against each other 24-32. 8 leaves room for a re-shot of the same pose. Calibration:
    # framings, scales and rotations of one photo 0-2, JPEG q30-75 0-4 (duplicates), perspective
    # tilts 6-16 (a light tilt is the same shot; a strong one counts as new).
    duplicate_hash_distance: int = 8
    # Identity: dlib descriptor distances by the gate's path (five points seeded from the mesh),
    # calibrated on real people by `python bench/calibrate_gate.py --identity` (public sets:
    # 5 people with 19-27 web photos each taken years apart, "web"; 40 people with 10 grey photos
    # of one session each, "grey"; 609 strangers' portraits; see bench/identity_rates.py and the
    # ROC in docs/calibration-roc.png). FRR: the person's photo judged someone else; FAR: a
    # stranger judged the person.
    #
    # The gate's set-aside cut: the person is the largest group whose mean distance stays under
    # it (people.py, average linkage), measured as a photo's mean distance to 5 of the person's.
    # It optimises FRR: a selfie wrongly set aside costs the person a photo and a confusing
    # message, and the person sends photos of themself, so a stranger is rare (and the pack's
    # selection still filters renders). 0.65: web FRR 3.4%, FAR 0.22%; grey FRR 0%, FAR 3.2%
    # (grey 92x112 faces look alike to dlib). 0.6 set aside 12.6% of the web photos. With one
    # photo of the person so far, the linkage is one photo against another: web FRR 7.1%, FAR
    # 0.49% (1.0% against the portraits; portraits against each other 4.7%), grey FAR 7.3%. A
    # false reject there is a tie the gate asks about ("Which one is you?"); the grouping is
    # redone over the whole set on every photo, so with more photos a stranger faces the
    # mean-to-a-group rates above.
    same_person_distance: float = 0.65
    # The selection's cut, a render's distance to the centroid of the selfies: it optimises FAR,
    # since a stranger kept in a pack costs more than a render dropped (packs over-generate).
    # 0.5 to a centroid of 5: web FRR 7.3%, FAR 0.01%; grey FRR 0%, FAR 0.03%. (0.55, before:
    # FAR 0.25% and 0.36%.)
    selection_max_distance: float = 0.5
    # `headshots evaluate`'s same-person cut, the same distance: evaluate measures likeness, it
    # decides nothing, so both errors mislead alike and it sits at the equal-error point of the
    # web photos. 0.575: web FRR 1.8%, FAR 0.84%; grey FRR 0%, FAR 0.88%.
    evaluate_same_person_distance: float = 0.575
    # Variety hints need a few photos; spreads are max distance from the set's mean.
    variety_min_photos: int = 4
    variety_yaw_spread: float = 10.0
    variety_light_spread: float = 0.06  # (brightness / 255, left-right balance)
    variety_outfit_spread: float = 8.0  # CIE Lab units


DEFAULT_THRESHOLDS = Thresholds()
