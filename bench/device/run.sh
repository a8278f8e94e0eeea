#!/usr/bin/env bash
# The one command on a bare GPU host: put the carried wheels beside its libraries, then time.
#
#   bash bench/device/run.sh [OUT_DIR] [gpu_timing.py options...]
#
# Run from a copy of the repository that holds bench/device/carry (build_carry.sh makes it).
# A virtual environment over the system's site-packages gets the carried wheels, installed
# without dependency resolution (the host has no index); the host's torch, transformers and
# peft are used as they are. The table lands in OUT_DIR (default $OUT, else bench/device/out)
# as gpu-timing.md and gpu-timing.json, row by row, and is printed at the end.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
carry=$root/bench/device/carry
out=${1:-${OUT:-$root/bench/device/out}}
shift $(($# > 0 ? 1 : 0))
python=${PYTHON:-python3}
venv=${TMPDIR:-/tmp}/headshots-bench-venv

[ -d "$carry" ] || { echo "no $carry: run bench/device/build_carry.sh first" >&2; exit 2; }
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
"$python" -m venv --without-pip --system-site-packages "$venv" || exit 2
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
"$python" -m pip install --quiet --no-index --no-deps --target "$site" \
  $(ls "$carry"/*.whl | grep -v open_clip_torch) || exit 2
mkdir -p "$venv/share/headshots" && cp "$carry"/open_clip_torch-*.whl "$venv/share/headshots/"
"$venv/bin/python" -c 'import diffusers, huggingface_hub, torch, transformers, peft
print("diffusers", diffusers.__version__, "hub", huggingface_hub.__version__, "torch",
      torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__)'

# The whole run within the 8-minute budget: the script's watchdog stops it past that, and this
# timeout is the last word (a killed run still leaves its rows).
mkdir -p "$out"
timeout 560 "$venv/bin/python" "$root/bench/gpu_timing.py" --out "$out" "$@"
status=$?
echo "gpu_timing.py exited $status"
cat "$out/gpu-timing.md" 2>/dev/null
exit $status
