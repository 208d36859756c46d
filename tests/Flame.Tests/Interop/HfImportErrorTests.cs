using System.CommandLine;
using System.Text.Json.Nodes;
using Flame.Checkpointing;
using Flame.Cli.Commands;
using Flame.Cli;
using Flame.Interop;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Interop;

/// <summary>What import refuses, each a one-line error naming the tensor or setting; and folders that are not our own export.</summary>
public class HfImportErrorTests
{
    /// <summary>An exported tiny MoE whose model.safetensors is rewritten by <paramref name="edit"/>.</summary>
    static string ExportThenEdit(TempFolder dir, Action<Dictionary<string, Tensor>>? edit = null, Action<JsonObject>? editConfig = null)
    {
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using (var checkpoint = TrainedCheckpoint.Load(dir.File("run")))
            HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(Parity: false));
        if (edit is not null)
        {
            Dictionary<string, Tensor> tensors;
            using (var folder = SafetensorsFolder.Open(dir.File("hf")))
                tensors = folder.Names.ToDictionary(n => n, folder.Read);
            edit(tensors);
            SafetensorsWriter.Write(dir.File("hf/model.safetensors"), tensors.Select(t => PendingTensor.Of(t.Key, t.Value)).ToList());
        }
        if (editConfig is not null)
        {
            var config = HfConfig.Read(dir.File("hf"));
            editConfig(config);
            File.WriteAllText(dir.File("hf/config.json"), config.ToJsonString());
        }
        return dir.File("hf");
    }

    static string ImportError(TempFolder dir, string folder) =>
        Assert.Throws<UserError>(() => HfImport.Run(folder, dir.File("back"))).Message;

    [Fact]
    public void AnUnexpectedTensorIsNamed()
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t => t["model.layers.1.mlp.extra.weight"] = ones(3));
        Assert.Contains("unexpected tensor 'model.layers.1.mlp.extra.weight'", ImportError(dir, hf));
        Assert.False(Directory.Exists(dir.File("back/checkpoints")));
    }

    [Fact]
    public void AMissingTensorIsNamed()
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t => t.Remove("model.layers.2.mlp.experts.7.down_proj.weight"));
        Assert.Contains("missing tensor 'model.layers.2.mlp.experts.7.down_proj.weight' (expected shape [32, 16])", ImportError(dir, hf));
    }

    [Fact]
    public void AWrongShapeIsNamed()
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t => t["model.layers.0.mlp.up_proj.weight"] = zeros(47, 32));
        Assert.Contains("tensor 'model.layers.0.mlp.up_proj.weight' has shape [47, 32], config.json implies [48, 32]", ImportError(dir, hf));
    }

    [Fact]
    public void ANonZeroAttentionBiasCannotBeRepresented()
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t => t["model.layers.1.self_attn.k_proj.bias"] = full(32, 0.1f));
        Assert.Contains("tensor 'model.layers.1.self_attn.k_proj.bias' is not zero: Flame's attention has no biases", ImportError(dir, hf));
    }

    [Fact]
    public void ALearnedSharedExpertGateCannotBeRepresented()
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t => t["model.layers.2.mlp.shared_expert_gate.weight"] = full(1, 32, 0.01f));
        Assert.Contains("tensor 'model.layers.2.mlp.shared_expert_gate.weight' is not zero: a learned shared-expert gate cannot be represented", ImportError(dir, hf));
    }

    [Theory]
    [InlineData("num_key_value_heads", "2", "grouped-query attention cannot be represented")]
    [InlineData("norm_topk_prob", "true", "norm_topk_prob is true")]
    [InlineData("model_type", "\"mixtral\"", "model_type 'mixtral' is not supported")]
    [InlineData("hidden_act", "\"gelu\"", "hidden_act 'gelu'")]
    [InlineData("use_sliding_window", "true", "use_sliding_window is true")]
    [InlineData("num_experts", "\"eight\"", "num_experts must be an integer")]
    [InlineData("rope_scaling", "{\"rope_type\": \"llama3\", \"factor\": 8.0}", "rope_scaling is set")]
    [InlineData("rope_parameters", "{\"rope_type\": \"yarn\"}", "rope_parameters.rope_type 'yarn'")]
    [InlineData("qkv_bias", "\"yes\"", "qkv_bias must be true or false")]
    public void ConfigsFlameCannotRepresentAreNamed(string key, string value, string expected)
    {
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, editConfig: c => c[key] = JsonNode.Parse(value));
        var message = ImportError(dir, hf);
        Assert.Contains(expected, message);
        Assert.Contains("config.json", message);
    }

    [Fact]
    public void AForeignFolderWithoutFlamesConfigImportsFromConfigJsonAndTiedEmbeddings()
    {
        // A folder another tool wrote: no flame_model.json, no lm_head (tied), a stray rotary buffer.
        using var dir = new TempFolder();
        var hf = ExportThenEdit(dir, t =>
        {
            t["lm_head.weight"] = t["model.embed_tokens.weight"];
            t.Remove("lm_head.weight");
            t["model.layers.0.self_attn.rotary_emb.inv_freq"] = ones(4);
        }, c => c["tie_word_embeddings"] = true);
        File.Delete(Path.Combine(hf, HfExport.FlameConfigFile));
        var result = HfImport.Run(hf, dir.File("back"));
        Assert.Equal("hf", result.Config.Name);
        Assert.Equal(128, result.Config.VocabSize);
        Assert.Equal(128, result.Config.PaddedVocab);
        Assert.Equal([0], result.Config.DenseLayers);
        using var imported = TrainedCheckpoint.Load(dir.File("back"));
        Assert.True(imported.Model.output.equal(imported.Model.embedding).all().item<bool>());
        using var original = TrainedCheckpoint.Load(dir.File("run"));
        Assert.True(imported.Model.blocks[2].moe!.experts.down.equal(original.Model.blocks[2].moe!.experts.down).all().item<bool>());
    }

    [Fact]
    public void DecoderSparseStepAndMlpOnlyLayersBecomeDenseLayers()
    {
        var json = HfConfig.ToJson(TinyModels.Moe with { Layers = 6 }, 0, "float32");
        json["decoder_sparse_step"] = 2;
        json["mlp_only_layers"] = new JsonArray(3);
        var config = HfConfig.FromJson(json, "x", "config.json");
        Assert.Equal([0, 2, 3, 4], config.DenseLayers); // sparse: (l+1) % 2 == 0 and not listed -> 1, 5
    }

    static (int Code, string Out, string Err) Run(params string[] args) => CliHarness.Run([ExportCommands.Create(), ImportCommands.Create()], args);

    [Fact]
    public void TheCommandsExportToTheRunsFolderAndImportBack()
    {
        using var dir = new TempFolder();
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        var (code, output, error) = Run("export", "hf", "--run", dir.File("run"), "--no-parity");
        Assert.True(code == 0, error);
        Assert.Contains("Qwen2Moe from step 6", output);
        var exported = Path.Combine(dir.File("run"), "export", "hf");
        Assert.True(File.Exists(Path.Combine(exported, "model.safetensors")));

        (code, output, error) = Run("import", "hf", "--model", exported, "--out", dir.File("back"));
        Assert.True(code == 0, error);
        Assert.Contains("8 experts, top-2", output);
        Assert.NotNull(TrainedCheckpoint.Load(dir.File("back")));
    }

    [Fact]
    public void CommandMistakesAreOneLineErrors()
    {
        using var dir = new TempFolder();
        var (code, _, error) = Run("import", "hf", "--model", dir.File("nowhere"), "--out", dir.File("x"));
        Assert.Equal(2, code);
        Assert.Contains("no such folder", error);
        (code, _, error) = Run("export", "hf");
        Assert.Equal(2, code);
        Assert.Contains("--checkpoint PATH or --run DIR", error);
        Directory.CreateDirectory(dir.File("empty"));
        File.WriteAllText(dir.File("empty/config.json"), "{\"model_type\": \"llama\"");
        (code, _, error) = Run("import", "hf", "--model", dir.File("empty"), "--out", dir.File("x"));
        Assert.Equal(2, code);
        Assert.Contains("not valid JSON", error);
        Assert.Single(error.Trim().Split('\n'));
    }
}
