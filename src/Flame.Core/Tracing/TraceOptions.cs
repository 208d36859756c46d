namespace Flame.Tracing;

/// <summary>
/// How <see cref="TraceCapture"/> records a run's routing (spec §5). Defaults are CPU-sized; the original
/// traced 52.4M tokens. Null means "as the run was trained" (config.json).
/// </summary>
public sealed record TraceOptions
{
    /// <summary>Held-out tokens to trace: whole samples of <see cref="Sequence"/> tokens, rounded down.</summary>
    public long Tokens { get; init; } = 16384;
    public int? Sequence { get; init; }
    /// <summary>Sequences per forward pass.</summary>
    public int BatchSize { get; init; } = 8;
    public string Device { get; init; } = "auto";
    /// <summary>Dataset prefix(es) to draw the validation split from; default the run's.</summary>
    public IReadOnlyList<string>? Data { get; init; }
    public long? Seed { get; init; }
    /// <summary>The split whose first samples are traced (<see cref="TraceSplit"/>: test, as FLAME-MoE's traces).</summary>
    public string Split { get; init; } = TraceSplit.Default;
    /// <summary>Output folder; default RUN/traces.</summary>
    public string? Output { get; init; }
    /// <summary>The option that named <see cref="Output"/>, as the user spelled it, for messages.</summary>
    public string OutputOption { get; init; } = "--out";
    /// <summary>Write into an output folder Flame did not write, removing only samples/, actives/ and manifest.json there.</summary>
    public bool Overwrite { get; init; }
    /// <summary>Routing rows per Parquet row group.</summary>
    public int RowGroupRows { get; init; } = 262144;
    /// <summary>Tokens per samples/NNN.parquet file.</summary>
    public int TokensPerSamplesFile { get; init; } = 1 << 20;

    public TraceOptions Validate()
    {
        if (Tokens < 1) throw new UserError($"--tokens must be at least 1 (got {Tokens})");
        if (Sequence is < 1) throw new UserError($"--seq must be at least 1 (got {Sequence})");
        if (BatchSize < 1) throw new UserError($"--batch must be at least 1 (got {BatchSize})");
        if (RowGroupRows < 1 || TokensPerSamplesFile < 1) throw new UserError("row group and samples file sizes must be positive");
        return this;
    }
}

/// <summary>What a capture wrote.</summary>
public sealed record TraceCaptureResult(string Folder, IReadOnlyList<long> Checkpoints, IReadOnlyList<long> Skipped, long Tokens, int Layers, double Seconds);
