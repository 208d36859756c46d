using System.Text.Json.Nodes;
using Flame.Checkpointing;
using Flame.Interop;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Tests.Interop;

/// <summary>Export to the Hugging Face layout and import back: exact weights, the config's values, and the mapping's meaning.</summary>
public class HfExportImportTests
{
    static JsonObject ConfigOf(string folder) => HfConfig.Read(folder);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void ExportThenImportGivesBitIdenticalWeightsAndConfig(bool moe)
    {
        using var dir = new TempFolder();
        var config = moe ? TinyModels.Moe : TinyCheckpoints.Dense;
        TinyCheckpoints.Create(dir.File("run"), config);
        using var original = TrainedCheckpoint.Load(dir.File("run"));
        HfExport.Write(original, dir.File("hf"), new HfExportOptions());
        var result = HfImport.Run(dir.File("hf"), dir.File("back"));

        Assert.Equal(moe ? HfArchitecture.Qwen2Moe : HfArchitecture.Llama, result.Architecture);
        using var imported = TrainedCheckpoint.Load(dir.File("back"));
        Assert.Equal(0, imported.Step);
        Assert.Equal(ModelConfigJson.Serialize(config), ModelConfigJson.Serialize(imported.Config));
        using var fresh = TrainedCheckpoint.Load(dir.File("run")); // the export must not have changed the source
        TinyCheckpoints.AssertSameWeights(fresh.Model, imported.Model);
        Assert.True(File.Exists(dir.File("back/tokenizer.json")));
        Assert.Equal(8192, imported.LoadTokenizer().VocabSize);
    }

    [Fact]
    public void TheExportedQwen2MoeConfigHasFlamesValues()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using (var checkpoint = TrainedCheckpoint.Load(dir.File("run")))
            HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions());
        var c = ConfigOf(dir.File("hf"));
        Assert.Equal("Qwen2MoeForCausalLM", c["architectures"]![0]!.GetValue<string>());
        Assert.Equal("qwen2_moe", c["model_type"]!.GetValue<string>());
        Assert.Equal(128, c["vocab_size"]!.GetValue<int>()); // padded: 100 -> 128
        Assert.Equal(32, c["hidden_size"]!.GetValue<int>());
        Assert.Equal(48, c["intermediate_size"]!.GetValue<int>());
        Assert.Equal(3, c["num_hidden_layers"]!.GetValue<int>());
        Assert.Equal(4, c["num_attention_heads"]!.GetValue<int>());
        Assert.Equal(4, c["num_key_value_heads"]!.GetValue<int>());
        Assert.Equal([0], c["mlp_only_layers"]!.AsArray().Select(n => n!.GetValue<int>()));
        Assert.Equal(1, c["decoder_sparse_step"]!.GetValue<int>());
        Assert.False(c["norm_topk_prob"]!.GetValue<bool>());
        Assert.Equal(8, c["num_experts"]!.GetValue<int>());
        Assert.Equal(2, c["num_experts_per_tok"]!.GetValue<int>());
        Assert.Equal(16, c["moe_intermediate_size"]!.GetValue<int>());
        Assert.Equal(32, c["shared_expert_intermediate_size"]!.GetValue<int>());
        Assert.Equal(1e-6, c["rms_norm_eps"]!.GetValue<double>());
        Assert.Equal(10000, c["rope_theta"]!.GetValue<double>());
        Assert.Equal(10000, c["rope_parameters"]!["rope_theta"]!.GetValue<double>());
        Assert.False(c["tie_word_embeddings"]!.GetValue<bool>());
        Assert.False(c["use_sliding_window"]!.GetValue<bool>());
        Assert.True(c["qkv_bias"]!.GetValue<bool>());
        Assert.Equal(64, c["max_position_embeddings"]!.GetValue<int>());
        Assert.Equal("silu", c["hidden_act"]!.GetValue<string>());
        Assert.Equal(0, c["eos_token_id"]!.GetValue<int>());
        Assert.Equal("float32", c["torch_dtype"]!.GetValue<string>());
        // Float fields stay floats for Python (transformers 5 checks config types).
        var text = File.ReadAllText(dir.File("hf/config.json"));
        Assert.Contains("\"rope_theta\": 10000.0", text);
        Assert.Contains("\"attention_dropout\": 0.0", text);
        foreach (var file in new[] { "model.safetensors", "tokenizer.json", "tokenizer_config.json", "flame_model.json", "parity/tokens.json", "parity/logits.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir.File("hf"), file)), file);
    }

    [Fact]
    public void TheExportedLlamaConfigHasFlamesValues()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyCheckpoints.Dense);
        using (var checkpoint = TrainedCheckpoint.Load(dir.File("run")))
            HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(Parity: false));
        var c = ConfigOf(dir.File("hf"));
        Assert.Equal("LlamaForCausalLM", c["architectures"]![0]!.GetValue<string>());
        Assert.Equal(48, c["intermediate_size"]!.GetValue<int>());
        Assert.Equal(8, c["head_dim"]!.GetValue<int>());
        Assert.False(c["attention_bias"]!.GetValue<bool>());
        Assert.False(c["mlp_bias"]!.GetValue<bool>());
        Assert.Null(c["num_experts"]);
        Assert.False(Directory.Exists(dir.File("hf/parity")));
        using var weights = SafetensorsFolder.Open(dir.File("hf"));
        Assert.Equal(2 + 2 * 9 + 1, weights.Names.Count); // embed, lm_head, norm + per layer: 2 norms, q k v o, gate up down
    }

    /// <summary>
    /// What each exported tensor means, against the model's own modules (not a re-implementation):
    /// a Linear with q_proj gives the model's q, an exported expert's SwiGLU gives the expert's output,
    /// and half the exported shared expert (the sigmoid(0) gate) gives the shared expert.
    /// </summary>
    [Fact]
    public void ExportedTensorsMeanWhatTransformersReadsThemAs()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using var checkpoint = TrainedCheckpoint.Load(dir.File("run"));
        HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(Parity: false));
        using var w = SafetensorsFolder.Open(dir.File("hf"));
        var model = checkpoint.Model;
        var moe = model.blocks[1].moe!;
        manual_seed(5);
        var x = randn(7, 32);
        using var _ = no_grad();

        Tensor Mlp(string p, Tensor input) =>
            F.linear(F.silu(F.linear(input, w.Read(p + "gate_proj.weight"))) * F.linear(input, w.Read(p + "up_proj.weight")), w.Read(p + "down_proj.weight"));

        // Expert 3 alone with gate 1.
        var expert = moe.experts.Forward(x, full(7, 2, 3L), cat([ones(7, 1), zeros(7, 1)], dim: 1), DispatchMode.Reference);
        Assert.True(Mlp("model.layers.1.mlp.experts.3.", x).allclose(expert, rtol: 0, atol: 1e-6));
        // Shared expert: transformers multiplies by sigmoid(x . 0) = 1/2.
        Assert.Equal(0, w.Read("model.layers.1.mlp.shared_expert_gate.weight").count_nonzero().item<long>());
        Assert.True((0.5 * Mlp("model.layers.1.mlp.shared_expert.", x)).allclose(moe.shared_expert!.forward(x), rtol: 0, atol: 1e-6));
        // The dense first layer.
        Assert.True(Mlp("model.layers.0.mlp.", x).allclose(model.blocks[0].ffn!.forward(x), rtol: 0, atol: 1e-6));
        // Router, attention projections and biases.
        Assert.True(w.Read("model.layers.1.mlp.gate.weight").equal(moe.router.weight).all().item<bool>());
        var packed = F.linear(x, model.blocks[2].attention.qkv).chunk(3, dim: -1);
        string[] names = ["q", "k", "v"];
        for (int i = 0; i < 3; i++)
        {
            Assert.True(F.linear(x, w.Read($"model.layers.2.self_attn.{names[i]}_proj.weight")).allclose(packed[i], rtol: 0, atol: 1e-6));
            Assert.Equal(0, w.Read($"model.layers.2.self_attn.{names[i]}_proj.bias").count_nonzero().item<long>());
        }
        Assert.True(w.Read("model.layers.2.self_attn.o_proj.weight").equal(model.blocks[2].attention.proj).all().item<bool>());
        Assert.True(w.Read("model.layers.2.post_attention_layernorm.weight").equal(model.blocks[2].ffn_norm.weight).all().item<bool>());
        Assert.True(w.Read("lm_head.weight").equal(model.output).all().item<bool>());
        Assert.True(w.Read("model.embed_tokens.weight").equal(model.embedding).all().item<bool>());
    }

    [Fact]
    public void ParityLogitsAreTheModelsOnTheWrittenIds()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using var checkpoint = TrainedCheckpoint.Load(dir.File("run"));
        HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions());
        var ids = JsonNode.Parse(File.ReadAllText(dir.File("hf/parity/tokens.json")))!["input_ids"]!.AsArray()
            .Select(r => r!.AsArray().Select(n => n!.GetValue<long>()).ToArray()).ToArray();
        Assert.Equal(2, ids.Length);
        Assert.All(ids, r => Assert.Equal(32, r.Length));
        Assert.All(ids.SelectMany(r => r), id => Assert.InRange(id, 0, 99));
        using var logits = SafetensorsFile.Open(dir.File("hf/parity/logits.safetensors"));
        Assert.Equal([2L, 32, 128], logits.Entry("logits").Shape);
        using var _ = no_grad();
        var expected = checkpoint.Model.forward(tensor(ids.SelectMany(r => r).ToArray(), [2, 32])).Logits;
        Assert.True(logits.Read("logits").equal(expected).all().item<bool>());
    }

    [Fact]
    public void ShardedExportsImportTheSame()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using var checkpoint = TrainedCheckpoint.Load(dir.File("run"));
        var result = HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(MaxShardBytes: 40_000, Parity: false));
        Assert.Contains(SafetensorsFolder.IndexFile, result.Files);
        Assert.True(result.Files.Count(f => f.StartsWith("model-")) > 3);
        HfImport.Run(dir.File("hf"), dir.File("back"));
        using var imported = TrainedCheckpoint.Load(dir.File("back"));
        TinyCheckpoints.AssertSameWeights(checkpoint.Model, imported.Model);
    }

    [Fact]
    public void Bf16ExportRoundsOnceAndItsParityLogitsMatchTheRoundedWeights()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using (var checkpoint = TrainedCheckpoint.Load(dir.File("run")))
            HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(ScalarType.BFloat16));
        using (var w = SafetensorsFolder.Open(dir.File("hf")))
            Assert.Equal(ScalarType.BFloat16, w.Entry("lm_head.weight").DType);
        HfImport.Run(dir.File("hf"), dir.File("back"));
        using var imported = TrainedCheckpoint.Load(dir.File("back"));
        using var original = TrainedCheckpoint.Load(dir.File("run"));
        Assert.True(imported.Model.output.equal(original.Model.output.to(ScalarType.BFloat16).to(ScalarType.Float32)).all().item<bool>());
        using var logits = SafetensorsFile.Open(dir.File("hf/parity/logits.safetensors"));
        var ids = JsonNode.Parse(File.ReadAllText(dir.File("hf/parity/tokens.json")))!["input_ids"]!.AsArray()
            .SelectMany(r => r!.AsArray().Select(n => n!.GetValue<long>())).ToArray();
        using var _ = no_grad();
        Assert.True(logits.Read("logits").allclose(imported.Model.forward(tensor(ids, [2, 32])).Logits, rtol: 0, atol: 1e-5));
    }
}
