#!/usr/bin/env python3
"""Writes Megatron-LM checkpoints of a Flame model, to test `flame import megatron` without the released files.

Input: a folder written by `flame export hf` (config.json, model.safetensors, parity/), so that Python reads
the model without Flame. Output, under OUT:
  legacy/        --ckpt-format torch: iter_NNNNNNN/mp_rank_00_EEE/model_optim_rng.pt per expert-parallel rank
                 (torch.save; each rank repeats the non-expert weights and holds its experts numbered locally),
                 latest_checkpointed_iteration.txt
  legacy-bf16/   the same with EP 1 in bf16, every weight a view into one flat buffer (as Megatron's
                 distributed-optimizer parameter buffer makes them), the router saved transposed-strided
  torch_dist/    --ckpt-format torch_dist: iter_NNNNNNN/{.metadata, __0_0.distcp, common.pt, metadata.json},
                 written by torch.distributed.checkpoint (torch/distributed/_shard/checkpoint in PyTorch 1.13),
                 experts as one [E, ...] tensor per weight split into EP chunks along the expert axis
  parity/        the export's parity/tokens.json and logits.safetensors (Flame's logits of the source)

Names and layouts follow Megatron-Core (megatron/core/transformer/attention.py linear_qkv per-head [q; k; v],
mlp.py gated fc1 = [gate; up], moe/experts.py SequentialMLP local_experts / torch_dist global expert axis,
models/gpt/gpt_layer_specs.py TE fused layer norms), as src/Flame.Core/Interop/Megatron/MegatronWeightMap.cs.

    python3 scripts/make-megatron-checkpoint.py EXPORT_DIR --out OUT [--ep 2] [--iteration 5]
    python3 scripts/make-megatron-checkpoint.py --tiny-hf DIR     # a random tiny FLAME-shaped HF folder to start from

The tiny folder (bf16-exact weights) goes through `flame import hf`, then `flame export hf`, to make the source.
"""
import argparse
import collections
import enum
import io
import json
import os
import random
import shutil
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from parity_fixture import read_safetensors  # noqa: E402


class AttnBackend(enum.Enum):
    """Stands in for the enums recent Megatron keeps in its args (megatron/core/transformer/enums.py)."""
    auto = 5


def megatron_args(cfg, ep, iteration, dtype):
    layers = cfg["num_hidden_layers"]
    dense = set(cfg.get("mlp_only_layers", []))
    return argparse.Namespace(
        num_layers=layers, hidden_size=cfg["hidden_size"], ffn_hidden_size=cfg["intermediate_size"],
        num_attention_heads=cfg["num_attention_heads"], kv_channels=cfg["hidden_size"] // cfg["num_attention_heads"],
        group_query_attention=False, num_query_groups=cfg["num_attention_heads"],
        max_position_embeddings=cfg["max_position_embeddings"], padded_vocab_size=cfg["vocab_size"],
        swiglu=True, normalization="RMSNorm", norm_epsilon=cfg["rms_norm_eps"], apply_layernorm_1p=False,
        untie_embeddings_and_output_weights=True, position_embedding_type="rope", rotary_base=int(cfg["rope_theta"]),
        rotary_percent=1.0, rotary_interleaved=False, add_bias_linear=False, add_qkv_bias=False, qk_layernorm=False,
        num_experts=cfg["num_experts"], moe_router_topk=cfg["num_experts_per_tok"],
        moe_ffn_hidden_size=cfg["moe_intermediate_size"],
        moe_shared_expert_intermediate_size=cfg["shared_expert_intermediate_size"],
        moe_layer_freq=[0 if l in dense else 1 for l in range(layers)],
        moe_router_pre_softmax=True, moe_router_score_function="softmax", moe_router_topk_scaling_factor=None,
        moe_router_num_groups=None, moe_router_group_topk=None, moe_router_enable_expert_bias=False,
        moe_expert_capacity_factor=None, moe_router_load_balancing_type="aux_loss", moe_router_dtype="fp32",
        moe_aux_loss_coeff=0.01, moe_z_loss_coeff=0.001, init_method_std=0.02,
        tensor_model_parallel_size=1, pipeline_model_parallel_size=1, expert_model_parallel_size=ep,
        params_dtype=dtype, bf16=dtype == torch.bfloat16, attention_backend=AttnBackend.auto,
        tokenizer_type="HuggingFaceTokenizer", tokenizer_model="EleutherAI/pythia-12b",
        iteration=iteration, seq_length=cfg["max_position_embeddings"],
    )


def megatron_tensors(folder):
    """The export's tensors under Megatron-Core's names, experts numbered globally (legacy naming)."""
    with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    if cfg.get("model_type") != "qwen2_moe":
        raise SystemExit("expected a Flame MoE export (qwen2_moe)")
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    h, heads = cfg["hidden_size"], cfg["num_attention_heads"]
    d = h // heads
    dense = set(cfg.get("mlp_only_layers", []))
    out = collections.OrderedDict()
    out["embedding.word_embeddings.weight"] = w["model.embed_tokens.weight"]
    for l in range(cfg["num_hidden_layers"]):
        p, m = f"model.layers.{l}.", f"decoder.layers.{l}."
        for b in ("q", "k", "v"):
            bias = w.get(p + f"self_attn.{b}_proj.bias")
            assert bias is None or not bias.any(), "non-zero q/k/v bias"
        q, k, v = (w[p + f"self_attn.{b}_proj.weight"].view(heads, d, h) for b in ("q", "k", "v"))
        out[m + "self_attention.linear_qkv.layer_norm_weight"] = w[p + "input_layernorm.weight"]
        # attention.py: rows per query group [q heads; k; v]; one head per group without GQA.
        out[m + "self_attention.linear_qkv.weight"] = torch.stack([q, k, v], dim=1).reshape(3 * h, h)
        out[m + "self_attention.linear_proj.weight"] = w[p + "self_attn.o_proj.weight"]
        if l in dense:
            out[m + "mlp.linear_fc1.layer_norm_weight"] = w[p + "post_attention_layernorm.weight"]
            out[m + "mlp.linear_fc1.weight"] = torch.cat([w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"]])
            out[m + "mlp.linear_fc2.weight"] = w[p + "mlp.down_proj.weight"]
            continue
        out[m + "pre_mlp_layernorm.weight"] = w[p + "post_attention_layernorm.weight"]
        out[m + "mlp.router.weight"] = w[p + "mlp.gate.weight"]
        for e in range(cfg["num_experts"]):
            x = p + f"mlp.experts.{e}."
            out[m + f"mlp.experts.local_experts.{e}.linear_fc1.weight"] = torch.cat([w[x + "gate_proj.weight"], w[x + "up_proj.weight"]])
            out[m + f"mlp.experts.local_experts.{e}.linear_fc2.weight"] = w[x + "down_proj.weight"]
        assert not w[p + "mlp.shared_expert_gate.weight"].any(), "a learned shared-expert gate"
        s = p + "mlp.shared_expert."
        out[m + "mlp.shared_experts.linear_fc1.weight"] = torch.cat([w[s + "gate_proj.weight"], w[s + "up_proj.weight"]])
        # The export doubles down_proj against Qwen2MoE's sigmoid(0) = 1/2 gate; Megatron's shared expert is ungated.
        out[m + "mlp.shared_experts.linear_fc2.weight"] = w[s + "down_proj.weight"] / 2
    out["decoder.final_layernorm.weight"] = w["model.norm.weight"]
    out["output_layer.weight"] = w["lm_head.weight"]
    return cfg, out


def extra_state():
    """TransformerEngine's per-module FP8 metadata, an io.BytesIO in the state dict (te/pytorch/module/base.py)."""
    return io.BytesIO()


def rng_state():
    return [{"random_rng_state": random.getstate(), "np_rng_state": np.random.get_state(),
             "torch_rng_state": torch.get_rng_state(), "cuda_rng_state": torch.get_rng_state(), "rng_tracker_states": {}}]


def write_legacy(root, cfg, tensors, ep, iteration, dtype, flat_buffer):
    experts = cfg["num_experts"]
    local = experts // ep
    folder = os.path.join(root, f"iter_{iteration:07d}")
    for rank in range(ep):
        model = collections.OrderedDict()
        for name, t in tensors.items():
            parts = name.split(".")
            if "local_experts" in parts:
                i = parts.index("local_experts")
                e = int(parts[i + 1])
                if e // local != rank:
                    continue
                parts[i + 1] = str(e - rank * local)
                name = ".".join(parts)
            model[name] = t.to(dtype).clone()
            if name.endswith("linear_qkv.weight") or name.endswith("linear_fc1.weight") and "experts" not in name:
                model[name.rsplit(".", 1)[0] + "._extra_state"] = extra_state()
        if flat_buffer:
            # One buffer holds every weight; each state-dict entry is a view at its offset.
            numel = sum(t.numel() for t in model.values() if torch.is_tensor(t))
            buffer = torch.zeros(numel, dtype=dtype)
            offset = 0
            for name, t in model.items():
                if not torch.is_tensor(t):
                    continue
                view = buffer[offset:offset + t.numel()].view(t.shape)
                view.copy_(t)
                if name.endswith("mlp.router.weight"):
                    # A transposed (strided) view: the same values, stored column-major.
                    store = buffer[offset:offset + t.numel()].view(t.shape[1], t.shape[0])
                    store.copy_(t.t())
                    view = store.t()
                model[name] = view
                offset += t.numel()
        state = {"args": megatron_args(cfg, ep, iteration, dtype), "checkpoint_version": 3.0, "iteration": iteration,
                 "model": model, "rng_state": rng_state(), "num_floating_point_operations_so_far": 0,
                 "opt_param_scheduler": {"max_lr": 3e-4, "num_steps": iteration * 1024}}
        sub = os.path.join(folder, f"mp_rank_00_{rank:03d}" if ep > 1 else "mp_rank_00")
        os.makedirs(sub, exist_ok=True)
        torch.save(state, os.path.join(sub, "model_optim_rng.pt"))
    with open(os.path.join(root, "latest_checkpointed_iteration.txt"), "w") as f:
        f.write(str(iteration))


def import_prototype():
    """Debian's python3-torch 1.13 under Python 3.11: the prototype's dataclasses use a dataclass instance as a field
    default, which Python 3.11 refuses (unhashable); they load when made hashable while the module is imported."""
    import dataclasses
    original = dataclasses.dataclass

    def hashable(cls=None, /, **kw):
        def wrap(c):
            extra = {} if kw.get("frozen") or "__hash__" in c.__dict__ else {"unsafe_hash": True}
            return original(c, **kw, **extra)
        return wrap(cls) if cls is not None else wrap
    dataclasses.dataclass = hashable
    try:
        import torch.distributed._shard.checkpoint  # noqa: F401
    finally:
        dataclasses.dataclass = original


def write_torch_dist(root, cfg, tensors, ep, iteration, dtype):
    try:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.default_planner import DefaultSavePlanner
        from torch.distributed.checkpoint.planner import SavePlan, WriteItem, WriteItemType, TensorWriteData
        from torch.distributed.checkpoint.metadata import ChunkStorageMetadata, MetadataIndex
    except ImportError:  # PyTorch 1.13: the prototype
        import_prototype()
        import torch.distributed._shard.checkpoint as dcp
        from torch.distributed._shard.checkpoint.default_planner import DefaultSavePlanner
        from torch.distributed._shard.checkpoint.planner import SavePlan, WriteItem, WriteItemType, TensorWriteData
        from torch.distributed._shard.checkpoint.metadata import ChunkStorageMetadata, MetadataIndex
    experts = cfg["num_experts"]
    state = collections.OrderedDict()
    stacked = {}
    for name, t in tensors.items():
        parts = name.split(".")
        if "local_experts" in parts:
            i = parts.index("local_experts")
            key = ".".join(parts[:i] + ["experts"] + parts[i + 2:])  # experts.py: '{prefix}experts.' + weight name
            stacked.setdefault(key, [None] * experts)[int(parts[i + 1])] = t
            continue
        state[name] = t.to(dtype).clone()
        if name.endswith("linear_qkv.weight"):
            state[name.rsplit(".", 1)[0] + "._extra_state/shard_0_1"] = extra_state()
    for key, parts in stacked.items():
        state[key] = torch.stack(parts).to(dtype)
    state["rng_state/shard_0_0"] = rng_state()

    class ExpertParallelPlanner(DefaultSavePlanner):
        """Writes each stacked expert tensor as EP chunks along the expert axis, as EP ranks would."""

        def create_local_plan(self):
            plan = super().create_local_plan()
            items = []
            for item in plan.items:
                if item.index.fqn not in stacked:
                    items.append(item)
                    continue
                size = state[item.index.fqn].size()
                step = size[0] // ep
                for r in range(ep):
                    offsets = torch.Size([r * step] + [0] * (len(size) - 1))
                    sizes = torch.Size([step] + list(size[1:]))
                    items.append(WriteItem(index=MetadataIndex(item.index.fqn, offsets), type=WriteItemType.SHARD,
                                           tensor_data=TensorWriteData(chunk=ChunkStorageMetadata(offsets=offsets, sizes=sizes),
                                                                       properties=item.tensor_data.properties, size=size)))
            self.plan = SavePlan(items)
            return self.plan

        def resolve_data(self, write_item):
            obj = state[write_item.index.fqn]
            if write_item.type == WriteItemType.SHARD:
                o, s = write_item.tensor_data.chunk.offsets, write_item.tensor_data.chunk.sizes
                return obj.narrow(0, o[0], s[0]).clone()
            return self.transform_object(write_item, obj)

    folder = os.path.join(root, f"iter_{iteration:07d}")
    os.makedirs(folder, exist_ok=True)
    writer = dcp.FileSystemWriter(folder, single_file_per_rank=True)
    dcp.save_state_dict(state, storage_writer=writer, no_dist=True, planner=ExpertParallelPlanner())
    torch.save({"args": megatron_args(cfg, ep, iteration, dtype), "checkpoint_version": 3.0, "iteration": iteration,
                "num_floating_point_operations_so_far": 0}, os.path.join(folder, "common.pt"))
    with open(os.path.join(folder, "metadata.json"), "w") as f:
        json.dump({"sharded_backend": "torch_dist", "sharded_backend_version": 1,
                   "common_backend": "torch", "common_backend_version": 1}, f)
    with open(os.path.join(root, "latest_checkpointed_iteration.txt"), "w") as f:
        f.write(str(iteration))


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def tiny_hf(folder, seed=7):
    """A random FLAME-shaped Qwen2MoE folder (Flame's export layout) with bf16-exact fp32 weights."""
    g = torch.Generator().manual_seed(seed)
    V, h, heads, L, F, E, K, Fe, Fs = 64, 16, 2, 3, 32, 4, 2, 8, 16

    def rnd(*shape, scale=0.2):
        return (torch.randn(*shape, generator=g) * scale).to(torch.bfloat16).float()

    def norm(n):
        return (1 + torch.randn(n, generator=g) * 0.1).to(torch.bfloat16).float()
    w = {"model.embed_tokens.weight": rnd(V, h, scale=1.0), "model.norm.weight": norm(h), "lm_head.weight": rnd(V, h)}
    for l in range(L):
        p = f"model.layers.{l}."
        w[p + "input_layernorm.weight"] = norm(h)
        w[p + "post_attention_layernorm.weight"] = norm(h)
        for b in ("q", "k", "v", "o"):
            w[p + f"self_attn.{b}_proj.weight"] = rnd(h, h)
        if l == 0:
            for b, shape in (("gate", (F, h)), ("up", (F, h)), ("down", (h, F))):
                w[p + f"mlp.{b}_proj.weight"] = rnd(*shape)
            continue
        w[p + "mlp.gate.weight"] = rnd(E, h, scale=1.0)
        for e in range(E):
            for b, shape in (("gate", (Fe, h)), ("up", (Fe, h)), ("down", (h, Fe))):
                w[p + f"mlp.experts.{e}.{b}_proj.weight"] = rnd(*shape)
        for b, shape in (("gate", (Fs, h)), ("up", (Fs, h)), ("down", (h, Fs))):
            w[p + f"mlp.shared_expert.{b}_proj.weight"] = rnd(*shape)
        w[p + "mlp.shared_expert_gate.weight"] = torch.zeros(1, h)
    cfg = {"architectures": ["Qwen2MoeForCausalLM"], "model_type": "qwen2_moe", "vocab_size": V, "hidden_size": h,
           "intermediate_size": F, "num_hidden_layers": L, "num_attention_heads": heads, "num_key_value_heads": heads,
           "hidden_act": "silu", "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
           "tie_word_embeddings": False, "use_sliding_window": False, "decoder_sparse_step": 1, "mlp_only_layers": [0],
           "num_experts": E, "num_experts_per_tok": K, "moe_intermediate_size": Fe, "shared_expert_intermediate_size": Fs,
           "norm_topk_prob": False, "qkv_bias": False, "torch_dtype": "float32"}
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
    write_safetensors(os.path.join(folder, "model.safetensors"), w)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", nargs="?", help="a folder written by flame export hf")
    parser.add_argument("--out", help="folder to write (legacy/, legacy-bf16/, torch_dist/, parity/)")
    parser.add_argument("--ep", type=int, default=2, help="expert-parallel ranks")
    parser.add_argument("--iteration", type=int, default=5)
    parser.add_argument("--tiny-hf", help="write a random tiny FLAME-shaped Hugging Face folder here and stop")
    a = parser.parse_args()
    if a.tiny_hf:
        tiny_hf(a.tiny_hf)
        return
    if not a.export or not a.out:
        parser.error("EXPORT and --out are required")
    cfg, tensors = megatron_tensors(a.export)
    write_legacy(os.path.join(a.out, "legacy"), cfg, tensors, a.ep, a.iteration, torch.float32, flat_buffer=False)
    write_legacy(os.path.join(a.out, "legacy-bf16"), cfg, tensors, 1, a.iteration, torch.bfloat16, flat_buffer=True)
    write_torch_dist(os.path.join(a.out, "torch_dist"), cfg, tensors, a.ep, a.iteration, torch.float32)
    parity = os.path.join(a.export, "parity")
    if os.path.isdir(parity):
        shutil.copytree(parity, os.path.join(a.out, "parity"), dirs_exist_ok=True)
    print(f"wrote {a.out}: legacy (EP {a.ep}), legacy-bf16 (EP 1, one flat buffer), torch_dist (EP {a.ep} chunks), iteration {a.iteration}")


if __name__ == "__main__":
    main()
