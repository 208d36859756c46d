#!/usr/bin/env python3
"""Checks an exported folder against a plain-PyTorch forward that follows transformers' definitions.

For machines with torch but without transformers (Debian's python3-torch is enough): it reads config.json
and the safetensors files of a folder written by `flame export hf` with its own small reader, builds nothing
from Flame, and computes the logits the way transformers' Qwen2MoeForCausalLM and LlamaForCausalLM define
them: Linear weights are [out, in]; RoPE rotates halves (rotate_half) with inv_freq = theta^(-2i/d);
RMSNorm runs in fp32; attention is causal softmax(q k^T / sqrt(d)); a sparse layer takes softmax over the
router logits, then the top k (renormalised only when norm_topk_prob), and adds the shared expert scaled by
sigmoid(shared_expert_gate(x)); a layer is dense when listed in mlp_only_layers or off decoder_sparse_step.
Every tensor in the files must be used and every expected one present, as transformers' strict load would
require. It compares with parity/logits.safetensors and exits 1 above the tolerance (parity/tokens.json's,
1e-4). It is a stand-in for scripts/check-hf-parity.py, which runs transformers itself, not a substitute:

    python3 scripts/check-hf-reference.py runs/demo/export/hf [--tolerance 1e-4]
"""
import argparse
import json
import math
import os
import sys

import torch

from parity_fixture import compare, load, read_safetensors

def read_weights(folder):
    index = os.path.join(folder, "model.safetensors.index.json")
    if not os.path.exists(index):
        return read_safetensors(os.path.join(folder, "model.safetensors"))
    with open(index, encoding="utf-8") as f:
        shards = sorted(set(json.load(f)["weight_map"].values()))
    weights = {}
    for shard in shards:
        weights.update(read_safetensors(os.path.join(folder, shard)))
    return weights


class Weights:
    """Hands out tensors by name and remembers which were used, so leftovers can be reported."""

    def __init__(self, tensors):
        self.tensors, self.used = tensors, set()

    def __call__(self, name):
        if name not in self.tensors:
            raise KeyError(f"missing tensor '{name}'")
        self.used.add(name)
        return self.tensors[name]

    def optional(self, name):
        return self(name) if name in self.tensors else None

    def unused(self):
        return sorted(set(self.tensors) - self.used)


def rms_norm(x, weight, eps):
    return weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))


def linear(x, weight, bias=None):
    y = x @ weight.t()
    return y if bias is None else y + bias


def swiglu(x, w, prefix):
    return linear(torch.nn.functional.silu(linear(x, w(prefix + "gate_proj.weight"))) * linear(x, w(prefix + "up_proj.weight")),
                  w(prefix + "down_proj.weight"))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope_theta(config):
    parameters = config.get("rope_parameters") or {}
    return float(parameters.get("rope_theta", config.get("rope_theta", 10000.0)))


def attention(x, w, prefix, config, qkv_bias):
    batch, length, hidden = x.shape
    heads = config["num_attention_heads"]
    head_dim = config.get("head_dim") or hidden // heads
    kv_heads = config.get("num_key_value_heads", heads)

    def project(name, count):
        bias = w(prefix + f"{name}_proj.bias") if qkv_bias else None
        return linear(x, w(prefix + f"{name}_proj.weight"), bias).view(batch, length, count, head_dim).transpose(1, 2)

    q, k, v = project("q", heads), project("k", kv_heads), project("v", kv_heads)
    inv_freq = 1.0 / (rope_theta(config) ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
    angles = torch.arange(length, dtype=torch.float32)[:, None] * inv_freq[None, :]
    cos, sin = torch.cat((angles, angles), -1).cos(), torch.cat((angles, angles), -1).sin()
    q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
    k = k.repeat_interleave(heads // kv_heads, dim=1)
    v = v.repeat_interleave(heads // kv_heads, dim=1)
    scores = q @ k.transpose(2, 3) / math.sqrt(head_dim)
    causal = torch.ones(length, length, dtype=torch.bool).triu(1)
    probs = scores.masked_fill(causal, float("-inf")).softmax(-1)
    out = (probs @ v).transpose(1, 2).reshape(batch, length, heads * head_dim)
    return linear(out, w(prefix + "o_proj.weight"))


def sparse_moe(x, w, prefix, config):
    shape = x.shape
    tokens = x.reshape(-1, shape[-1])
    probs = linear(tokens, w(prefix + "gate.weight")).softmax(-1)
    top_probs, top_experts = probs.topk(config["num_experts_per_tok"], dim=-1)
    if config.get("norm_topk_prob", False):
        top_probs = top_probs / top_probs.sum(-1, keepdim=True)
    out = torch.zeros_like(tokens)
    for expert in range(config["num_experts"]):
        # Every expert's weights are read (transformers loads them all), even one no token chose.
        expert_prefix = prefix + f"experts.{expert}."
        weights = [w(expert_prefix + n + ".weight") for n in ("gate_proj", "up_proj", "down_proj")]
        rows, slot = (top_experts == expert).nonzero(as_tuple=True)
        if rows.numel() == 0:
            continue
        chosen = tokens[rows]
        y = linear(torch.nn.functional.silu(linear(chosen, weights[0])) * linear(chosen, weights[1]), weights[2])
        out.index_add_(0, rows, y * top_probs[rows, slot, None])
    shared = swiglu(tokens, w, prefix + "shared_expert.")
    out = out + torch.sigmoid(linear(tokens, w(prefix + "shared_expert_gate.weight"))) * shared
    return out.reshape(shape)


def is_sparse(config, layer):
    if config["model_type"] != "qwen2_moe" or config.get("num_experts", 0) == 0:
        return False
    step = config.get("decoder_sparse_step", 1)
    return layer not in config.get("mlp_only_layers", []) and (layer + 1) % step == 0


def forward(config, w, ids):
    eps = config.get("rms_norm_eps", 1e-6)
    qkv_bias = config["model_type"] == "qwen2_moe" and config.get("qkv_bias", True)
    x = w("model.embed_tokens.weight")[ids]
    for layer in range(config["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        x = x + attention(rms_norm(x, w(p + "input_layernorm.weight"), eps), w, p + "self_attn.", config, qkv_bias)
        h = rms_norm(x, w(p + "post_attention_layernorm.weight"), eps)
        x = x + (sparse_moe(h, w, p + "mlp.", config) if is_sparse(config, layer) else swiglu(h, w, p + "mlp."))
    x = rms_norm(x, w("model.norm.weight"), eps)
    head = w("model.embed_tokens.weight") if config.get("tie_word_embeddings", False) else w("lm_head.weight")
    return linear(x, head)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a folder written by `flame export hf`")
    parser.add_argument("--tolerance", type=float, default=None, help="largest allowed |difference| (default: parity/tokens.json's, 1e-4)")
    args = parser.parse_args()

    fixture = load(args.folder, args.tolerance)
    if fixture is None:
        return 2
    ids, expected, tolerance = fixture
    with open(os.path.join(args.folder, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    weights = Weights(read_weights(args.folder))

    torch.set_grad_enabled(False)
    try:
        logits = forward(config, weights, ids)
    except KeyError as e:
        print(f"FAIL: {e.args[0]}")
        return 1
    if weights.unused():
        print(f"FAIL: tensors no {config['model_type']} layer reads: {weights.unused()[:8]}")
        return 1
    return compare(f"reference {config['architectures'][0]} (torch {torch.__version__}, cpu)", logits, expected, tolerance)


if __name__ == "__main__":
    sys.exit(main())
