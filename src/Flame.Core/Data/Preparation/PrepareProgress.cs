namespace Flame.Data.Preparation;

/// <summary>A snapshot of a running prepare: raw text bytes tokenized, documents, tokens, skipped records, and disk bytes read against the inputs' total size (for the ETA).</summary>
public sealed record PrepareProgress(long RawBytes, long Documents, long Tokens, long Skipped, long DiskBytesRead, long DiskBytesTotal, TimeSpan Elapsed)
{
    public double MegabytesPerSecond => Elapsed.TotalSeconds > 0 ? RawBytes / 1e6 / Elapsed.TotalSeconds : 0;
    public double Fraction => DiskBytesTotal > 0 ? Math.Clamp((double)DiskBytesRead / DiskBytesTotal, 0, 1) : 0;
}
