namespace Flame.Data.Readers;

/// <summary>
/// What reading a corpus has seen so far, safe to read from another thread: bytes read from disk (for the
/// progress bar's ETA), and the records skipped under --skip-bad with the first few reasons.
/// </summary>
public sealed class CorpusReadLog
{
    readonly List<string> _examples = [];
    long _skipped, _diskBytes;

    public long Skipped => Interlocked.Read(ref _skipped);
    public long DiskBytes => Interlocked.Read(ref _diskBytes);
    public IReadOnlyList<string> Examples { get { lock (_examples) return [.. _examples]; } }

    public void Skip(string reason)
    {
        Interlocked.Increment(ref _skipped);
        lock (_examples) if (_examples.Count < 5) _examples.Add(reason);
    }

    public void AddDiskBytes(long n) => Interlocked.Add(ref _diskBytes, n);
}
