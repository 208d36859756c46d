#!/usr/bin/env python3
"""The PyTorch anchor for `flame bench train`: transformers' Qwen2MoeForCausalLM configured as FLAME-MoE.

Per preset (spec section 1): L layers, hidden h, 16 heads (no GQA), dense first layer of width F
(mlp_only_layers=[0]), 64 experts of width F_exp, top-6 gates NOT renormalised (norm_topk_prob=False), one
shared expert of width 2*F_exp, vocabulary 50277 padded to 50304 as Flame pads it, untied output layer,
RoPE base 10000, RMSNorm eps 1e-6, seq 2048. Trained as the platform notes' anchor was measured: fp32
weights under bf16 autocast, fused AdamW (0.9/0.999/1e-8, wd 0.01), gradient clipping at 1.0, the
load-balancing loss on (output_router_logits), SDPA attention and, where the installed transformers has it,
the grouped_mm experts backend. Synthetic token ids; N timed steps after a warm-up; prints one JSON object:

    python3 scripts/bench-anchor.py --preset flame-moe-290m --micro-batch 8 [--steps 10] [--warmup 3] [--experts grouped_mm]

Needs torch and transformers (the GPU machine has them). Model FLOPs per token are counted as the platform
notes count them: 6*N + 6*L*seq*h, N = FLAME-MoE's naming count (Flame's ModelAccounting).
"""
import argparse
import json
import sys
import time

PRESETS = {  # name: (layers, hidden, dense ffn, expert ffn), spec section 1
    "flame-moe-38m": (9, 256, 1368, 176),
    "flame-moe-98m": (9, 512, 2736, 352),
    "flame-moe-115m": (12, 512, 2736, 352),
    "flame-moe-290m": (9, 1024, 5472, 704),
    "flame-moe-419m": (15, 1024, 5472, 704),
    "flame-moe-721m": (12, 1536, 8208, 1056),
    "flame-moe-1.7b": (18, 2048, 10944, 1408),
}
PADDED_VOCAB = 50304  # 50277 GPT-NeoX tokens padded to a multiple of 128
HEADS, EXPERTS, TOP_K = 16, 64, 6


def flame_params(layers, hidden, ffn, expert_ffn, vocab=PADDED_VOCAB):
    """N as FLAME-MoE names models (spec section 1): 2Vh + L*4h^2 + 2hF + (L-1)*8*3*h*F_exp."""
    return 2 * vocab * hidden + layers * 4 * hidden * hidden + 2 * hidden * ffn + (layers - 1) * 8 * 3 * hidden * expert_ffn


def build_config(preset, seq):
    from transformers import Qwen2MoeConfig
    layers, hidden, ffn, expert_ffn = PRESETS[preset]
    return Qwen2MoeConfig(
        vocab_size=PADDED_VOCAB, hidden_size=hidden, intermediate_size=ffn, num_hidden_layers=layers,
        num_attention_heads=HEADS, num_key_value_heads=HEADS, hidden_act="silu", max_position_embeddings=seq,
        rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, use_sliding_window=False,
        decoder_sparse_step=1, mlp_only_layers=[0], num_experts=EXPERTS, num_experts_per_tok=TOP_K,
        moe_intermediate_size=expert_ffn, shared_expert_intermediate_size=2 * expert_ffn, norm_topk_prob=False,
        output_router_logits=True, router_aux_loss_coef=0.01 / TOP_K,  # as `flame export hf` maps coeff 0.01
        qkv_bias=False, attention_dropout=0.0,
        use_cache=False, initializer_range=0.02)


def build_model(config, experts):
    """Returns the fp32 model and the experts backend it really uses ("default" where transformers has no choice)."""
    from transformers import AutoModelForCausalLM
    if experts != "default":
        try:
            model = AutoModelForCausalLM.from_config(config, attn_implementation="sdpa", experts_implementation=experts)
            return model, experts
        except (TypeError, ValueError) as error:
            print(f"note: experts_implementation={experts} not available ({error}); using the default experts",
                  file=sys.stderr)
    return AutoModelForCausalLM.from_config(config, attn_implementation="sdpa"), "default"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", required=True, choices=sorted(PRESETS))
    parser.add_argument("--micro-batch", type=int, required=True)
    parser.add_argument("--seq", type=int, default=2048)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--experts", default="grouped_mm", help="transformers experts backend: grouped_mm (default), eager, default")
    parser.add_argument("--peak-tflops", type=float, default=989.0, help="device peak for MFU (H100 bf16 dense: 989)")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()

    import torch
    import transformers
    torch.manual_seed(args.seed)
    device = torch.device("cuda")
    torch.cuda.init()
    memory_before = torch.cuda.mem_get_info()  # the CUDA context, before the model
    config = build_config(args.preset, args.seq)
    model, experts = build_model(config, args.experts)
    model = model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, fused=True)
    ids = torch.randint(0, PADDED_VOCAB, (args.micro_batch, args.seq + 1), device=device)
    inputs = ids[:, :-1].contiguous()  # transformers shifts the labels itself

    def train_step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast("cuda", dtype=torch.bfloat16):
            output = model(input_ids=inputs, labels=inputs)  # lm loss + router_aux_loss_coef * aux loss
        output.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0, foreach=True)
        optimizer.step()
        return output.loss.detach()

    for _ in range(args.warmup):
        train_step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    losses = [train_step() for _ in range(args.steps)]
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / args.steps

    layers, hidden, ffn, expert_ffn = PRESETS[args.preset]
    tokens_per_second = args.micro_batch * args.seq / seconds
    flops_per_token = 6 * flame_params(layers, hidden, ffn, expert_ffn) + 6 * layers * args.seq * hidden
    tflops = tokens_per_second * flops_per_token / 1e12
    free, total = torch.cuda.mem_get_info()
    print(json.dumps({
        "preset": args.preset, "implementation": "transformers Qwen2MoeForCausalLM", "experts": experts,
        "torch": torch.__version__, "transformers": transformers.__version__, "gpu": torch.cuda.get_device_name(),
        "micro_batch": args.micro_batch, "sequence": args.seq, "steps": args.steps, "warmup": args.warmup,
        "seconds_per_step": seconds, "tokens_per_second": tokens_per_second, "flops_per_token": flops_per_token,
        "model_tflops": tflops, "mfu": tflops / args.peak_tflops,
        "first_loss": losses[0].item(), "final_loss": losses[-1].item(),  # lm + aux (no z-loss in transformers)
        "max_memory_allocated_bytes": torch.cuda.max_memory_allocated(),
        "max_memory_reserved_bytes": torch.cuda.max_memory_reserved(),
        # Comparable with flame's reading: device memory in use now minus before the model.
        "device_memory_in_use_bytes": (total - free) - (memory_before[1] - memory_before[0]),
    }, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
