using System.Text.Json.Nodes;
using System.Text.Json;
using Flame.Checkpointing;
using Flame.Data.Tokenization;
using Flame.Model;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

public sealed record HfImportResult(string Checkpoint, ModelConfig Config, HfArchitecture Architecture, int Tensors, string? TokenizerNote);

/// <summary>
/// `flame import hf`: a transformers Qwen2MoE or Llama folder (as <see cref="HfExport"/> writes, or any
/// with the same layout) into a Flame checkpoint, step 0, that TrainedCheckpoint opens. Every tensor must be
/// accounted for: a missing or unexpected one, a wrong shape, a non-zero q/k/v bias or a non-zero shared
/// expert gate (which Flame cannot represent) is a <see cref="UserError"/> naming the tensor.
/// </summary>
public static class HfImport
{
    public static HfImportResult Run(string modelFolder, string runFolder)
    {
        if (!Directory.Exists(modelFolder)) throw new UserError($"{modelFolder}: no such folder");
        Output.OutputFolder.RequireNewOrEmpty(runFolder, "--out");
        var json = HfConfig.Read(modelFolder);
        var source = Path.Combine(modelFolder, HfConfig.FileName);
        var config = ResolveConfig(json, modelFolder);
        var architecture = HfConfig.ArchitectureOf(config);
        if (architecture == HfArchitecture.Qwen2Moe != (json["model_type"]!.GetValue<string>() == "qwen2_moe"))
            throw new UserError($"{modelFolder}: a qwen2_moe config without MoE layers (or a llama one with experts) cannot be imported");

        using var weights = SafetensorsFolder.Open(modelFolder);
        HfImportSize.RequireWeightsFor(config, weights, source);
        using var model = new FlameModel(config);
        var links = HfWeightMap.Links(model, architecture).ToList();
        if (architecture == HfArchitecture.Qwen2Moe && !HfConfig.HasQkvBias(json, source))
            links.RemoveAll(l => l.Name.EndsWith("_proj.bias"));
        Load(weights, links, model, HfConfig.TiedEmbeddings(json, source));

        var state = JsonSerializer.Serialize(new { imported_from = Path.GetFullPath(modelFolder), architecture = architecture.ToString() });
        // A new run folder only: a step-0 checkpoint added to an existing run would sit under its newer ones.
        var note = Output.OutputFolder.WriteNew(runFolder, Output.OutputKind.Run, "flame import hf", "--out", temp =>
        {
            using (var local = Distributed.ProcessGroups.Local())
                Checkpoint.Save(new CheckpointStore(temp), 0, state, model, local, optimizer: null);
            return CopyTokenizer(modelFolder, temp);
        });
        var checkpoint = Path.Combine(new CheckpointStore(runFolder).Root, CheckpointStore.FolderName(0));
        return new HfImportResult(checkpoint, config, architecture, links.Count, note);
    }

    /// <summary>
    /// The config from config.json; flame_model.json (written by our export) refines it with what
    /// config.json cannot say (the tokenizer's vocabulary before padding, the name, loss coefficients)
    /// when it describes the same architecture.
    /// </summary>
    static ModelConfig ResolveConfig(JsonObject json, string modelFolder)
    {
        var source = Path.Combine(modelFolder, HfConfig.FileName);
        var derived = HfConfig.FromJson(json, Path.GetFileName(Path.GetFullPath(modelFolder).TrimEnd('/')), source);
        var flamePath = Path.Combine(modelFolder, HfExport.FlameConfigFile);
        if (!File.Exists(flamePath)) return derived;
        var flame = ModelConfigJson.Deserialize(File.ReadAllText(flamePath), flamePath);
        var described = HfConfig.FromJson(HfConfig.ToJson(flame, 0, "float32"), flame.Name, flamePath);
        return ModelConfigJson.Serialize(described) == ModelConfigJson.Serialize(derived with { Name = flame.Name }) ? flame : derived;
    }

    static void Load(SafetensorsFolder weights, List<HfTensorLink> links, FlameModel model, bool tied)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var link in links)
        {
            expected.Add(link.Name);
            using var scope = NewDisposeScope();
            if (!weights.Contains(link.Name))
            {
                if (link.Name == "lm_head.weight" && tied)
                {
                    link.Import(model.embedding); // tied embeddings: the output layer is the embedding
                    continue;
                }
                throw new UserError($"{weights.Folder}: missing tensor '{link.Name}' (expected shape [{string.Join(", ", link.Shape)}])");
            }
            var entry = weights.Entry(link.Name);
            if (!entry.Shape.SequenceEqual(link.Shape))
                throw new UserError($"{weights.Folder}: tensor '{link.Name}' has shape [{string.Join(", ", entry.Shape)}], config.json implies [{string.Join(", ", link.Shape)}]");
            if (!is_floating_point(entry.DType))
                throw new UserError($"{weights.Folder}: tensor '{link.Name}' is {SafetensorsDType.NameOf(entry.DType)}, not a floating-point weight");
            link.Import(weights.Read(link.Name).to(ScalarType.Float32));
        }
        // Derived buffers some checkpoints carry; the model recomputes them.
        var unexpected = weights.Names.Where(n => !expected.Contains(n) && !n.EndsWith("rotary_emb.inv_freq")).ToList();
        if (unexpected.Count > 0)
            throw new UserError($"{weights.Folder}: unexpected tensor '{unexpected[0]}'" +
                                (unexpected.Count > 1 ? $" (and {unexpected.Count - 1} more)" : "") + " that Flame's model has no place for");
    }

    static string? CopyTokenizer(string modelFolder, string runFolder)
    {
        var source = Path.Combine(modelFolder, HfTokenizerFiles.TokenizerJson);
        if (!File.Exists(source)) return $"{modelFolder} has no {HfTokenizerFiles.TokenizerJson}; commands that open this run will fall back to the demo tokenizer";
        var target = Output.RunFiles.TokenizerJson(runFolder);
        Output.OutputFiles.Copy(source, target);
        try
        {
            TokenizerLoader.FromFile(target);
            return null;
        }
        catch (UserError e)
        {
            return $"tokenizer.json copied, but Flame cannot load it ({e.Message})";
        }
    }
}
