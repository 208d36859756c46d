using Flame.Tracing;

namespace Flame.Analysis;

/// <summary>
/// One MoE layer's streaming pass (see <see cref="TraceAnalysis"/>): all checkpoint files of the layer in
/// lockstep with the token ids, each step taking as many rows as every cursor has ready.
/// </summary>
static class LayerPass
{
    sealed class State(long step, RoutingCursor cursor) : IDisposable
    {
        public long Step { get; } = step;
        public RoutingCursor Cursor { get; } = cursor;
        public long[] Pairs = [];
        public int[] Hits = [];
        public long[] SaturationHits = [];
        public long Rows;
        public bool Failed, Ended;
        public void Dispose() => Cursor.Dispose();
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static LayerAnalysis Run(LayerContext context, int layer, List<TraceProblem> problems, out long rowsRead)
    {
        var (folder, options, analyses, experts, topK, ks, _) = context;
        bool pairs = analyses.HasFlag(TraceAnalyses.CoActivation) || analyses.HasFlag(TraceAnalyses.LoadBalance);
        bool special = analyses.HasFlag(TraceAnalyses.Specialization);
        bool saturation = analyses.HasFlag(TraceAnalyses.Saturation) && ks.Count > 0;
        int vocab = Math.Max(16, context.VocabSize);
        var result = new LayerAnalysis { Layer = layer };
        var states = new List<State>();
        long finalStep = folder.Checkpoints[^1];
        foreach (var step in folder.Checkpoints)
        {
            if (folder.File(step, layer) is not string file) continue;
            try
            {
                var state = new State(step, RoutingCursor.Open(file, experts, topK));
                if (pairs) state.Pairs = new long[experts * experts];
                if (special) state.Hits = new int[vocab * experts];
                if (saturation) state.SaturationHits = new long[ks.Count];
                states.Add(state);
            }
            catch (TraceFileException e) { problems.Add(new(e.File, e.Reason)); }
        }
        var final = states.FirstOrDefault(s => s.Step == finalStep);
        if (saturation && final is null)
        {
            problems.Add(new(Path.Combine(folder.Root, TraceLayout.ActivesFolder, TraceLayout.CheckpointFolder(finalStep), TraceLayout.LayerFile(layer)),
                $"the final checkpoint's file is unusable, so layer {layer} has no router saturation"));
            saturation = false;
        }
        var occurrences = new long[special ? vocab : 0];
        using var tokens = special ? new TokenCursor(folder.SampleFiles) : null;
        rowsRead = 0;
        try
        {
            while (true)
            {
                foreach (var s in states.Where(s => !s.Failed && !s.Ended))
                {
                    try { if (!s.Cursor.Fill()) s.Ended = true; }
                    catch (TraceFileException e) { Fail(s, e, problems); }
                }
                if (saturation && final!.Failed)
                {
                    problems.Add(new(final.Cursor.Path, $"layer {layer} has no router saturation: it needs this (final) checkpoint's file"));
                    saturation = false;
                }
                var active = states.Where(s => !s.Failed && !s.Ended).ToList();
                if (active.Count == 0) break;
                int n = active.Min(s => s.Cursor.Available);
                if (special)
                {
                    try
                    {
                        if (!tokens!.Fill()) throw new TraceFileException(folder.SampleFiles[^1], "the samples end before the routing rows do");
                        n = Math.Min(n, tokens.Available);
                    }
                    catch (TraceFileException e)
                    {
                        problems.Add(new(e.File, $"{e.Reason}; layer {layer} has no specialization"));
                        special = false;
                    }
                }
                ReadOnlySpan<int> ids = special ? tokens!.Current[..n] : default;
                if (special)
                {
                    int max = 0;
                    foreach (var v in ids)
                    {
                        if (v < 0) { problems.Add(new(folder.SampleFiles[0], $"negative token id {v}; layer {layer} has no specialization")); special = false; break; }
                        if (v > max) max = v;
                    }
                    if (special && max >= occurrences.Length) Grow(ref occurrences, states, max + 1, experts);
                    if (special) foreach (var v in ids) occurrences[v]++;
                }
                var finalRows = saturation ? final!.Cursor.Current[..(n * topK)] : default;
                foreach (var s in active)
                {
                    var rows = s.Cursor.Current[..(n * topK)];
                    if (pairs) CoActivation.Count(rows, topK, experts, s.Pairs);
                    if (special) Specialization.Count(rows, ids, topK, experts, s.Hits);
                    if (saturation) RouterSaturation.Accumulate(rows, finalRows, topK, experts, ks, s.SaturationHits);
                    s.Rows += n;
                    s.Cursor.Advance(n);
                }
                if (special) tokens!.Advance(n);
                rowsRead += (long)n * active.Count;
            }
            foreach (var s in states.Where(s => !s.Failed && s.Rows != folder.Rows))
                Fail(s, new TraceFileException(s.Cursor.Path, $"{s.Rows} rows read, expected {folder.Rows}"), problems);
            Collect(result, states.Where(s => !s.Failed).ToList(), final is { Failed: false } && saturation, special, occurrences, context);
        }
        finally { foreach (var s in states) s.Dispose(); }
        return result;
    }

    static void Fail(State s, TraceFileException e, List<TraceProblem> problems)
    {
        s.Failed = true;
        problems.Add(new(e.File, e.Reason + "; this checkpoint is left out of the layer's analyses"));
    }

    static void Grow(ref long[] occurrences, List<State> states, int needed, int experts)
    {
        int size = Math.Max(needed, occurrences.Length * 2);
        Array.Resize(ref occurrences, size);
        foreach (var s in states.Where(s => s.Hits.Length > 0)) Array.Resize(ref s.Hits, size * experts);
    }

    static void Collect(LayerAnalysis result, List<State> states, bool saturation, bool special, long[] occurrences, LayerContext context)
    {
        var (_, options, analyses, experts, _, ks, _) = context;
        foreach (var s in states)
        {
            if (s.Pairs.Length > 0)
            {
                var m = CoActivation.ToMatrix(s.Pairs, experts);
                if (analyses.HasFlag(TraceAnalyses.CoActivation)) result.CoActivationCounts[s.Step] = m;
                if (analyses.HasFlag(TraceAnalyses.LoadBalance))
                    result.LoadBalance[s.Step] = LoadBalance.Summarize(Enumerable.Range(0, experts).Select(e => m[e, e]).ToArray(), s.Rows);
            }
            if (saturation)
                result.Saturation[s.Step] = ks.Select((k, i) => (k, i)).ToDictionary(x => x.k, x => (double)s.SaturationHits[x.i] / ((double)s.Rows * x.k));
            if (special)
            {
                int listed = Math.Max(options.TopTokens, options.TrackedTokens);
                result.TopTokens[s.Step] = Enumerable.Range(0, experts)
                    .Select(e => Specialization.TopTokens(s.Hits, occurrences, e, experts, listed, options.MinOccurrences)).ToArray();
            }
        }
        if (!special || states.Count == 0) return;
        // The original follows each expert's top tokens of the final checkpoint back through training.
        var last = states[^1];
        for (int e = 0; e < experts; e++)
            foreach (var (token, rank) in result.TopTokens[last.Step][e].Take(options.TrackedTokens).Select((t, r) => (t.Token, r + 1)))
                result.Evolution.Add((e, rank, token, new SortedDictionary<long, double>(states.ToDictionary(
                    s => s.Step, s => Specialization.Score(s.Hits[token * experts + e], occurrences[token])))));
    }
}
