#!/usr/bin/env python3
"""Checks that Hugging Face transformers computes the same logits as Flame for an exported folder.

`flame export hf` writes parity/tokens.json (fixed token ids) and parity/logits.safetensors (Flame's fp32
logits for them) beside the model. This script loads the folder with transformers in fp32 (no missing or
unexpected weights allowed), runs the same ids and prints the largest absolute difference; it exits 1
when that exceeds the tolerance (1e-4 unless --tolerance is given). Needs torch and transformers
(the GPU machine has them; the dev machines do not):

    python3 scripts/check-hf-parity.py runs/demo/export/hf [--device cuda] [--tolerance 1e-4]
"""
import argparse
import sys

import torch
from transformers import AutoModelForCausalLM

from parity_fixture import compare, load


def load_model(folder):
    # transformers 5 names the argument dtype; 4 names it torch_dtype.
    for dtype_arg in ("dtype", "torch_dtype"):
        try:
            return AutoModelForCausalLM.from_pretrained(
                folder, **{dtype_arg: torch.float32}, attn_implementation="eager", output_loading_info=True)
        except TypeError:
            continue
    raise RuntimeError("could not call from_pretrained with an fp32 dtype")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder written by `flame export hf`")
    parser.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    parser.add_argument("--tolerance", type=float, default=None, help="largest allowed |difference| (default: parity/tokens.json's, 1e-4)")
    args = parser.parse_args()

    fixture = load(args.folder, args.tolerance)
    if fixture is None:
        return 2
    ids, expected, tolerance = fixture

    torch.backends.cuda.matmul.allow_tf32 = False  # fp32 means fp32
    torch.backends.cudnn.allow_tf32 = False
    model, info = load_model(args.folder)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if problems:
        print(f"FAIL: transformers did not load every weight exactly: {problems}")
        return 1
    model = model.to(args.device).eval()
    with torch.no_grad():
        logits = model(input_ids=ids.to(args.device)).logits.float().cpu()
    return compare(f"{type(model).__name__} ({args.device})", logits, expected, tolerance)


if __name__ == "__main__":
    sys.exit(main())
