using System.Diagnostics;
using Flame.Tracing;
using Flame.Tracing.Parquet;

namespace Flame.Analysis;

/// <summary>What `flame analyze bench` measured.</summary>
public sealed record AnalysisBenchmarkResult(long TokenLayers, long Tokens, int Layers, int Checkpoints, int Experts, int TopK,
    long FileBytes, double GenerateSeconds, double ReadSeconds, double ReadCpuSeconds, double AnalysisSeconds, double AnalysisCpuSeconds,
    long PeakWorkingSetBytes, long BaselineWorkingSetBytes, int Problems)
{
    public double ReadTokenLayersPerSecond => TokenLayers / ReadSeconds;
    public double AnalysisTokenLayersPerSecond => TokenLayers / AnalysisSeconds;
    /// <summary>Per CPU-second: comparable on a machine shared with other work.</summary>
    public double ReadTokenLayersPerCpuSecond => TokenLayers / ReadCpuSeconds;
    public double AnalysisTokenLayersPerCpuSecond => TokenLayers / AnalysisCpuSeconds;
}

/// <summary>
/// Analysis throughput on a synthetic trace set in the published layout: routing with token-dependent
/// preferences that sharpen towards the final checkpoint, so every analysis has real work. Measures the
/// plain Parquet read of every indices column (the floor) and all four analyses together, in token-layers
/// (routing rows: tokens x layers x checkpoints) per second, with the peak working set during the analysis.
/// </summary>
public static class AnalysisBenchmark
{
    /// <summary>
    /// Makes <paramref name="folder"/> the bench's own before anything is written: new, empty or an earlier bench's;
    /// any other folder is refused unless <paramref name="overwrite"/> (which removes only what the bench writes).
    /// </summary>
    public static Output.FolderOwner Claim(string folder, bool overwrite, Action<string>? say = null) =>
        Output.OutputFolder.Claim(folder, Output.OutputKind.AnalysisBench, "flame analyze bench", "--dir", overwrite, say);

    /// <summary>Removes what the bench wrote, and the folder itself when the bench created it and nothing else is in it.</summary>
    public static void Clean(string folder, Output.FolderOwner owner)
    {
        Output.OutputFolder.RemoveOwned(folder, Output.OutputKind.AnalysisBench);
        if (owner == Output.FolderOwner.New && Directory.Exists(folder) && !Directory.EnumerateFileSystemEntries(folder).Any()) Directory.Delete(folder);
    }

    public static AnalysisBenchmarkResult Run(string folder, long tokenLayers, int layers, int checkpoints, int experts, int topK,
        int vocab = 8192, Action<string>? onProgress = null)
    {
        if (layers < 1 || checkpoints < 1 || experts < topK || topK < 1 || experts > 32767)
            throw new UserError("bench: need layers >= 1, checkpoints >= 1 and 1 <= top-k <= experts <= 32767");
        long tokens = Math.Max(1, (tokenLayers + (long)layers * checkpoints - 1) / ((long)layers * checkpoints));
        if (tokens > int.MaxValue / topK) throw new UserError("bench: too many tokens per file");
        // The folder was claimed (Claim): only what an earlier bench wrote there is replaced.
        Claim(folder, overwrite: false);
        Output.OutputFolder.RemoveOwned(folder, Output.OutputKind.AnalysisBench, keepMarker: true);
        var clock = Stopwatch.StartNew();
        onProgress?.Invoke($"writing {tokens:N0} tokens x {layers} layers x {checkpoints} checkpoints");
        Generate(folder, (int)tokens, layers, checkpoints, experts, topK, vocab);
        double generate = clock.Elapsed.TotalSeconds;
        long bytes = Directory.GetFiles(folder, "*.parquet", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);

        onProgress?.Invoke("reading every indices column");
        var files = Directory.GetFiles(Path.Combine(folder, TraceLayout.ActivesFolder), "*.parquet", SearchOption.AllDirectories);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        Parallel.ForEach(files, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, file =>
        {
            using var reader = TraceParquetReader.Open(file);
            var column = reader.Column(TraceLayout.IndicesColumn)!;
            ParquetColumnValues? buffers = null;
            for (int g = 0; g < reader.RowGroupCount; g++) buffers = reader.Read(g, column, buffers);
            buffers?.ReturnArrays();
        });
        double read = clock.Elapsed.TotalSeconds;
        double readCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;

        onProgress?.Invoke("all four analyses");
        GC.Collect();
        long baseline = Process.GetCurrentProcess().WorkingSet64;
        long peak = baseline;
        using var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                peak = Math.Max(peak, Process.GetCurrentProcess().WorkingSet64);
                try { await Task.Delay(20, sampling.Token); } catch (TaskCanceledException) { }
            }
        });
        cpu = Process.GetCurrentProcess().TotalProcessorTime;
        clock.Restart();
        var result = TraceAnalysis.Analyze(TraceFolder.Open(folder), new AnalysisOptions { Plots = false });
        double analysis = clock.Elapsed.TotalSeconds;
        double analysisCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        sampling.Cancel();
        sampler.Wait();
        return new AnalysisBenchmarkResult(result.TokenLayers, tokens, layers, checkpoints, experts, topK, bytes, generate, read, readCpu,
            analysis, analysisCpu, peak, baseline, result.Problems.Count);
    }

    static void Generate(string folder, int tokens, int layers, int checkpoints, int experts, int topK, int vocab)
    {
        var random = new Random(1234);
        // Zipf-like token ids: a few frequent tokens and a long tail, as in text.
        var ids = new int[tokens];
        for (int i = 0; i < tokens; i++) ids[i] = (int)Math.Min(vocab - 1, Math.Floor(Math.Exp(random.NextDouble() * Math.Log(vocab))) - 1);
        using (var samples = new TraceParquetWriter(Path.Combine(folder, TraceLayout.SamplesFolder, TraceLayout.SamplesFile(0)),
                   [new(TraceLayout.TokenColumn, TraceColumnKind.Int32)]))
        {
            for (int first = 0; first < tokens; first += 1 << 20)
                samples.WriteRowGroup([new TraceColumnData.Int32Values(ids[first..Math.Min(tokens, first + (1 << 20))])]);
            samples.Complete();
        }
        var steps = Enumerable.Range(1, checkpoints).Select(c => (long)c * 1000).ToList();
        Parallel.For(0, layers * checkpoints, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, job =>
        {
            int layer = job / checkpoints + 2, c = job % checkpoints;
            double noise = 0.6 * (checkpoints - 1 - c) / Math.Max(1, checkpoints - 1);
            var rng = new Random(job * 7919 + 17);
            const int groupRows = 262144;
            using var writer = new TraceParquetWriter(Path.Combine(folder, TraceLayout.ActivesFolder, TraceLayout.CheckpointFolder(steps[c]), TraceLayout.LayerFile(layer)),
                RoutingBuffer.Schema);
            var scores = new Half[groupRows * topK];
            var indices = new short[groupRows * topK];
            var chosen = new bool[experts];
            for (int first = 0; first < tokens; first += groupRows)
            {
                int rows = Math.Min(groupRows, tokens - first);
                for (int r = 0; r < rows; r++)
                {
                    // A token's preferred experts: a fixed hash of (token, layer); noise decays over training.
                    uint h = (uint)(ids[first + r] * 2654435761u ^ (uint)layer * 40503u);
                    for (int a = 0; a < topK; a++)
                    {
                        int e;
                        do
                        {
                            e = rng.NextDouble() < noise ? rng.Next(experts) : (int)(((h >> (a * 5 % 27)) + (uint)(a * 13)) % (uint)experts);
                            if (chosen[e]) e = rng.Next(experts);
                        } while (chosen[e]);
                        chosen[e] = true;
                        indices[r * topK + a] = (short)e;
                        scores[r * topK + a] = (Half)(0.5f / (a + 1));
                    }
                    for (int a = 0; a < topK; a++) chosen[indices[r * topK + a]] = false;
                }
                writer.WriteRowGroup([new TraceColumnData.Float16Lists(scores[..(rows * topK)], topK), new TraceColumnData.Int16Lists(indices[..(rows * topK)], topK)]);
            }
            writer.Complete();
        });
        new TraceManifest
        {
            Model = "synthetic", Experts = experts, TopK = topK, VocabSize = vocab, Layers = Enumerable.Range(2, layers).ToList(),
            Checkpoints = steps, Tokens = tokens, Samples = 1, Sequence = tokens,
        }.Write(folder);
    }
}
