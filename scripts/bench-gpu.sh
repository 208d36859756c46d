#!/usr/bin/env bash
# Flame against the PyTorch anchor in one command on a GPU machine with PyTorch and transformers (no .NET needed):
# the anchor (scripts/bench-anchor.py: transformers' Qwen2-MoE as FLAME-MoE, bf16 autocast, fused AdamW, grouped_mm
# experts) and `flame bench train` on the same presets, micro-batches and sequence length, side by side.
#
#   bash scripts/bench-gpu.sh                              # flame-moe-38m:16 98m:16 290m:8 721m:4 (the anchor's best)
#   bash scripts/bench-gpu.sh flame-moe-290m:8             # a subset, PRESET:MICRO_BATCH
#   STEPS=20 WARMUP=5 BREAKDOWN=3 FLAME_ARGS="--adamw plain" bash scripts/bench-gpu.sh
#
# The flame binary: $FLAME_BIN, else flame-gpu/flame or artifacts/flame-gpu/flame, else the tarball that
# scripts/publish-gpu.sh writes (artifacts/flame-gpu-linux-x64.tar.xz, or beside this script) is unpacked.
# FLAME_LIBTORCH defaults to the installed PyTorch's torch/lib. JSON per run and summary.md go to
# $RESULTS (default: $OUT when set, else bench-gpu-results).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
steps="${STEPS:-10}"; warmup="${WARMUP:-3}"; seq="${SEQ:-2048}"; breakdown="${BREAKDOWN:-0}"
results="${RESULTS:-${OUT:-bench-gpu-results}}"
mkdir -p "$results"
runs=("$@"); [ ${#runs[@]} -eq 0 ] && runs=(flame-moe-38m:16 flame-moe-98m:16 flame-moe-290m:8 flame-moe-721m:4)

flame="${FLAME_BIN:-}"
for candidate in "$root/flame-gpu/flame" "$root/artifacts/flame-gpu/flame" "$here/flame-gpu/flame"; do
  [ -z "$flame" ] && [ -x "$candidate" ] && flame="$candidate"
done
if [ -z "$flame" ]; then
  for tarball in "$root/artifacts/flame-gpu-linux-x64.tar.xz" "$root/flame-gpu-linux-x64.tar.xz" "$here/flame-gpu-linux-x64.tar.xz"; do
    if [ -f "$tarball" ]; then tar -C "$(dirname "$tarball")" -xJf "$tarball" && flame="$(dirname "$tarball")/flame-gpu/flame"; break; fi
  done
fi
[ -x "${flame:-}" ] || { echo "no flame binary: run scripts/publish-gpu.sh and bring artifacts/flame-gpu-linux-x64.tar.xz, or set FLAME_BIN" >&2; exit 2; }
export FLAME_LIBTORCH="${FLAME_LIBTORCH:-$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$results/gpu.txt"

for run in "${runs[@]}"; do
  preset="${run%%:*}"; mb="${run##*:}"
  echo "== $preset micro-batch $mb: anchor" >&2
  python3 "$here/bench-anchor.py" --preset "$preset" --micro-batch "$mb" --seq "$seq" --steps "$steps" --warmup "$warmup" \
    > "$results/$preset-mb$mb-anchor.json" 2> "$results/$preset-mb$mb-anchor.log" || echo "anchor failed (see $results/$preset-mb$mb-anchor.log)" >&2
  echo "== $preset micro-batch $mb: flame" >&2
  # shellcheck disable=SC2086
  "$flame" bench train --preset "$preset" --device cuda --micro-batch "$mb" --seq "$seq" --steps "$steps" --warmup "$warmup" \
    --breakdown "$breakdown" ${FLAME_ARGS:-} --json > "$results/$preset-mb$mb-flame.json" 2> "$results/$preset-mb$mb-flame.log" \
    || echo "flame failed (see $results/$preset-mb$mb-flame.log)" >&2
done

python3 - "$results" "${runs[@]}" <<'PY' | tee "$results/summary.md"
import json, sys
folder, runs = sys.argv[1], sys.argv[2:]
def load(path):
    try:
        text = open(path).read()
        return json.loads(text[text.index("{"):text.rindex("}") + 1])
    except (OSError, ValueError):
        return None
def gb(value):
    return f"{value / 1e9:.1f} GB" if value else "-"
print("| preset | micro-batch | anchor tokens/s | flame tokens/s | ratio | anchor MFU | flame MFU | anchor peak mem (allocated / in use) | flame mem in use |")
print("|---|---|---|---|---|---|---|---|---|")
for run in runs:
    preset, mb = run.split(":")
    a = load(f"{folder}/{preset}-mb{mb}-anchor.json")
    f = load(f"{folder}/{preset}-mb{mb}-flame.json")
    cells = [preset, mb,
             f"{a['tokens_per_second']:,.0f}" if a else "failed",
             f"{f['tokens_per_second']:,.0f}" if f else "failed",
             f"{f['tokens_per_second'] / a['tokens_per_second']:.2f}x" if a and f else "-",
             f"{a['mfu']:.1%}" if a else "-",
             f"{f['mfu']:.1%}" if f and f.get("mfu") is not None else "-",
             f"{gb(a['max_memory_allocated_bytes'])} / {gb(a['device_memory_in_use_bytes'])}" if a else "-",
             gb(f["memory"]["peak_bytes"]) if f else "-"]
    print("| " + " | ".join(cells) + " |")
    if f and f.get("breakdown"):
        b = f["breakdown"]
        phases = ", ".join(f"{p['phase']} {p['milliseconds_per_step']:.1f} ms" for p in b["phases"])
        print(f"|  | flame phases ({b['timer']}, {b['milliseconds_per_step']:.1f} ms/step): {phases} | | | | | | | |")
PY
