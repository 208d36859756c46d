using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Data.Tokenization;
using Flame.Output;
using Flame.Tracing;
using Flame.Training;

namespace Flame.Analysis;

/// <summary>
/// The FLAME-MoE routing analyses (spec §5) and load balance over a trace folder, in one streaming pass
/// per MoE layer: every checkpoint's file of the layer, the final checkpoint's and the token ids are read
/// in lockstep a row group at a time, so memory grows with experts (and the vocabulary, for
/// specialization), never with the traced tokens. Layers run in parallel. A file that turns out unusable
/// is reported by name and left out; everything else completes.
/// </summary>
public static class TraceAnalysis
{
    /// <summary>Analyses a run's traces (or a bare trace folder), writes tables and plots, returns the result.</summary>
    public static AnalysisResult Run(string runOrTraceFolder, AnalysisOptions options, Action<string>? onProgress = null)
    {
        if (!Directory.Exists(runOrTraceFolder)) throw new UserError($"{runOrTraceFolder}: no such run or trace folder");
        // A run folder holds traces/ (and checkpoints/); a bare trace folder holds actives/ itself.
        bool isRun = !Directory.Exists(Path.Combine(runOrTraceFolder, TraceLayout.ActivesFolder))
            && (Directory.Exists(RunFiles.Traces(runOrTraceFolder)) || Directory.Exists(RunFiles.Checkpoints(runOrTraceFolder)));
        var expected = isRun && Directory.Exists(RunFiles.Checkpoints(runOrTraceFolder))
            ? TrainedCheckpoint.List(runOrTraceFolder).Select(c => c.Step).ToList() : null;
        var folder = TraceFolder.Open(runOrTraceFolder, expected);
        var output = options.Output ?? (isRun ? RunFiles.Analysis(runOrTraceFolder) : Path.Combine(folder.Root, RunFiles.Name.Analysis));
        var tokenizer = options.Tokenizer ?? folder.Manifest?.Tokenizer ?? (isRun ? RunTrainingConfig.Tokenizer(runOrTraceFolder) : null);
        var result = Analyze(folder, options with { Tokenizer = tokenizer, Output = output }, onProgress);
        if (result.NothingRead) // empty tables would read as a success
            throw new UserError($"{result.TraceFolder}: nothing could be read ({result.Problems.Count} problems; the first: {result.Problems[0]})");
        onProgress?.Invoke("writing tables");
        AnalysisTables.Write(result);
        if (options.Plots)
        {
            onProgress?.Invoke("drawing plots");
            AnalysisPlots.Write(result);
        }
        return result;
    }

    /// <summary>Computes the analyses without writing anything.</summary>
    public static AnalysisResult Analyze(TraceFolder folder, AnalysisOptions options, Action<string>? onProgress = null)
    {
        var clock = Stopwatch.StartNew();
        var problems = new List<TraceProblem>(folder.Problems);
        int experts = options.Experts ?? (folder.Manifest?.Experts is > 0 ? folder.Manifest.Experts : 64);
        int topK = DetectTopK(folder, experts, problems);
        var ks = options.SaturationKs.Where(k => k >= 1 && k <= topK).Distinct().Order().ToList();
        var analyses = options.Analyses;
        if (analyses.HasFlag(TraceAnalyses.Specialization) && folder.SampleFiles.Count == 0)
        {
            problems.Add(new(Path.Combine(folder.Root, TraceLayout.SamplesFolder), "no samples/*.parquet with token ids: specialization is skipped"));
            analyses &= ~TraceAnalyses.Specialization;
        }
        var context = new LayerContext(folder, options, analyses, experts, topK, ks, folder.Manifest?.VocabSize ?? 0);
        var layers = new LayerAnalysis?[folder.Layers.Count];
        long tokenLayers = 0;
        int done = 0;
        if (topK > 0)
            Parallel.For(0, folder.Layers.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, options.Parallelism) }, i =>
            {
                var layerProblems = new List<TraceProblem>();
                layers[i] = LayerPass.Run(context, folder.Layers[i], layerProblems, out long rows);
                lock (problems) { problems.AddRange(layerProblems); tokenLayers += rows; }
                onProgress?.Invoke($"layer {folder.Layers[i]} done ({Interlocked.Increment(ref done)}/{folder.Layers.Count})");
            });
        return new AnalysisResult
        {
            TraceFolder = folder.Root, Output = options.Output ?? Path.Combine(folder.Root, RunFiles.Name.Analysis), Experts = experts, TopK = topK,
            Tokens = folder.Rows, Checkpoints = folder.Checkpoints, SaturationKs = ks, Analyses = analyses,
            Layers = layers.Where(l => l is not null).Select(l => l!).ToList(), Problems = problems,
            TokenText = TokenTexts(options.Tokenizer, problems), Seconds = clock.Elapsed.TotalSeconds, TokenLayers = tokenLayers,
        };
    }

    /// <summary>k from the manifest, else from the first row of the first readable file.</summary>
    static int DetectTopK(TraceFolder folder, int experts, List<TraceProblem> problems)
    {
        if (folder.Manifest?.TopK is > 0) return folder.Manifest.TopK;
        foreach (var step in folder.Checkpoints)
            foreach (var layer in folder.Layers)
            {
                if (folder.File(step, layer) is not string file) continue;
                try
                {
                    using var cursor = RoutingCursor.Open(file, experts, 0);
                    if (cursor.Fill()) return cursor.TopK;
                }
                catch (TraceFileException) { }           // reported when its layer is analysed
            }
        problems.Add(new(folder.Root, "no readable routing rows: nothing to analyse"));
        return 0;
    }

    static Func<int, string> TokenTexts(string? tokenizerName, List<TraceProblem> problems)
    {
        if (tokenizerName is null) return _ => "";
        try
        {
            var tokenizer = TokenizerLoader.Load(tokenizerName);
            var cache = new System.Collections.Concurrent.ConcurrentDictionary<int, string>();
            return id => cache.GetOrAdd(id, v => Visible(tokenizer.Decode([v])));
        }
        catch (Exception e) when (e is UserError or IOException or InvalidOperationException)
        {
            problems.Add(new(tokenizerName, $"tokenizer unavailable ({e.Message}); tokens are shown as ids"));
            return _ => "";
        }
    }

    /// <summary>Whitespace made visible, so a table cell shows " the" and "\n" unambiguously.</summary>
    static string Visible(string text) => text.Replace(" ", "␣").Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}

/// <summary>What every layer pass shares.</summary>
sealed record LayerContext(TraceFolder Folder, AnalysisOptions Options, TraceAnalyses Analyses, int Experts, int TopK, IReadOnlyList<int> Ks, int VocabSize);
