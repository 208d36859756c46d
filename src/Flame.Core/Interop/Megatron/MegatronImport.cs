using System.Text.Json;
using Flame.Checkpointing;
using Flame.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

public sealed record MegatronImportResult(string Checkpoint, ModelConfig Config, string Format, long Iteration, int Tensors, string? TokenizerModel);

/// <summary>
/// `flame import megatron`: one iteration of a Megatron-LM checkpoint of a FLAME-MoE-shaped model (legacy or
/// torch_dist) into a new Flame run folder whose `checkpoints/iter_NNNNNNN` (Megatron's iteration as the step)
/// every checkpoint command opens. The model's numbers come from the saved arguments; every stored model tensor
/// must find its place and every Flame parameter must be found, or the import stops naming the tensor.
/// </summary>
public static class MegatronImport
{
    public static MegatronImportResult Run(string checkpointFolder, string runFolder, long? iteration = null)
    {
        Output.OutputFolder.RequireNewOrEmpty(runFolder, "--out");
        using var checkpoint = MegatronCheckpointFolder.Open(checkpointFolder, iteration);
        var name = Path.GetFileName(Path.GetFullPath(checkpointFolder).TrimEnd(Path.DirectorySeparatorChar));
        var config = checkpoint.Args.ToModelConfig(name);
        using var model = new FlameModel(config);
        int tensors = LoadWeights(model, checkpoint);

        var format = checkpoint is LegacyCheckpoint ? "legacy" : "torch_dist";
        var state = JsonSerializer.Serialize(new { imported_from = checkpoint.Source, format, iteration = checkpoint.Iteration });
        var folderName = CheckpointStore.FolderName(checkpoint.Iteration);
        Output.OutputFolder.WriteNew(runFolder, Output.OutputKind.Run, "flame import megatron", "--out", temp =>
        {
            using var local = Distributed.ProcessGroups.Local();
            return Checkpoint.Save(new CheckpointStore(temp), checkpoint.Iteration, state, model, local, optimizer: null);
        });
        return new MegatronImportResult(Path.Combine(new CheckpointStore(runFolder).Root, folderName), config, format,
            checkpoint.Iteration, tensors, checkpoint.Args.String("tokenizer_model"));
    }

    /// <summary>Fills <paramref name="model"/> from the checkpoint; returns the number of tensors read.</summary>
    public static int LoadWeights(FlameModel model, IMegatronCheckpoint checkpoint)
    {
        var links = MegatronWeightMap.Links(model);
        var used = new HashSet<string>(StringComparer.Ordinal);
        var present = checkpoint.Names.ToHashSet(StringComparer.Ordinal);
        foreach (var link in links)
        {
            var name = link.Names.FirstOrDefault(present.Contains)
                ?? throw new UserError($"{checkpoint.Source}: missing tensor '{link.Name}' (expected shape [{string.Join(", ", link.Shape)}])");
            var shape = checkpoint.Shape(name);
            if (!shape.SequenceEqual(link.Shape))
                throw new UserError($"{checkpoint.Source}: tensor '{name}' has shape [{string.Join(", ", shape)}], the saved arguments imply [{string.Join(", ", link.Shape)}]");
            using var scope = NewDisposeScope();
            link.Import(checkpoint.Read(name));
            used.Add(name);
        }
        // Megatron-Core keeps RoPE's inverse frequencies outside the state dict; an older checkpoint may hold them.
        var unexpected = present.Where(n => !used.Contains(n) && !n.EndsWith("inv_freq", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
            throw new UserError($"{checkpoint.Source}: unexpected tensor '{unexpected[0]}'" +
                                (unexpected.Count > 1 ? $" (and {unexpected.Count - 1} more)" : "") + " that Flame's model has no place for");
        return links.Count;
    }
}
