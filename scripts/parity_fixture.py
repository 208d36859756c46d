"""What `flame export hf` writes beside an export for the parity checks, and the comparison both checks make.

parity/tokens.json holds fixed token ids and the tolerance; parity/logits.safetensors holds Flame's fp32 logits
for them. scripts/check-hf-parity.py (transformers) and scripts/check-hf-reference.py (plain PyTorch) import this.
"""
import json
import os
import struct

import torch

NEEDED = ("config.json", os.path.join("parity", "tokens.json"), os.path.join("parity", "logits.safetensors"))
DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32}


def read_safetensors(path):
    """name -> fp32 tensor; the format is an 8-byte little-endian header length, a JSON header, raw data."""
    with open(path, "rb") as f:
        blob = f.read()
    (header_length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + header_length])
    data = 8 + header_length
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        start, end = entry["data_offsets"]
        dtype = DTYPES[entry["dtype"]]
        raw = bytearray(blob[data + start:data + end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        tensors[name] = flat.reshape(entry["shape"]).to(torch.float32)
    return tensors


def load(folder, tolerance=None):
    """(token ids, Flame's logits, tolerance), or None after naming the missing file."""
    for needed in NEEDED:
        if not os.path.exists(os.path.join(folder, needed)):
            print(f"FAIL: {folder} has no {needed} (export with `flame export hf`, without --no-parity)")
            return None
    with open(os.path.join(folder, "parity", "tokens.json"), encoding="utf-8") as f:
        fixture = json.load(f)
    ids = torch.tensor(fixture["input_ids"], dtype=torch.long)
    expected = read_safetensors(os.path.join(folder, "parity", "logits.safetensors"))["logits"]
    return ids, expected, tolerance if tolerance is not None else float(fixture.get("tolerance", 1e-4))


def compare(label, logits, expected, tolerance):
    """Prints the largest |difference| and returns the exit code: 0 within the tolerance, else 1."""
    if logits.shape != expected.shape:
        print(f"FAIL: {label} gives logits {tuple(logits.shape)}, Flame wrote {tuple(expected.shape)}")
        return 1
    diff = (logits - expected).abs()
    worst = diff.max().item()
    agree = (logits.argmax(-1) == expected.argmax(-1)).float().mean().item()
    print(f"{label}: max |logit difference| {worst:.3e} over {tuple(expected.shape[:-1])} tokens "
          f"(max |logit| {expected.abs().max().item():.3f}, mean |diff| {diff.mean().item():.3e}, argmax agreement {agree:.1%}); "
          f"tolerance {tolerance:g}: {'PASS' if worst <= tolerance else 'FAIL'}")
    return 0 if worst <= tolerance else 1
