using System.Collections;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// Megatron-LM's legacy checkpoint (`--ckpt-format torch`): `iter_NNNNNNN/mp_rank_TT[_EEE]/model_optim_rng.pt`,
/// one torch.save file per tensor-parallel rank and, with expert parallelism, per expert-parallel rank
/// (megatron/training/checkpointing.py get_checkpoint_name). Each file holds `args`, `iteration` and `model`, the
/// module's state_dict_for_save_checkpoint: every rank repeats the non-expert weights and holds its own
/// experts numbered locally (megatron/core/transformer/moe/experts.py: SequentialMLP `local_experts.i`,
/// TEGroupedMLP `linear_fc1.weight{i}`, GroupedMLP `weight1` [h, local x 2F] and `weight2` [local x F, h]);
/// expert i of rank r is global expert r x local + i.
/// </summary>
public sealed partial class LegacyCheckpoint : IMegatronCheckpoint
{
    public const string FileName = "model_optim_rng.pt";

    readonly List<TorchArchive> _archives = [];
    readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Where a tensor is: an archive, the pickled view, and how to cut the named tensor out of it.</summary>
    sealed record Entry(TorchArchive Archive, TorchTensorRef Tensor, long[] Shape, Func<Tensor, Tensor>? Cut);

    public string Source { get; }
    public MegatronArgs Args { get; }
    public long Iteration { get; }
    public IReadOnlyCollection<string> Names => _entries.Keys;

    public static bool IsLegacy(string iterationFolder) =>
        Directory.EnumerateDirectories(iterationFolder, "mp_rank_*").Any();

    public LegacyCheckpoint(string iterationFolder, long iteration)
    {
        Source = iterationFolder;
        Iteration = iteration;
        try
        {
            var first = Directory.EnumerateDirectories(iterationFolder, "mp_rank_*").Order(StringComparer.Ordinal).First();
            var firstArchive = Add(Path.Combine(first, FileName));
            var root = Root(firstArchive);
            Args = new MegatronArgs(root["args"], firstArchive.Source);
            Args.ToModelConfig("check"); // TP/PP and model settings first: they decide the folder names
            int ranks = Args.Int("expert_model_parallel_size", 1), experts = Args.Int("num_experts", 0);
            if (ranks > 1 && experts % ranks != 0)
                throw new UserError($"{firstArchive.Source}: num_experts {experts} is not a multiple of expert_model_parallel_size {ranks}");
            for (int rank = 0; rank < ranks; rank++)
            {
                var folder = Path.Combine(iterationFolder, ranks > 1 ? $"mp_rank_00_{rank:D3}" : "mp_rank_00");
                var path = Path.Combine(folder, FileName);
                if (!File.Exists(path))
                    throw new UserError($"{iterationFolder}: missing shard {Path.GetFileName(folder)}/{FileName} (expert_model_parallel_size is {ranks})");
                var archive = rank == 0 && path == firstArchive.Source ? firstArchive : Add(path);
                Collect(archive, rank, ranks > 1 ? experts / ranks : experts);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    TorchArchive Add(string path)
    {
        var archive = TorchArchive.Open(path);
        _archives.Add(archive);
        return archive;
    }

    static Hashtable Root(TorchArchive archive) =>
        archive.Root as Hashtable ?? throw new UserError($"{archive.Source}: not a Megatron checkpoint (the file holds no dictionary)");

    void Collect(TorchArchive archive, int rank, int localExperts)
    {
        var root = Root(archive);
        if (root["model"] is not Hashtable model)
            throw new UserError(root.ContainsKey("model0")
                ? $"{archive.Source}: a virtual-pipeline checkpoint (model0, model1, ...) cannot be read"
                : $"{archive.Source}: no 'model' state dict in the checkpoint");
        foreach (DictionaryEntry item in model)
        {
            var key = (string)item.Key;
            if (key.EndsWith("_extra_state", StringComparison.Ordinal)) continue; // TransformerEngine's FP8 metadata
            if (item.Value is not TorchTensorRef tensor)
                throw new UserError($"{archive.Source}: model entry '{key}' is not a tensor");
            if (SequentialExpert().Match(key) is { Success: true } sequential)
            {
                int global = rank * localExperts + int.Parse(sequential.Groups[2].Value);
                Put($"{sequential.Groups[1].Value}local_experts.{global}.{sequential.Groups[3].Value}", archive, tensor, tensor.Shape, null);
            }
            else if (TeGroupedExpert().Match(key) is { Success: true } te)
            {
                int global = rank * localExperts + int.Parse(te.Groups[3].Value);
                Put($"{te.Groups[1].Value}local_experts.{global}.{te.Groups[2].Value}.weight", archive, tensor, tensor.Shape, null);
            }
            else if (GroupedExpert().Match(key) is { Success: true } grouped)
                AddGrouped(grouped.Groups[1].Value, grouped.Groups[2].Value, archive, tensor, rank, localExperts);
            else if (rank == 0)
                Put(key, archive, tensor, tensor.Shape, null);
        }
    }

    /// <summary>
    /// GroupedMLP (experts.py): weight1 viewed as [local, h, 2F] and weight2 as [local, F, h] per expert (x @ w);
    /// as Linear weights ([out, in]) they are the transposes.
    /// </summary>
    void AddGrouped(string prefix, string which, TorchArchive archive, TorchTensorRef tensor, int rank, int localExperts)
    {
        if (tensor.Shape.Length != 2) throw new UserError($"{archive.Source}: {prefix}{which} is not a matrix");
        bool first = which == "weight1";
        long h = first ? tensor.Shape[0] : tensor.Shape[1];
        long width = (first ? tensor.Shape[1] : tensor.Shape[0]) / localExperts;
        for (int i = 0; i < localExperts; i++)
        {
            int local = i;
            var name = $"{prefix}local_experts.{rank * localExperts + i}.{(first ? "linear_fc1" : "linear_fc2")}.weight";
            Put(name, archive, tensor, first ? [width, h] : [h, width],
                t => (first ? t.view(localExperts, h, width) : t.view(localExperts, width, h))[local].t().contiguous());
        }
    }

    void Put(string name, TorchArchive archive, TorchTensorRef tensor, long[] shape, Func<Tensor, Tensor>? cut)
    {
        if (!_entries.TryAdd(name, new Entry(archive, tensor, shape, cut)))
            throw new UserError($"{archive.Source}: tensor '{name}' appears twice across the expert-parallel shards");
    }

    public long[] Shape(string name) => _entries[name].Shape;

    public Tensor Read(string name)
    {
        var entry = _entries[name];
        using var raw = entry.Archive.Read(entry.Tensor);
        using var cut = entry.Cut?.Invoke(raw);
        return (cut ?? raw).to(ScalarType.Float32, copy: true);
    }

    public void Dispose()
    {
        foreach (var archive in _archives) archive.Dispose();
        _archives.Clear();
    }

    [GeneratedRegex(@"^(.*\.mlp\.experts\.)local_experts\.(\d+)\.(.*)$")]
    private static partial Regex SequentialExpert();

    [GeneratedRegex(@"^(.*\.mlp\.experts\.)(linear_fc[12])\.weight(\d+)$")]
    private static partial Regex TeGroupedExpert();

    [GeneratedRegex(@"^(.*\.mlp\.experts\.)(weight[12])$")]
    private static partial Regex GroupedExpert();
}
