using System.Text.Json;
using System.Text.Json.Nodes;
using Flame.Model;

namespace Flame.Interop;

/// <summary>
/// config.json for transformers, both ways. A Flame MoE model is a Qwen2MoE (first layer dense through
/// mlp_only_layers, norm_topk_prob=false, q/k/v biases present but zero) and a dense model is a Llama.
/// RoPE base is written both as rope_theta (transformers 4) and rope_parameters (transformers 5). Reading
/// back accepts exactly what Flame can represent and names anything else.
/// </summary>
public static class HfConfig
{
    public const string FileName = "config.json";

    public static HfArchitecture ArchitectureOf(ModelConfig config) => config.IsMoe ? HfArchitecture.Qwen2Moe : HfArchitecture.Llama;

    /// <param name="endOfDocumentId">written as bos and eos: generation starts after and stops at it.</param>
    /// <param name="torchDtype">"float32" or "bfloat16", the dtype of the weights files.</param>
    public static JsonObject ToJson(ModelConfig c, int endOfDocumentId, string torchDtype)
    {
        var json = new JsonObject();
        bool moe = ArchitectureOf(c) == HfArchitecture.Qwen2Moe;
        json["architectures"] = new JsonArray(moe ? "Qwen2MoeForCausalLM" : "LlamaForCausalLM");
        json["model_type"] = moe ? "qwen2_moe" : "llama";
        json["vocab_size"] = c.PaddedVocab;
        json["hidden_size"] = c.Hidden;
        json["intermediate_size"] = c.DenseFfn > 0 ? c.DenseFfn : c.ExpertFfn;
        json["num_hidden_layers"] = c.Layers;
        json["num_attention_heads"] = c.Heads;
        json["num_key_value_heads"] = c.Heads; // spec §1: no GQA
        if (!moe) json["head_dim"] = c.HeadDim;
        json["hidden_act"] = "silu";
        json["max_position_embeddings"] = c.MaxPositions;
        json["initializer_range"] = Float(c.InitStd);
        json["rms_norm_eps"] = Float(c.NormEps);
        json["rope_theta"] = Float(c.RopeBase);
        json["rope_scaling"] = null;
        json["rope_parameters"] = new JsonObject { ["rope_type"] = "default", ["rope_theta"] = Float(c.RopeBase) };
        json["tie_word_embeddings"] = false; // spec §1: untied output layer
        json["attention_dropout"] = Float(0);
        json["use_cache"] = true;
        if (moe)
        {
            json["use_sliding_window"] = false;
            json["sliding_window"] = null;
            json["max_window_layers"] = c.Layers;
            json["decoder_sparse_step"] = 1;
            json["mlp_only_layers"] = new JsonArray(c.DenseLayers.Order().Select(l => (JsonNode)l).ToArray());
            json["num_experts"] = c.Experts;
            json["num_experts_per_tok"] = c.TopK;
            json["moe_intermediate_size"] = c.ExpertFfn;
            // Qwen2MoE always has a shared expert; a model without one exports a width-1 expert of zeros.
            json["shared_expert_intermediate_size"] = Math.Max(c.SharedExpertFfn, 1);
            json["norm_topk_prob"] = false; // spec §1: top-k gates are not renormalised
            json["qkv_bias"] = true;
            json["output_router_logits"] = false;
            // transformers' balance loss counts each of the k slots (k times Flame's per-layer form, spec §1).
            json["router_aux_loss_coef"] = Float(c.AuxLossCoeff / c.TopK);
        }
        else
        {
            json["attention_bias"] = false;
            json["mlp_bias"] = false;
            json["pretraining_tp"] = 1;
        }
        json["bos_token_id"] = endOfDocumentId;
        json["eos_token_id"] = endOfDocumentId;
        json["torch_dtype"] = torchDtype;
        return json;
    }

    /// <summary>
    /// A number written as a JSON float ("10000.0", not "10000"): transformers 5 checks config fields'
    /// types, and Python reads "10000" as an int.
    /// </summary>
    static JsonNode Float(double value)
    {
        var text = value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return JsonNode.Parse(text.IndexOfAny(['.', 'E', 'e', 'N', 'I']) >= 0 ? text : text + ".0")!;
    }

    /// <summary>
    /// The Flame config a transformers config.json describes; throws a <see cref="UserError"/> naming the first
    /// setting Flame cannot represent. Loss coefficients and init scale keep Flame's defaults.
    /// </summary>
    public static ModelConfig FromJson(JsonObject json, string name, string source)
    {
        var read = new Reader(json, source);
        var type = read.String("model_type", null);
        bool moe = type switch
        {
            "qwen2_moe" => true,
            "llama" => false,
            _ => throw new UserError($"{source}: model_type '{type}' is not supported; Flame imports qwen2_moe and llama"),
        };
        int hidden = read.Int("hidden_size"), heads = read.Int("num_attention_heads"), layers = read.Int("num_hidden_layers");
        read.Require(read.String("hidden_act", "silu") == "silu", $"hidden_act '{read.String("hidden_act", "silu")}': Flame's FFN is SwiGLU (silu)");
        int kvHeads = read.Int("num_key_value_heads", heads);
        read.Require(kvHeads == heads, $"num_key_value_heads {kvHeads} differs from num_attention_heads {heads}: grouped-query attention cannot be represented");
        if (heads > 0 && hidden % heads == 0)
            read.Require(read.Int("head_dim", hidden / heads) == hidden / heads, $"head_dim {read.Int("head_dim", 0)} is not hidden_size / num_attention_heads");
        read.Require(read.IsNull("rope_scaling") || read.Object("rope_scaling")?["rope_type"]?.GetValue<string>() == "default",
            "rope_scaling is set: Flame's RoPE has no scaling");
        var rope = read.Object("rope_parameters") is JsonObject ropeParameters ? new Reader(ropeParameters, $"{source}: rope_parameters") : null;
        var ropeType = rope?.String("rope_type", "default");
        read.Require(ropeType is null or "default", $"rope_parameters.rope_type '{ropeType}': Flame's RoPE is the default one");
        double ropeBase = rope?.Double("rope_theta", read.Double("rope_theta", 10000)) ?? read.Double("rope_theta", 10000);
        read.Require(!read.Bool("attention_bias", false), "attention_bias is true: Flame's attention has no biases");
        read.Require(!read.Bool("mlp_bias", false), "mlp_bias is true: Flame's FFN has no biases");
        var config = new ModelConfig
        {
            Name = name, Layers = layers, Hidden = hidden, Heads = heads,
            VocabSize = read.Int("vocab_size"), VocabMultiple = 1,
            MaxPositions = read.Int("max_position_embeddings"), RopeBase = ropeBase, NormEps = read.Double("rms_norm_eps", 1e-6),
        };
        if (!moe)
            return (config with
            {
                DenseFfn = read.Int("intermediate_size"), Experts = 0, TopK = 0, ExpertFfn = 0, SharedExpertFfn = 0,
                DenseLayers = Enumerable.Range(0, layers).ToArray(),
            }).Validate();

        read.Require(!read.Bool("norm_topk_prob", false), "norm_topk_prob is true: Flame's top-k gates are not renormalised");
        read.Require(!read.Bool("use_sliding_window", false), "use_sliding_window is true: Flame's attention is full causal");
        int experts = read.Int("num_experts"), step = read.Int("decoder_sparse_step", 1);
        read.Require(step >= 1, $"decoder_sparse_step {step} must be at least 1");
        var mlpOnly = read.IntList("mlp_only_layers");
        // transformers' rule: a layer is sparse unless listed in mlp_only_layers or off the sparse step.
        var dense = Enumerable.Range(0, layers).Where(l => mlpOnly.Contains(l) || experts == 0 || (l + 1) % step != 0).ToArray();
        return (config with
        {
            DenseFfn = dense.Length > 0 ? read.Int("intermediate_size") : 0,
            Experts = experts, TopK = read.Int("num_experts_per_tok"), ExpertFfn = read.Int("moe_intermediate_size"),
            SharedExpertFfn = read.Int("shared_expert_intermediate_size"), DenseLayers = dense,
        }).Validate();
    }

    /// <summary>Qwen2MoE attention has q/k/v biases unless transformers 5's qkv_bias turns them off.</summary>
    public static bool HasQkvBias(JsonObject json, string source) =>
        new Reader(json, source).String("model_type", "") == "qwen2_moe" && new Reader(json, source).Bool("qkv_bias", true);

    public static bool TiedEmbeddings(JsonObject json, string source) => new Reader(json, source).Bool("tie_word_embeddings", false);

    public static JsonObject Read(string folder)
    {
        var path = Path.Combine(folder, FileName);
        if (!File.Exists(path)) throw new UserError($"{folder}: no {FileName} (not a Hugging Face model folder)");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new UserError($"{path}: not a JSON object");
        }
        catch (JsonException e) { throw new UserError($"{path}: not valid JSON ({e.Message})"); }
    }

    /// <summary>Typed access to config.json values with messages that name the key and file.</summary>
    sealed class Reader(JsonObject json, string source)
    {
        public void Require(bool ok, string message)
        {
            if (!ok) throw new UserError($"{source}: {message}");
        }

        public bool IsNull(string key) => json[key] is null;

        public JsonObject? Object(string key) => json[key] as JsonObject;

        public int Int(string key, int? fallback = null) =>
            json[key] is JsonNode n ? Convert(key, () => n.GetValue<int>(), "an integer") : fallback ?? throw Missing(key);

        public double Double(string key, double fallback) =>
            json[key] is JsonNode n ? Convert(key, () => n.GetValue<double>(), "a number") : fallback;

        public bool Bool(string key, bool fallback) =>
            json[key] is JsonNode n ? Convert(key, () => n.GetValue<bool>(), "true or false") : fallback;

        public string String(string key, string? fallback) =>
            json[key] is JsonNode n ? Convert(key, () => n.GetValue<string>(), "a string") : fallback ?? throw Missing(key);

        UserError Missing(string key) => new($"{source}: no {key}");

        public IReadOnlyList<int> IntList(string key)
        {
            if (json[key] is null) return [];
            if (json[key] is not JsonArray array) throw new UserError($"{source}: {key} must be a list of integers");
            return array.Select(n => Convert(key, () => n!.GetValue<int>(), "a list of integers")).ToArray();
        }

        T Convert<T>(string key, Func<T> get, string kind)
        {
            try { return get(); }
            catch (Exception e) when (e is InvalidOperationException or FormatException or NullReferenceException)
            {
                throw new UserError($"{source}: {key} must be {kind}");
            }
        }
    }
}
