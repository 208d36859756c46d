using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// Flame's parameters as Hugging Face names them (spec §1 against transformers' Qwen2MoE and Llama):
/// the fused attention qkv [3h, h] splits into q/k/v_proj rows; a dense or shared SwiGLU's gate_up [2F, h]
/// splits into gate_proj (rows 0..F-1) and up_proj; the stacked experts gate_up [E, h, 2F] and down
/// [E, F, h] become per-expert Linear weights, transposed ([F, h] and [h, F]); the router is mlp.gate.
/// Qwen2MoE adds what Flame does not have, set so it changes nothing: zero q/k/v biases, and a
/// shared_expert_gate of zero weights (sigmoid(0) = 1/2) with the shared expert's down_proj doubled.
/// </summary>
public static class HfWeightMap
{
    public static IReadOnlyList<HfTensorLink> Links(FlameModel model, HfArchitecture architecture)
    {
        var c = model.Config;
        long h = c.Hidden;
        var links = new List<HfTensorLink> { Copy("model.embed_tokens.weight", model.embedding) };
        for (int l = 0; l < c.Layers; l++)
        {
            var block = model.blocks[l];
            var p = $"model.layers.{l}.";
            links.Add(Copy(p + "input_layernorm.weight", block.attention_norm.weight));
            string[] qkv = ["q", "k", "v"];
            for (int i = 0; i < 3; i++) links.Add(Rows(p + $"self_attn.{qkv[i]}_proj.weight", block.attention.qkv, i * h, h));
            if (architecture == HfArchitecture.Qwen2Moe)
                foreach (var name in qkv) links.Add(Zero(p + $"self_attn.{name}_proj.bias", [h], "Flame's attention has no biases"));
            links.Add(Copy(p + "self_attn.o_proj.weight", block.attention.proj));
            links.Add(Copy(p + "post_attention_layernorm.weight", block.ffn_norm.weight));
            if (block.moe is null) links.AddRange(SwiGlu(p + "mlp.", block.ffn!));
            else links.AddRange(Moe(p + "mlp.", block.moe, c));
        }
        links.Add(Copy("model.norm.weight", model.final_norm.weight));
        links.Add(Copy("lm_head.weight", model.output));
        return links;
    }

    static IEnumerable<HfTensorLink> SwiGlu(string prefix, SwiGluFfn ffn, double downScale = 1)
    {
        long f = ffn.down.shape[1];
        yield return Rows(prefix + "gate_proj.weight", ffn.gate_up, 0, f);
        yield return Rows(prefix + "up_proj.weight", ffn.gate_up, f, f);
        yield return downScale == 1 ? Copy(prefix + "down_proj.weight", ffn.down)
            : new HfTensorLink(prefix + "down_proj.weight", ffn.down.shape, () => ffn.down * downScale, t => Assign(ffn.down, t / downScale));
    }

    static IEnumerable<HfTensorLink> Moe(string prefix, MoeLayer moe, ModelConfig c)
    {
        long h = c.Hidden, f = c.ExpertFfn;
        yield return Copy(prefix + "gate.weight", moe.router.weight);
        for (int e = 0; e < c.Experts; e++)
        {
            var p = prefix + $"experts.{e}.";
            int expert = e;
            // gate_up[e] is [h, 2F] (x @ W): gate columns 0..F-1, up columns F..2F-1; a Linear weight is [out, in].
            yield return new HfTensorLink(p + "gate_proj.weight", [f, h],
                () => moe.experts.gate_up[expert].narrow(1, 0, f).t(), t => Assign(moe.experts.gate_up[expert].narrow(1, 0, f), t.t()));
            yield return new HfTensorLink(p + "up_proj.weight", [f, h],
                () => moe.experts.gate_up[expert].narrow(1, f, f).t(), t => Assign(moe.experts.gate_up[expert].narrow(1, f, f), t.t()));
            yield return new HfTensorLink(p + "down_proj.weight", [h, f],
                () => moe.experts.down[expert].t(), t => Assign(moe.experts.down[expert], t.t()));
        }
        // Qwen2MoE gates its shared expert by sigmoid(x . w); w = 0 gives exactly 1/2, so doubling down_proj
        // reproduces Flame's ungated shared expert bit for bit (both factors are powers of two).
        if (moe.shared_expert is not null)
            foreach (var link in SwiGlu(prefix + "shared_expert.", moe.shared_expert, downScale: 2)) yield return link;
        else
        {
            // Qwen2MoE always has one; a width-1 expert of zeros adds exactly nothing.
            yield return Zero(prefix + "shared_expert.gate_proj.weight", [1, h], "this model has no shared expert");
            yield return Zero(prefix + "shared_expert.up_proj.weight", [1, h], "this model has no shared expert");
            yield return Zero(prefix + "shared_expert.down_proj.weight", [h, 1], "this model has no shared expert");
        }
        yield return Zero(prefix + "shared_expert_gate.weight", [1, h],
            "a learned shared-expert gate cannot be represented (Flame's shared expert is ungated)");
    }

    static HfTensorLink Copy(string name, Parameter parameter) =>
        new(name, parameter.shape, () => parameter, t => Assign(parameter, t));

    static HfTensorLink Rows(string name, Parameter parameter, long start, long count) =>
        new(name, [count, parameter.shape[1]], () => parameter.narrow(0, start, count), t => Assign(parameter.narrow(0, start, count), t));

    /// <summary>A tensor Flame does not have: exported as zeros, and on import it must be all zeros.</summary>
    static HfTensorLink Zero(string name, long[] shape, string why) =>
        new(name, shape, () => zeros(shape), t =>
        {
            if (t.count_nonzero().item<long>() != 0) throw new UserError($"tensor '{name}' is not zero: {why}");
        });

    static void Assign(Tensor target, Tensor source)
    {
        using var _ = no_grad();
        target.copy_(source);
    }
}
