using System.Globalization;
using System.Text.RegularExpressions;
using Flame.Tracing;
using Flame.Tracing.Parquet;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

public sealed record MegatronTraceImportResult(string Folder, long Tokens, int Checkpoints, int Layers, int TopK, int MicroBatch);

/// <summary>
/// `flame import megatron-traces`: FLAME-MoE's raw routing capture into the published layout (spec §5, §7).
/// The capture (the fork's megatron/core/models/gpt/gpt_model.py and transformer/moe/moe_layer.py under
/// --test-mode; scripts/empirical_analysis/capture-*.sh) writes, per forward pass n of data-parallel rank r,
/// `samples/{n}-{r}.pt` = input_ids.view(-1) of [batch, seq] (batch-major) and, per checkpoint step and
/// 1-based layer, `actives/{step}/{layer}/{n}-{r}.pt` = torch.topk(probs, k) as (values, indices), whose rows
/// follow the MoE layer's hidden states [seq, batch] (seq-major). With a micro-batch above 1 the two orders
/// differ; here routing row s x B + b is moved to b x S + s, so row i of every layer file is token i of the
/// samples files. Shards are taken in (n, r) order, the order of Megatron's data sampler (each step's global
/// batch is split across ranks in rank order).
/// </summary>
public static partial class MegatronTraceImport
{
    public static MegatronTraceImportResult Run(string input, string output, int sequence = 2048, int experts = 64)
    {
        if (sequence < 1) throw new UserError($"--seq {sequence} must be positive");
        Output.OutputFolder.RequireNewOrEmpty(output, "--out");
        var samplesFolder = Path.Combine(input, "samples");
        var activesFolder = Path.Combine(input, "actives");
        if (!Directory.Exists(samplesFolder) || !Directory.Exists(activesFolder))
            throw new UserError($"{input}: expected samples/ and actives/ (FLAME-MoE's capture folder)");
        var shards = Shards(samplesFolder);
        if (shards.Count == 0) throw new UserError($"{samplesFolder}: no capture shards N-RANK.pt");
        var steps = Directory.EnumerateDirectories(activesFolder)
            .Select(d => (Folder: d, Step: long.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : -1))
            .Where(x => x.Step >= 0).OrderBy(x => x.Step).ToList();
        if (steps.Count == 0) throw new UserError($"{activesFolder}: no checkpoint folders (actives/STEP/LAYER/N-RANK.pt)");
        var layers = Directory.EnumerateDirectories(steps[0].Folder)
            .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out var l) ? l : -1)
            .Where(l => l > 0).Order().ToList();
        if (layers.Count == 0) throw new UserError($"{steps[0].Folder}: no layer folders");

        int topK = 0, microBatch = 0, vocab = 0;
        long tokens = 0;
        var result = Output.OutputFolder.WriteNew(output, Output.OutputKind.Traces, "flame import megatron-traces", "--out", temp =>
        {
            var perShard = new Dictionary<string, long>();
            (tokens, microBatch, vocab) = WriteSamples(samplesFolder, shards, sequence, temp, perShard);
            foreach (var (folder, step) in steps)
                foreach (var layer in layers)
                {
                    var source = Path.Combine(folder, layer.ToString(CultureInfo.InvariantCulture));
                    if (!Directory.Exists(source)) throw new UserError($"{source}: missing (every checkpoint must hold the layers of the first, {string.Join(", ", layers)})");
                    topK = WriteLayer(source, shards, perShard, sequence,
                        Path.Combine(temp, TraceLayout.ActivesFolder, TraceLayout.CheckpointFolder(step), TraceLayout.LayerFile(layer)), experts, topK);
                }
            new TraceManifest
            {
                Model = Path.GetFileName(Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar)),
                Experts = experts, TopK = topK, VocabSize = vocab, Layers = layers, Checkpoints = steps.Select(s => s.Step).ToList(),
                Tokens = tokens, Samples = (int)(tokens / sequence), Sequence = sequence,
                Data = [Path.GetFullPath(input)], Split = "test",
            }.Write(temp);
            return 0;
        });
        return new MegatronTraceImportResult(output, tokens, steps.Count, layers.Count, topK, microBatch);
    }

    static List<(int Pass, int Rank, string Name)> Shards(string folder) =>
        Directory.EnumerateFiles(folder, "*.pt")
            .Select(f => (f, m: ShardName().Match(Path.GetFileName(f))))
            .Where(x => x.m.Success)
            .Select(x => (int.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(x.m.Groups[2].Value, CultureInfo.InvariantCulture), Path.GetFileName(x.f)))
            .OrderBy(x => x.Item1).ThenBy(x => x.Item2).ToList();

    /// <summary>One samples file per forward pass n (all ranks), with explicit sample and position columns.</summary>
    static (long Tokens, int MicroBatch, int Vocab) WriteSamples(string folder, List<(int Pass, int Rank, string Name)> shards, int sequence, string output,
        Dictionary<string, long> perShard)
    {
        long tokens = 0;
        int sample = 0, microBatch = 0, file = 0, vocab = 0;
        foreach (var pass in shards.GroupBy(s => s.Pass))
        {
            using var writer = new TraceParquetWriter(Path.Combine(output, TraceLayout.SamplesFolder, TraceLayout.SamplesFile(file++)),
                [new(TraceLayout.TokenColumn, TraceColumnKind.Int32), new(TraceLayout.SampleColumn, TraceColumnKind.Int32),
                 new(TraceLayout.PositionColumn, TraceColumnKind.Int32)]);
            foreach (var shard in pass)
            {
                var path = Path.Combine(folder, shard.Name);
                int[] ids;
                using (var archive = TorchArchive.Open(path))
                {
                    if (archive.Root is not TorchTensorRef reference || reference.Shape.Length != 1)
                        throw new UserError($"{path}: expected one flat tensor of token ids (input_ids.view(-1))");
                    using var tensor = archive.Read(reference);
                    using var asInt = tensor.to(ScalarType.Int32);
                    ids = asInt.data<int>().ToArray();
                }
                if (ids.Length % sequence != 0)
                    throw new UserError($"{path}: {ids.Length} token ids are not a whole number of sequences of {sequence} (--seq)");
                int batch = ids.Length / sequence;
                if (microBatch == 0) microBatch = batch;
                var samples = new int[ids.Length];
                var positions = new int[ids.Length];
                for (int i = 0; i < ids.Length; i++) { samples[i] = sample + i / sequence; positions[i] = i % sequence; }
                writer.WriteRowGroup([new TraceColumnData.Int32Values(ids), new TraceColumnData.Int32Values(samples), new TraceColumnData.Int32Values(positions)]);
                sample += batch;
                tokens += ids.Length;
                perShard[shard.Name] = ids.Length;
                if (ids.Length > 0) vocab = Math.Max(vocab, ids.Max() + 1); // the ids seen: the capture does not record the tokenizer
            }
            writer.Complete();
        }
        return (tokens, microBatch, vocab);
    }

    /// <returns>the top-k of the files (all must agree).</returns>
    static int WriteLayer(string folder, List<(int Pass, int Rank, string Name)> shards, Dictionary<string, long> perShard, int sequence,
        string output, int experts, int topK)
    {
        var schema = new TraceColumn[] { new(TraceLayout.ScoresColumn, TraceColumnKind.Float16List), new(TraceLayout.IndicesColumn, TraceColumnKind.Int16List) };
        using var writer = new TraceParquetWriter(output, schema);
        foreach (var shard in shards)
        {
            var path = Path.Combine(folder, shard.Name);
            if (!File.Exists(path)) throw new UserError($"{folder}: missing shard {shard.Name} (samples/ has it)");
            using var scope = NewDisposeScope();
            using var archive = TorchArchive.Open(path);
            if (archive.Root is not object[] { Length: 2 } pair || pair[0] is not TorchTensorRef values || pair[1] is not TorchTensorRef indices
                || values.Shape.Length != 2 || !values.Shape.SequenceEqual(indices.Shape))
                throw new UserError($"{path}: expected a pair (values, indices) of [tokens, k] tensors (torch.topk of the router's probabilities)");
            long rows = values.Shape[0];
            int k = (int)values.Shape[1];
            if (topK != 0 && k != topK) throw new UserError($"{path}: top-{k}, other files have top-{topK}");
            topK = k;
            if (rows != perShard[shard.Name]) throw new UserError($"{path}: {rows} routing rows, samples/{shard.Name} has {perShard[shard.Name]} tokens");
            long batch = rows / sequence;
            // [seq, batch, k] -> [batch, seq, k]: the token ids' order.
            var scores = archive.Read(values).to(ScalarType.Float32).view(sequence, batch, k).transpose(0, 1).contiguous();
            var ids = archive.Read(indices).to(ScalarType.Int64).view(sequence, batch, k).transpose(0, 1).contiguous();
            if (ids.numel() > 0 && (ids.min().item<long>() < 0 || ids.max().item<long>() >= experts))
                throw new UserError($"{path}: an expert id outside 0..{experts - 1} (--experts {experts})");
            writer.WriteRowGroup([
                new TraceColumnData.Float16Lists(scores.data<float>().ToArray().Select(v => (Half)v).ToArray(), k),
                new TraceColumnData.Int16Lists(ids.to(ScalarType.Int16).data<short>().ToArray(), k)]);
        }
        writer.Complete();
        return topK;
    }

    [GeneratedRegex(@"^(\d+)-(\d+)\.pt$")]
    private static partial Regex ShardName();
}
