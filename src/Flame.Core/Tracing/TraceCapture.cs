using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Data.Samples;
using Flame.Model;
using Flame.Runtime;
using Flame.Tracing.Parquet;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Tracing;

/// <summary>
/// Records where every held-out token goes at every checkpoint of a run (spec §5): the first samples of
/// the run's test split by default, as FLAME-MoE traced (fixed by the data, the split and the seed, so every
/// checkpoint sees the same tokens in the same order) are run through each checkpoint under no_grad, and every MoE layer's
/// top-k expert ids and gate scores (sorted descending) are written in the published FLAME-MoE layout.
/// Row i of every actives file is token i of the samples files, whose explicit (sample, position) columns
/// make the alignment checkable. Each checkpoint's folder is written under a temporary name and renamed
/// when complete, so an interrupted capture resumes with the checkpoints it lacks.
/// <para>
/// The rows are aligned whatever the micro-batch, where FLAME-MoE's captures are not when it is above 1 (spec §7);
/// docs/tracing-provenance.md gives the Megatron-LM source lines that show it and why specialization depends on it.
/// </para>
/// </summary>
public static class TraceCapture
{
    public static TraceCaptureResult Run(string runDirectory, TraceOptions options, Action<string>? onProgress = null)
    {
        options.Validate();
        var clock = Stopwatch.StartNew();
        var checkpoints = TrainedCheckpoint.List(runDirectory);
        foreach (var (folder, reason) in CheckpointDiagnosis.Invalid(runDirectory)) onProgress?.Invoke($"skipped checkpoint {folder}: {reason}");
        if (checkpoints.Count == 0) throw new UserError($"{runDirectory}: no valid checkpoint to trace (train first: flame train --out {runDirectory})");
        var config = RunTrainingConfig.Read(runDirectory);
        var data = options.Data ?? config?.Data
            ?? throw new UserError($"{runDirectory}: no {Output.RunFiles.Name.ConfigJson} to take the data path from; give --data PREFIX");
        data = RunTrainingConfig.ResolveData(data, runDirectory);
        int sequence = options.Sequence ?? config?.Sequence ?? throw new UserError($"{runDirectory}: no {Output.RunFiles.Name.ConfigJson}; give --seq");
        long seed = options.Seed ?? config?.Seed ?? 1234;
        var model = ModelConfigJson.Read(checkpoints[^1].Folder);
        if (!model.IsMoe) throw new UserError($"{runDirectory}: model '{model.Name}' has no MoE layer, so there is no routing to trace");
        if (sequence > model.MaxPositions) throw new UserError($"--seq {sequence} exceeds the model's max positions {model.MaxPositions}");

        using var valid = DataPath.Parse(data).Open(new GptSampleOptions(sequence, TraceSplit.ToSplitName(options.Split), Seed: seed));
        long wanted = Math.Max(1, options.Tokens / sequence);
        int samples = (int)Math.Min(wanted, valid.Count);
        if (samples == 0) throw new UserError($"{string.Join(' ', data)}: the {options.Split} split has no sample of {sequence} tokens");
        var moeLayers = Enumerable.Range(0, model.Layers).Where(model.IsMoeLayer).ToList();

        var output = options.Output ?? Output.RunFiles.Traces(runDirectory);
        var manifest = new TraceManifest
        {
            Model = model.Name, Experts = model.Experts, TopK = model.TopK, VocabSize = model.VocabSize,
            Layers = moeLayers.Select(TraceLayout.LayerNumber).ToList(), Tokens = (long)samples * sequence, Samples = samples,
            Sequence = sequence, Data = data, Split = TraceSplit.Parse(options.Split, "split"), Seed = seed, Tokenizer = RunTrainingConfig.Tokenizer(runDirectory),
        };
        // The output is ours (new, empty, or an earlier capture) or the user said --overwrite; one capture writes it at a time.
        Output.OutputFolder.RefuseLinks(output, TraceLayout.SamplesFolder, TraceLayout.ActivesFolder);
        Output.OutputFolder.Claim(output, Output.OutputKind.Traces, "flame trace", options.OutputOption, options.Overwrite, onProgress);
        using var writer = Output.RunLock.Acquire(output, "flame trace");
        var kept = Prepare(output, manifest);
        if (kept.Count == 0) WriteSamples(output, valid, samples, sequence, options);

        var device = ComputeTarget.ResolveDevice(options.Device);
        var written = new List<long>();
        foreach (var (step, folder) in checkpoints)
        {
            if (kept.Contains(step)) continue;
            onProgress?.Invoke($"tracing checkpoint {step} ({written.Count + 1}/{checkpoints.Count - kept.Count})");
            using var checkpoint = TrainedCheckpoint.Load(folder, device);
            if (checkpoint.Config.Experts != model.Experts || checkpoint.Config.TopK != model.TopK || checkpoint.Config.Layers != model.Layers)
                throw new UserError($"{folder}: its model differs from the run's last checkpoint ({checkpoint.Config.Experts} experts, top-{checkpoint.Config.TopK})");
            CaptureCheckpoint(checkpoint, valid, samples, sequence, moeLayers, output, options, device);
            written.Add(step);
        }
        (manifest with { Checkpoints = checkpoints.Select(c => c.Step).ToList() }).Write(output);
        return new TraceCaptureResult(output, written, kept.Order().ToList(), manifest.Tokens, moeLayers.Count, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Keeps the checkpoints already captured with the same token set; anything else under the folder's
    /// samples/ and actives/ is from another capture and is removed.
    /// </summary>
    static HashSet<long> Prepare(string output, TraceManifest manifest)
    {
        var previous = TraceManifest.Read(output);
        bool same = previous is not null && previous.Tokens == manifest.Tokens && previous.Sequence == manifest.Sequence
            && previous.Seed == manifest.Seed && previous.Split == manifest.Split && previous.Data.SequenceEqual(manifest.Data) && previous.Experts == manifest.Experts
            && previous.TopK == manifest.TopK && previous.Layers.SequenceEqual(manifest.Layers);
        var actives = Path.Combine(output, TraceLayout.ActivesFolder);
        if (!same)
        {
            foreach (var dir in new[] { actives, Path.Combine(output, TraceLayout.SamplesFolder) })
                if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(actives);
            File.Delete(Path.Combine(output, TraceLayout.ManifestFile));
            return [];
        }
        Output.TemporaryFiles.RemoveAbandoned(actives);       // checkpoints a killed capture left (iter_X.tmp-PID)
        var kept = new HashSet<long>();
        foreach (var dir in Directory.GetDirectories(actives))
        {
            var name = Path.GetFileName(dir);
            if (Output.TemporaryFiles.IsTemporary(name)) continue;
            if (TraceLayout.ParseCheckpoint(name) is long step
                && manifest.Layers.All(l => File.Exists(Path.Combine(dir, TraceLayout.LayerFile(l))))) kept.Add(step);
            else if (TraceLayout.ParseCheckpoint(name) is not null || name.EndsWith(".tmp", StringComparison.Ordinal))
                Directory.Delete(dir, recursive: true);       // an incomplete checkpoint of an earlier capture into this folder
        }
        return kept;
    }

    static void WriteSamples(string output, ISampleSource valid, int samples, int sequence, TraceOptions options)
    {
        var folder = Path.Combine(output, TraceLayout.SamplesFolder);
        Directory.CreateDirectory(folder);
        int perFile = Math.Max(1, options.TokensPerSamplesFile / sequence);
        var buffer = new int[sequence + 1];
        for (int file = 0, first = 0; first < samples; file++, first += perFile)
        {
            int count = Math.Min(perFile, samples - first);
            var tokens = new int[count * sequence];
            var sample = new int[tokens.Length];
            var position = new int[tokens.Length];
            for (int s = 0; s < count; s++)
            {
                valid.GetSample(first + s, buffer);
                buffer.AsSpan(0, sequence).CopyTo(tokens.AsSpan(s * sequence));
                for (int t = 0; t < sequence; t++) { sample[s * sequence + t] = first + s; position[s * sequence + t] = t; }
            }
            using var writer = new TraceParquetWriter(Path.Combine(folder, TraceLayout.SamplesFile(file)),
                [new(TraceLayout.TokenColumn, TraceColumnKind.Int32), new(TraceLayout.SampleColumn, TraceColumnKind.Int32),
                 new(TraceLayout.PositionColumn, TraceColumnKind.Int32)]);
            for (int row = 0; row < tokens.Length; row += options.RowGroupRows)
            {
                var range = new Range(row, Math.Min(tokens.Length, row + options.RowGroupRows));
                writer.WriteRowGroup([new TraceColumnData.Int32Values(tokens[range]), new TraceColumnData.Int32Values(sample[range]),
                    new TraceColumnData.Int32Values(position[range])]);
            }
            writer.Complete();
        }
    }

    static void CaptureCheckpoint(TrainedCheckpoint checkpoint, ISampleSource valid, int samples, int sequence,
        IReadOnlyList<int> moeLayers, string output, TraceOptions options, Device device)
    {
        var final = Path.Combine(output, TraceLayout.ActivesFolder, TraceLayout.CheckpointFolder(checkpoint.Step));
        var temporary = Output.TemporaryFiles.For(final);
        if (Directory.Exists(temporary)) Directory.Delete(temporary, recursive: true);
        Directory.CreateDirectory(temporary);
        int k = checkpoint.Config.TopK;
        var buffers = moeLayers.Select(l => new RoutingBuffer(
            Path.Combine(temporary, TraceLayout.LayerFile(TraceLayout.LayerNumber(l))), k, options.RowGroupRows)).ToList();
        bool complete = false;
        try
        {
            using var noGrad = no_grad();
            for (int first = 0; first < samples; first += options.BatchSize)
            {
                using var scope = NewDisposeScope();
                int count = Math.Min(options.BatchSize, samples - first);
                var indices = Enumerable.Range(first, count).Select(i => (long)i).ToArray();
                var tokens = SampleBatch.ToTensor(valid, indices, checkpoint.Model.Config.VocabSize)[.., ..sequence].to(device);
                var routed = checkpoint.Model.Route(tokens);
                for (int j = 0; j < moeLayers.Count; j++)
                {
                    // Rows are (sample, position) in row-major order, as the model flattens [batch, seq].
                    var routing = routed[j].Routing;
                    var gates = routing.Gates.to(ScalarType.Float32).cpu().data<float>().ToArray();
                    var ids = routing.Indices.to(ScalarType.Int16).cpu().data<short>().ToArray();
                    buffers[j].Add(gates, ids);
                }
            }
            foreach (var b in buffers) b.Complete();
            complete = true;
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
            if (!complete) Directory.Delete(temporary, recursive: true); // a failed capture leaves no temporary behind
        }
        if (Directory.Exists(final)) Directory.Delete(final, recursive: true);
        Directory.Move(temporary, final);
    }
}
