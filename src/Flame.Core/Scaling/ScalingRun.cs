namespace Flame.Scaling;

/// <summary>One finished run of a scaling study: compute C, parameters N, tokens D, final validation loss (spec §3).</summary>
public sealed record ScalingRun(double Flops, double Params, double Tokens, double Loss)
{
    /// <summary>Columns of the CSV beyond the four the fits read, kept as text (e.g. the run's name).</summary>
    public IReadOnlyDictionary<string, string> Extra { get; init; } = new Dictionary<string, string>();
}
