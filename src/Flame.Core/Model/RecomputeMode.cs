namespace Flame.Model;

/// <summary>
/// Which activations the backward pass recomputes instead of keeping (Megatron's --recompute-granularity):
/// none keeps everything, selective recomputes the cheap, memory-heavy parts of each block, full keeps only each
/// block's input and runs the block again in the backward.
/// </summary>
public enum RecomputeMode { None, Selective, Full }

public static class RecomputeModes
{
    public static readonly string[] Names = ["none", "selective", "full"];

    public static RecomputeMode Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "none" => RecomputeMode.None,
        "selective" => RecomputeMode.Selective,
        "full" => RecomputeMode.Full,
        _ => throw new UserError($"training.recompute = {text}: valid choices: {string.Join(", ", Names)}"),
    };

    public static string Name(RecomputeMode mode) => Names[(int)mode];
}
