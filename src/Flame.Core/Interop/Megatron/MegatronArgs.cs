using System.Collections;
using System.Globalization;
using Flame.Model;
using Razorvine.Pickle.Objects;

namespace Flame.Interop.Megatron;

/// <summary>
/// The argparse.Namespace Megatron-LM saves with every checkpoint (`state_dict['args']`,
/// megatron/training/checkpointing.py generate_state_dict; in torch_dist it is in common.pt). Names are
/// Megatron's argument names (megatron/training/arguments.py), as FLAME-MoE sets them in configs/model/flame-moe.sh.
/// </summary>
public sealed class MegatronArgs
{
    readonly IDictionary<string, object?> _values;
    readonly string _source;

    public MegatronArgs(object? args, string source)
    {
        _source = source;
        _values = args switch
        {
            ClassDict dict => dict.ToDictionary(kv => kv.Key, kv => (object?)kv.Value),
            PythonObject { State: Hashtable state } => state.Cast<DictionaryEntry>().ToDictionary(e => (string)e.Key, e => e.Value),
            _ => throw new UserError($"{source}: no saved arguments ('args') in the checkpoint; Flame reads the model's shape from them"),
        };
    }

    public bool Has(string name) => _values.TryGetValue(name, out var v) && v is not null;

    public object? Raw(string name) => _values.TryGetValue(name, out var v) ? v : null;

    public int Int(string name) => Has(name) ? Convert.ToInt32(_values[name], CultureInfo.InvariantCulture)
        : throw new UserError($"{_source}: the saved arguments have no {name} (not a Megatron-LM GPT checkpoint?)");

    public int Int(string name, int fallback) => Has(name) ? Convert.ToInt32(_values[name], CultureInfo.InvariantCulture) : fallback;

    public double Double(string name, double fallback) => Has(name) ? Convert.ToDouble(_values[name], CultureInfo.InvariantCulture) : fallback;

    public bool Bool(string name, bool fallback) => Has(name) ? Convert.ToBoolean(_values[name], CultureInfo.InvariantCulture) : fallback;

    public string? String(string name) => Raw(name)?.ToString();

    /// <summary>
    /// The Flame model these arguments describe; the first setting Flame cannot represent is one
    /// <see cref="UserError"/> naming it (spec §1 lists what Flame's model is).
    /// </summary>
    public ModelConfig ToModelConfig(string name)
    {
        int layers = Int("num_layers"), hidden = Int("hidden_size"), heads = Int("num_attention_heads");
        Require(Bool("swiglu", false), "swiglu is off: Flame's FFN is SwiGLU");
        Require(String("normalization") is null or "RMSNorm", $"normalization {String("normalization")}: Flame uses RMSNorm");
        Require(!Bool("apply_layernorm_1p", false), "apply_layernorm_1p is set: Flame's RMSNorm weight is not zero-centred");
        Require(!Bool("add_bias_linear", false), "add_bias_linear is on: Flame's linear layers have no biases (FLAME-MoE trains with --disable-bias-linear)");
        Require(!Bool("add_qkv_bias", false), "add_qkv_bias is on: Flame's attention has no biases");
        Require(!Bool("qk_layernorm", false), "qk_layernorm is on: Flame's attention has no QK-norm");
        Require(!Bool("multi_latent_attention", false), "multi_latent_attention is on: Flame's attention is multi-head");
        Require(!Bool("squared_relu", false), "squared_relu is on: Flame's FFN is SwiGLU");
        Require(!Bool("group_query_attention", false) || Int("num_query_groups", heads) == heads,
            $"group_query_attention with num_query_groups {Int("num_query_groups", heads)}: Flame's attention has no grouped-query attention");
        Require(hidden % heads == 0 && Int("kv_channels", hidden / heads) == hidden / heads,
            $"kv_channels {Int("kv_channels", 0)} is not hidden_size / num_attention_heads");
        Require(Bool("untie_embeddings_and_output_weights", false), "the output layer shares the embedding (untie_embeddings_and_output_weights is off): Flame's output layer is separate");
        Require(String("position_embedding_type") is null or "rope", $"position_embedding_type {String("position_embedding_type")}: Flame uses RoPE");
        Require(Double("rotary_percent", 1.0) == 1.0, $"rotary_percent {Double("rotary_percent", 1)}: Flame rotates the full head");
        Require(!Bool("rotary_interleaved", false), "rotary_interleaved is on: Flame's RoPE is rotate-half");
        Require(!Bool("use_rope_scaling", false) && !Has("rotary_seq_len_interpolation_factor"), "RoPE scaling is set: Flame's RoPE has no scaling");
        Require(Int("tensor_model_parallel_size", 1) == 1, $"tensor_model_parallel_size {Int("tensor_model_parallel_size", 1)}: only TP=1 checkpoints (FLAME-MoE's) are read");
        Require(Int("pipeline_model_parallel_size", 1) == 1, $"pipeline_model_parallel_size {Int("pipeline_model_parallel_size", 1)}: only PP=1 checkpoints (FLAME-MoE's) are read");

        var config = new ModelConfig
        {
            Name = name, Layers = layers, Hidden = hidden, Heads = heads,
            // Megatron saves the padded vocabulary only (training/tokenizer: _vocab_size_with_padding).
            VocabSize = Int("padded_vocab_size"), VocabMultiple = 1,
            MaxPositions = Int("max_position_embeddings"), RopeBase = Double("rotary_base", 10000),
            NormEps = Double("norm_epsilon", 1e-5), InitStd = Double("init_method_std", 0.02),
        };
        int experts = Int("num_experts", 0);
        if (experts == 0)
            return (config with
            {
                DenseFfn = Int("ffn_hidden_size"), Experts = 0, TopK = 0, ExpertFfn = 0, SharedExpertFfn = 0,
                DenseLayers = Enumerable.Range(0, layers).ToArray(),
            }).Validate();

        Require(Bool("moe_router_pre_softmax", false), "moe_router_pre_softmax is off (softmax over the top-k only): Flame's gates are the full softmax's top-k (spec §1)");
        Require(String("moe_router_score_function") is null or "softmax", $"moe_router_score_function {String("moe_router_score_function")}: Flame's router is a softmax");
        Require(Double("moe_router_topk_scaling_factor", 1.0) == 1.0, $"moe_router_topk_scaling_factor {Double("moe_router_topk_scaling_factor", 1)}: Flame does not scale the gates");
        Require(!Has("moe_router_num_groups") && !Has("moe_router_group_topk"), "group-limited routing (moe_router_num_groups / moe_router_group_topk) is set: Flame routes over all experts");
        Require(!Bool("moe_router_enable_expert_bias", false), "moe_router_enable_expert_bias is on: Flame's router has no expert bias");
        Require(!Has("moe_expert_capacity_factor"), $"moe_expert_capacity_factor {Raw("moe_expert_capacity_factor")}: Flame is dropless");
        Require(!Bool("moe_shared_expert_gate", false), "moe_shared_expert_gate is on: Flame's shared expert is ungated");
        Require(Double("moe_input_jitter_eps", 0) == 0 || !Has("moe_input_jitter_eps"), "moe_input_jitter_eps is set: Flame's router has no jitter");
        var kind = String("moe_router_load_balancing_type");
        Require(kind is null or "aux_loss", $"moe_router_load_balancing_type {kind}: Flame's balance loss is Megatron's aux_loss");

        var dense = Enumerable.Range(0, layers).Where(l => !MoePattern(layers)[l]).ToArray();
        return (config with
        {
            DenseFfn = dense.Length > 0 ? Int("ffn_hidden_size") : 0,
            Experts = experts, TopK = Int("moe_router_topk"),
            ExpertFfn = Int("moe_ffn_hidden_size", Int("ffn_hidden_size")),
            SharedExpertFfn = Int("moe_shared_expert_intermediate_size", 0),
            DenseLayers = dense,
            AuxLossCoeff = Double("moe_aux_loss_coeff", 0), ZLossCoeff = Double("moe_z_loss_coeff", 0),
        }).Validate();
    }

    /// <summary>
    /// Which layers are MoE: moe_layer_freq is a list of 0/1 per layer (FLAME-MoE: "[0]*1+[1]*8") or an
    /// integer N meaning every N-th layer from the first (megatron/core/models/gpt/gpt_layer_specs.py,
    /// get_gpt_decoder_block_spec).
    /// </summary>
    public bool[] MoePattern(int layers)
    {
        var freq = Raw("moe_layer_freq");
        if (freq is null) return Enumerable.Repeat(true, layers).ToArray();
        if (freq is ArrayList or object[])
        {
            var pattern = ((IEnumerable)freq).Cast<object>().Select(v => Convert.ToInt32(v, CultureInfo.InvariantCulture) == 1).ToArray();
            Require(pattern.Length == layers, $"moe_layer_freq lists {pattern.Length} layers, num_layers is {layers}");
            return pattern;
        }
        int n = Convert.ToInt32(freq, CultureInfo.InvariantCulture);
        Require(n >= 1, $"moe_layer_freq {n} must be at least 1");
        return Enumerable.Range(0, layers).Select(i => i % n == 0).ToArray();
    }

    void Require(bool ok, string message)
    {
        if (!ok) throw new UserError($"{_source}: {message}");
    }
}
