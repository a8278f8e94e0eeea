#!/usr/bin/env bash
# Build bench/device/carry: the wheels a bare GPU host lacks to run bench/gpu_timing.py.
#
# The host (issue 28) has Python 3.12, torch 2.11, transformers 5.17, peft, accelerate,
# safetensors, numpy, pillow and opencv, and no internet. It lacks diffusers (at pyproject.toml's
# pin) and diffusers' small pure-Python needs; its huggingface-hub may predate the 1.32 that
# diffusers 0.42.1 asks for, so the last 1.x (transformers 5.17 wants < 2.0) comes along. The
# CLIP vocabulary wheel rides too (engine/studio/clip_vocab.py reads it; it is not installed).
# Wheels for cp312 manylinux x86_64, no dependency resolution: the list below is the whole set.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
carry=$here/carry
py=${PYTHON:-$root/.venv/bin/python}
limit_bytes=$((64 * 1024 * 1024))

diffusers=$(grep -o '"diffusers==[^"]*"' "$root/pyproject.toml" | tr -d '"')
wheels=(
  "$diffusers"
  huggingface-hub==1.33.0
  importlib_metadata==10.2.0 zipp==4.1.2
  requests==2.34.2 urllib3==2.8.0 idna==3.21 charset_normalizer==3.5.3
  certifi==2026.10.19.post1
  click==8.5.1 hf-xet==1.8.0  # huggingface-hub 1.33 asks for newer ones than 1.5 did
)

rm -rf "$carry"
mkdir -p "$carry"
"$py" -m pip download --quiet --no-deps --only-binary :all: --python-version 3.12 \
  --implementation cp --abi cp312 --platform manylinux2014_x86_64 \
  --platform manylinux_2_17_x86_64 --dest "$carry" "${wheels[@]}"
vocab=$(cd "$root" && PYTHONPATH=$root "$py" -m engine.studio.clip_vocab)
cp "$vocab" "$carry/"

size=$(du -cb "$carry"/* | tail -1 | cut -f1)
ls -l "$carry"
echo "carry: $(ls "$carry" | wc -l) files, $((size / 1024)) KiB (limit $((limit_bytes / 1024)) KiB)"
if [ "$size" -ge "$limit_bytes" ]; then
  echo "the carry is over 64 MiB: the device machine takes no more" >&2
  exit 1
fi
