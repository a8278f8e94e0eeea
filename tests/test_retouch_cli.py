"""`headshots retouch`, run as a person would run it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.photos import astronaut, chelsea, to_bytes

HEADSHOTS = Path(sys.executable).with_name("headshots")


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADSHOTS_")}
    env["HEADSHOTS_BRAND_COLOUR"] = "#F2C94C"
    return subprocess.run(
        [str(HEADSHOTS), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
        check=False,
    )  # fmt: skip


def test_retouch_writes_headshots_a_contact_sheet_and_a_kit(tmp_path: Path) -> None:
    astronaut().save(tmp_path / "eileen.jpg", quality=92)
    chelsea().resize((902, 600)).save(tmp_path / "cat.png")
    out = tmp_path / "out"
    result = _run(
        "retouch", "eileen.jpg", "cat.png", "--out", "out", "--background", "white",
        "--background", "brand", "--aspect", "4:5", "--name", "Eileen Collins",
        "--title", "Astronaut", cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1  # one photo had no face
    assert "cat.png" in result.stderr and "face" in result.stderr
    assert "Traceback" not in result.stderr
    for name in ["eileen_white.jpg", "eileen_brand.jpg"]:
        with Image.open(out / name) as image:
            assert image.size == (1080, 1350)
    with Image.open(out / "eileen_brand.jpg") as image:
        corner = image.convert("RGB").getpixel((5, 5))
    assert isinstance(corner, tuple)
    assert max(abs(a - b) for a, b in zip(corner, (242, 201, 76), strict=True)) <= 4
    with Image.open(out / "contact_sheet.png") as sheet:
        assert sheet.size == (12 + 3 * 372, 44 + 372 + 12)  # before, white, brand; one row
    with Image.open(out / "banner.png") as banner:
        assert banner.size == (1584, 396)
    assert (out / "avatar.jpg").exists() and (out / "signature.jpg").exists()


def test_retouch_refuses_an_unknown_background(tmp_path: Path) -> None:
    astronaut().save(tmp_path / "eileen.jpg")
    result = _run("retouch", "eileen.jpg", "--out", "out", "--background", "plaid", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("headshots: unknown background 'plaid'")


def test_pool_entry_points_import_nothing_heavy() -> None:
    code = (
        "import sys, engine.retouch.pool, engine.retouch.pick\n"
        "print(','.join(m for m in ['cv2', 'mediapipe', 'dlib', 'numpy'] if m in sys.modules))"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True
    )
    assert result.stdout.strip() == ""


def test_retouch_runs_in_a_spawned_pool_as_the_bot_will_call_it() -> None:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from engine.retouch import pool as retouch

    with ProcessPoolExecutor(
        1, mp_context=get_context("spawn"), initializer=retouch.warm_up
    ) as pool:
        jpeg = pool.submit(retouch.retouch, to_bytes(astronaut()), "white", "4:5").result(
            timeout=120
        )
        kit = pool.submit(retouch.profile_kit, jpeg, "Eileen Collins", "Pilot", "#0A66C2").result(
            timeout=120
        )
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.size == (1080, 1350)
    assert set(kit) == {"avatar", "signature", "banner"}
