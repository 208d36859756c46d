using Flame.Data.Indexed;

namespace Flame.Data.Preparation;

/// <summary>What a finished prepare wrote, the first few skipped records' reasons, and how many empty documents it skipped.</summary>
public sealed record PrepareResult(string Prefix, long Documents, long Tokens, long RawBytes, long Skipped, IReadOnlyList<string> SkippedExamples, IndexedDType DType, TimeSpan Elapsed, long EmptySkipped = 0)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? RawBytes / 1e6 / Elapsed.TotalSeconds : 0;
}
