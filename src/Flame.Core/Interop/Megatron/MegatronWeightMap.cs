using Flame.Model;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// One Flame parameter (or part of one) as Megatron-LM names it, both ways. <see cref="Names"/> are the
/// accepted spellings, the first being what Megatron-Core's TransformerEngine layer spec writes (FLAME-MoE's).
/// </summary>
public sealed record MegatronTensorLink(string[] Names, long[] Shape, Func<Tensor> Export, Action<Tensor> Import)
{
    public string Name => Names[0];
}

/// <summary>
/// Flame's parameters under Megatron-Core's GPT names (legacy state-dict names, experts numbered globally).
/// Sources, all in NVIDIA/Megatron-LM megatron/core (FLAME-MoE's fork cbaf684c agrees):
/// - models/gpt/gpt_model.py, models/common/embeddings/language_model_embedding.py: `embedding.word_embeddings.weight`
///   [V, h], `output_layer.weight` [V, h] (untied), `decoder.final_layernorm.weight`.
/// - models/gpt/gpt_layer_specs.py (TE spec): the input RMSNorm is fused into TELayerNormColumnParallelLinear as
///   `self_attention.linear_qkv.layer_norm_weight` (local spec: `input_layernorm.weight`); a dense layer fuses its
///   pre-MLP norm into `mlp.linear_fc1.layer_norm_weight`, an MoE layer has `pre_mlp_layernorm.weight`.
/// - transformer/attention.py SelfAttention.get_query_key_value_tensors: linear_qkv's rows are grouped per query
///   group, each [q heads of the group; k; v] x head_dim; without GQA (FLAME-MoE) that is [q_g; k_g; v_g] per
///   head g, where Flame's qkv is [q; k; v] with heads inside each.
/// - transformer/mlp.py: gated linear_fc1 is [gate; up] rows, linear_fc2 [h, F], as Flame's gate_up and down.
/// - transformer/moe/router.py: `mlp.router.weight` [E, h]; moe/experts.py SequentialMLP:
///   `mlp.experts.local_experts.E.linear_fc1.weight` [2F, h] and `linear_fc2.weight` [h, F] (Flame stacks them
///   transposed: gate_up [E, h, 2F], down [E, F, h]); moe/shared_experts.py: `mlp.shared_experts.linear_fc1/fc2`.
/// </summary>
public static class MegatronWeightMap
{
    public static IReadOnlyList<MegatronTensorLink> Links(FlameModel model)
    {
        var c = model.Config;
        var links = new List<MegatronTensorLink> { Copy(["embedding.word_embeddings.weight"], model.embedding) };
        for (int l = 0; l < c.Layers; l++)
        {
            var block = model.blocks[l];
            var p = $"decoder.layers.{l}.";
            links.Add(Copy([p + "self_attention.linear_qkv.layer_norm_weight", p + "input_layernorm.weight"], block.attention_norm.weight));
            links.Add(Qkv(p + "self_attention.linear_qkv.weight", block.attention.qkv, c.Heads));
            links.Add(Copy([p + "self_attention.linear_proj.weight"], block.attention.proj));
            if (block.moe is null)
            {
                links.Add(Copy([p + "mlp.linear_fc1.layer_norm_weight", p + "pre_mlp_layernorm.weight"], block.ffn_norm.weight));
                links.Add(Copy([p + "mlp.linear_fc1.weight"], block.ffn!.gate_up));
                links.Add(Copy([p + "mlp.linear_fc2.weight"], block.ffn.down));
                continue;
            }
            var moe = block.moe;
            links.Add(Copy([p + "pre_mlp_layernorm.weight"], block.ffn_norm.weight));
            links.Add(Copy([p + "mlp.router.weight"], moe.router.weight));
            long h = c.Hidden, f = c.ExpertFfn;
            for (int e = 0; e < c.Experts; e++)
            {
                int expert = e;
                var q = $"{p}mlp.experts.local_experts.{e}.";
                links.Add(new([q + "linear_fc1.weight"], [2 * f, h], () => moe.experts.gate_up[expert].t(), t => Assign(moe.experts.gate_up[expert], t.t())));
                links.Add(new([q + "linear_fc2.weight"], [h, f], () => moe.experts.down[expert].t(), t => Assign(moe.experts.down[expert], t.t())));
            }
            if (moe.shared_expert is not null)
            {
                links.Add(Copy([p + "mlp.shared_experts.linear_fc1.weight"], moe.shared_expert.gate_up));
                links.Add(Copy([p + "mlp.shared_experts.linear_fc2.weight"], moe.shared_expert.down));
            }
        }
        links.Add(Copy(["decoder.final_layernorm.weight"], model.final_norm.weight));
        links.Add(Copy(["output_layer.weight"], model.output));
        return links;
    }

    /// <summary>
    /// Megatron's row (g x 3 + j) x d + i (head g, j = q/k/v, i inside the head) is Flame's row j x h + g x d + i.
    /// </summary>
    static MegatronTensorLink Qkv(string name, Parameter qkv, int heads)
    {
        long rows = qkv.shape[0], cols = qkv.shape[1], d = rows / 3 / heads;
        return new([name], [rows, cols],
            () => qkv.view(3, heads, d, cols).transpose(0, 1).reshape(rows, cols),
            t => Assign(qkv, t.view(heads, 3, d, cols).transpose(0, 1).reshape(rows, cols)));
    }

    static MegatronTensorLink Copy(string[] names, Parameter parameter) =>
        new(names, parameter.shape, () => parameter, t => Assign(parameter, t));

    static void Assign(Tensor target, Tensor source)
    {
        using var _ = no_grad();
        target.copy_(source);
    }
}
