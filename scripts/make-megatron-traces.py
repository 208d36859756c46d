#!/usr/bin/env python3
"""Writes a small routing capture as FLAME-MoE's Megatron fork does, to test `flame import megatron-traces`.

The fork (cmu-flame/FLAME-MoE's Megatron-LM submodule, --test-mode) saves, per forward pass n of rank r:
  samples/{n}-{r}.pt               torch.save(input_ids.view(-1)): input_ids is [batch, seq], so batch-major
  actives/{step}/{layer}/{n}-{r}.pt torch.save(torch.topk(probs, k)): probs has one row per hidden state of the
                                   MoE layer, whose input is [seq, batch], so its rows are seq-major
(megatron/core/models/gpt/gpt_model.py and megatron/core/transformer/moe/moe_layer.py of the fork; the folders
come from EACT_SAVE=actives/$step and TIDS_SAVE=samples in scripts/empirical_analysis/capture-*.sh).

Here a token's routing is a known function of its id, step and layer, so a reader can check that every routing
row lands on its token: expert j of token t is (t + 3 j + step + layer) mod E, with score (t mod 5 + 1) / (8 (j + 1)),
scores descending and exact in float16.

    python3 scripts/make-megatron-traces.py OUT [--seq 4] [--batch 2] [--passes 2] [--ranks 2] [--experts 8] [--top-k 3]
"""
import argparse
import os

import torch


def routing(ids, step, layer, experts, k):
    probs = torch.zeros(ids.numel(), experts)
    for j in range(k):
        e = (ids + 3 * j + step + layer) % experts
        probs[torch.arange(ids.numel()), e] = (ids % 5 + 1).float() / (8 * (j + 1))
    return torch.topk(probs, k)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out")
    p.add_argument("--seq", type=int, default=4)
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--passes", type=int, default=2)
    p.add_argument("--ranks", type=int, default=2)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--steps", default="10,20")
    p.add_argument("--layers", default="2,3")
    a = p.parse_args()
    g = torch.Generator().manual_seed(3)
    os.makedirs(os.path.join(a.out, "samples"), exist_ok=True)
    for n in range(a.passes):
        for r in range(a.ranks):
            input_ids = torch.randint(0, 50, (a.batch, a.seq), generator=g)
            torch.save(input_ids.view(-1), os.path.join(a.out, "samples", f"{n}-{r}.pt"))
            hidden_order = input_ids.t().reshape(-1)  # [seq, batch] flattened, as the MoE layer sees tokens
            for step in map(int, a.steps.split(",")):
                for layer in map(int, a.layers.split(",")):
                    folder = os.path.join(a.out, "actives", str(step), str(layer))
                    os.makedirs(folder, exist_ok=True)
                    values, indices = routing(hidden_order, step, layer, a.experts, a.top_k)
                    torch.save((values, indices), os.path.join(folder, f"{n}-{r}.pt"))
    print(f"wrote {a.out}: {a.passes} passes x {a.ranks} ranks of [{a.batch}, {a.seq}] tokens")


if __name__ == "__main__":
    main()
