"""Run a script as the bare GPU host would: the libraries that host lacks cannot be imported.

`python tests/bare_host.py SCRIPT ARGS...` marks each missing library absent in `sys.modules`, the
import system's own "not installed": an import raises ModuleNotFoundError and
`importlib.util.find_spec` answers None, so optional-dependency checks (diffusers and
transformers make many) see what they would see there. Then it runs SCRIPT as `__main__`.
"""

from __future__ import annotations

import runpy
import sys

# The bare host's image has torch, transformers, peft, accelerate, safetensors, numpy, pillow and
# opencv (issue 28); cv2 is blocked too, since the timing path must not need it. The rest are
# this project's CPU face stack, its settings and its services.
ABSENT = (
    "mediapipe", "dlib", "cv2", "pydantic_settings", "pydantic", "skimage", "matplotlib",
    "face_recognition_models", "imagehash", "pillow_heif", "onnxruntime", "arq", "redis",
)  # fmt: skip


def main() -> None:
    """Mark the absent libraries and run the script named on the command line."""
    for name in ABSENT:
        sys.modules[name] = None  # type: ignore[assignment]  # the import system's "absent"
    script, *args = sys.argv[1:]
    sys.argv = [script, *args]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
