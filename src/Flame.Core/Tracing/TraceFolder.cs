namespace Flame.Tracing;

/// <summary>
/// A trace folder in the published FLAME-MoE layout, whoever wrote it: actives/iter_*/layer_*.parquet,
/// samples/*.parquet (here or, as in the published dataset, one level up beside the model folders) and,
/// when this platform wrote it, manifest.json. Opening checks what can be checked without reading data:
/// missing checkpoints and layer files, and row counts that disagree with the token count; each becomes a
/// <see cref="TraceProblem"/> and the file is left out.
/// </summary>
public sealed class TraceFolder
{
    public required string Root { get; init; }
    public TraceManifest? Manifest { get; init; }
    public required IReadOnlyList<long> Checkpoints { get; init; }
    public required IReadOnlyList<int> Layers { get; init; }
    public required IReadOnlyList<string> SampleFiles { get; init; }
    /// <summary>Routing rows every file must have (the token count, or the most common row count without samples).</summary>
    public required long Rows { get; init; }
    public required List<TraceProblem> Problems { get; init; }
    readonly Dictionary<(long, int), string> _files = [];

    /// <summary>The usable file of a checkpoint and layer, or null when it is missing or was left out.</summary>
    public string? File(long checkpoint, int layer) => _files.GetValueOrDefault((checkpoint, layer));

    /// <param name="path">a trace folder, or a run folder holding traces/.</param>
    /// <param name="expectedCheckpoints">steps that must be present (a run's checkpoints); the manifest's are added.</param>
    public static TraceFolder Open(string path, IReadOnlyList<long>? expectedCheckpoints = null)
    {
        var root = path;
        if (!Directory.Exists(Path.Combine(root, TraceLayout.ActivesFolder)) && Directory.Exists(Output.RunFiles.Traces(root)))
            root = Output.RunFiles.Traces(root);
        var actives = Path.Combine(root, TraceLayout.ActivesFolder);
        if (!Directory.Exists(actives))
            throw new UserError($"{path}: no {TraceLayout.ActivesFolder}/ folder (capture traces first: flame trace --run RUN)");
        var manifest = TraceManifest.Read(root);
        var problems = new List<TraceProblem>();

        var found = new SortedDictionary<long, string>();
        foreach (var dir in Directory.GetDirectories(actives))
            if (TraceLayout.ParseCheckpoint(Path.GetFileName(dir)) is long step) found[step] = dir;
        var expected = (expectedCheckpoints ?? []).Concat(manifest?.Checkpoints ?? []).Distinct().Order().ToList();
        foreach (var step in expected.Where(s => !found.ContainsKey(s)))
            problems.Add(new(Path.Combine(actives, TraceLayout.CheckpointFolder(step)), "missing: the checkpoint has no traces"));
        if (found.Count == 0) throw new UserError($"{actives}: no iter_* checkpoint folders");

        var layerFiles = found.ToDictionary(f => f.Key, f => Directory.GetFiles(f.Value)
            .Select(file => (Layer: TraceLayout.ParseLayer(Path.GetFileName(file)), file))
            .Where(x => x.Layer is not null).ToDictionary(x => x.Layer!.Value, x => x.file));
        var layers = (manifest?.Layers ?? []).Concat(layerFiles.Values.SelectMany(d => d.Keys)).Distinct().Order().ToList();

        var samplesDir = new[] { Path.Combine(root, TraceLayout.SamplesFolder), Path.Combine(Path.GetDirectoryName(Path.GetFullPath(root))!, TraceLayout.SamplesFolder) }
            .FirstOrDefault(Directory.Exists);
        var sampleFiles = samplesDir is null ? [] : Directory.GetFiles(samplesDir)
            .Select(f => (Index: TraceLayout.ParseSamplesFile(Path.GetFileName(f)), f)).Where(x => x.Index is not null)
            .OrderBy(x => x.Index).Select(x => x.f).ToList();

        long tokens = -1;
        if (sampleFiles.Count > 0)
        {
            try
            {
                tokens = 0;
                foreach (var file in sampleFiles)
                {
                    using var reader = TokenCursor.OpenSamples(file, out _);
                    tokens += reader.Rows;
                }
            }
            catch (TraceFileException e)
            {
                problems.Add(new(e.File, e.Reason + "; token ids are unavailable, so specialization is skipped"));
                sampleFiles = [];
                tokens = -1;
            }
        }
        var rowCounts = new Dictionary<(long, int), long>();
        foreach (var (step, files) in layerFiles)
            foreach (var (layer, file) in files)
            {
                try
                {
                    using var reader = Parquet.TraceParquetReader.Open(file);
                    rowCounts[(step, layer)] = reader.Rows;
                }
                catch (Exception e) when (e is InvalidDataException or IOException) { problems.Add(new(file, e.Message)); }
            }
        long rows = tokens >= 0 ? tokens
            : rowCounts.Count == 0 ? 0 : rowCounts.Values.GroupBy(v => v).OrderByDescending(g => g.Count()).ThenByDescending(g => g.Key).First().Key;

        var folder = new TraceFolder
        {
            Root = root, Manifest = manifest, Checkpoints = found.Keys.ToList(), Layers = layers,
            SampleFiles = sampleFiles, Rows = rows, Problems = problems,
        };
        foreach (var (step, dir) in found)
            foreach (var layer in layers)
            {
                if (!layerFiles[step].TryGetValue(layer, out var file))
                {
                    problems.Add(new(Path.Combine(dir, TraceLayout.LayerFile(layer)), "missing: other checkpoints have this layer"));
                    continue;
                }
                if (!rowCounts.TryGetValue((step, layer), out var count)) continue;
                if (count != rows)
                {
                    string against = tokens >= 0 ? $"the samples hold {rows} tokens" : $"most layer files have {rows} rows";
                    problems.Add(new(file, $"{count} rows, but {against}; row i must be the same token in every file, so this file is left out"));
                    continue;
                }
                folder._files[(step, layer)] = file;
            }
        return folder;
    }
}
