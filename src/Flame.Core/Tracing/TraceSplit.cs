using Flame.Data.Samples;

namespace Flame.Tracing;

/// <summary>
/// The split whose first samples a capture traces. FLAME-MoE traced the test split (its capture runs Megatron
/// with --split 95,0,5 --test-mode, spec §7), so that is the default; valid and train are there for comparison.
/// </summary>
public static class TraceSplit
{
    public const string Default = "test";

    public static string Parse(string text, string source) => text.Trim().ToLowerInvariant() switch
    {
        "test" => "test",
        "valid" or "validation" => "valid",
        "train" => "train",
        _ => throw new UserError($"{source} = {text}: expected test, valid or train"),
    };

    public static SplitName ToSplitName(string split) => Parse(split, "split") switch
    {
        "valid" => SplitName.Valid,
        "train" => SplitName.Train,
        _ => SplitName.Test,
    };
}
