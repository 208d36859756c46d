using Flame.Checkpointing;
using Flame.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>How to write a Hugging Face folder.</summary>
/// <param name="DType">Float32 (exact) or BFloat16 (half the size; weights rounded once).</param>
/// <param name="MaxShardBytes">model.safetensors up to this size, shards with an index above it.</param>
/// <param name="Parity">write parity/ (fixed ids and this platform's logits) for scripts/check-hf-parity.py.</param>
/// <param name="Overwrite">write into a folder Flame did not write, removing only the files an export writes there.</param>
public sealed record HfExportOptions(ScalarType DType = ScalarType.Float32, long MaxShardBytes = 5_000_000_000, bool Parity = true, bool Overwrite = false)
{
    /// <summary>Where --overwrite says what it removed.</summary>
    public Action<string>? Say { get; init; }
}

public sealed record HfExportResult(string Folder, HfArchitecture Architecture, long Step, IReadOnlyList<string> Files, long WeightBytes, string? TokenizerNote);

/// <summary>
/// `flame export hf`: a checkpoint as a folder transformers loads with from_pretrained (Qwen2MoeForCausalLM
/// for MoE models, LlamaForCausalLM for dense ones) and that computes the same logits: config.json,
/// model.safetensors (or shards and an index), tokenizer files, flame_model.json (this platform's own
/// config, so an import restores it exactly) and parity/.
/// </summary>
public static class HfExport
{
    public const string FlameConfigFile = "flame_model.json";

    public static HfExportResult Write(TrainedCheckpoint checkpoint, string folder, HfExportOptions options)
    {
        if (options.DType is not (ScalarType.Float32 or ScalarType.BFloat16))
            throw new UserError($"export dtype {options.DType} is not supported; use fp32 or bf16");
        // Only a new or empty folder, an earlier export, or --overwrite: an existing model folder's shards are not ours to delete.
        Output.OutputFolder.Claim(folder, Output.OutputKind.HfExport, "flame export hf", "--out", options.Overwrite, options.Say);
        var model = checkpoint.Model;
        var config = checkpoint.Config;
        var architecture = HfConfig.ArchitectureOf(config);
        // bf16: round the weights once, so the file and the parity logits come from the same numbers.
        if (options.DType == ScalarType.BFloat16) RoundWeights(model, options.DType);

        var links = HfWeightMap.Links(model, architecture);
        var pending = links.Select(l => new PendingTensor(l.Name, options.DType, l.Shape, l.Export)).ToList();
        var files = new List<string>(SafetensorsShards.Write(folder, pending, options.MaxShardBytes,
            new Dictionary<string, string> { ["format"] = "pt" }));

        var tokenizer = checkpoint.LoadTokenizer();
        var (tokenizerFiles, note) = HfTokenizerFiles.Write(folder, checkpoint.Tokenizer, tokenizer.EndOfDocumentId, config.MaxPositions);
        files.AddRange(tokenizerFiles);

        var dtypeName = options.DType == ScalarType.BFloat16 ? "bfloat16" : "float32";
        WriteText(Path.Combine(folder, HfConfig.FileName),
            HfConfig.ToJson(config, tokenizer.EndOfDocumentId, dtypeName).ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        WriteText(Path.Combine(folder, FlameConfigFile), ModelConfigJson.Serialize(config));
        files.Add(HfConfig.FileName);
        files.Add(FlameConfigFile);
        if (options.Parity) files.AddRange(ParityFixture.Write(folder, model));
        return new HfExportResult(folder, architecture, checkpoint.Step, files, pending.Sum(p => p.ByteCount), note);
    }

    static void RoundWeights(FlameModel model, ScalarType dtype)
    {
        using var _ = no_grad();
        foreach (var (_, parameter) in model.named_parameters())
        {
            using var scope = NewDisposeScope();
            parameter.copy_(parameter.to(dtype).to(parameter.dtype));
        }
    }

    static void WriteText(string path, string text) => Output.OutputFiles.WriteText(path, text);
}
