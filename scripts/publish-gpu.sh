#!/usr/bin/env bash
# Publishes a self-contained linux-x64 `flame` without the CPU libtorch, for a GPU machine that has
# PyTorch but no .NET. There, set FLAME_LIBTORCH to PyTorch's torch/lib folder (see README, "GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
out=artifacts/flame-gpu
rm -rf "$out" artifacts/flame-gpu-linux-x64.tar.xz
dotnet publish src/Flame.Cli/Flame.Cli.csproj -c Release -r linux-x64 --self-contained \
  -p:FlameGpuPublish=true -p:DebugType=none -o "$out" --nologo -v quiet
# Natives for other operating systems are dead weight on Linux.
find "$out" \( -name '*.dll' -path '*/runtimes/win*' -o -name '*.dylib' \) -delete 2>/dev/null || true
tar -C artifacts -cJf artifacts/flame-gpu-linux-x64.tar.xz flame-gpu
echo "wrote artifacts/flame-gpu-linux-x64.tar.xz ($(du -h artifacts/flame-gpu-linux-x64.tar.xz | cut -f1))"
