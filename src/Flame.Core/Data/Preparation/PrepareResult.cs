using Flame.Data.Indexed;

namespace Flame.Data.Preparation;

/// <summary>What a finished prepare wrote, and the first few skipped records' reasons.</summary>
public sealed record PrepareResult(string Prefix, long Documents, long Tokens, long RawBytes, long Skipped, IReadOnlyList<string> SkippedExamples, IndexedDType DType, TimeSpan Elapsed)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? RawBytes / 1e6 / Elapsed.TotalSeconds : 0;
}
