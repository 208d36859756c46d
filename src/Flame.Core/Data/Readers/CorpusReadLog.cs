namespace Flame.Data.Readers;

/// <summary>
/// What reading a corpus has seen so far, safe to read from another thread: bytes read from disk (for the
/// progress bar's ETA), the records skipped under --skip-bad with the first few reasons, and the empty
/// documents skipped (always, as Megatron's preprocess_data does: empty documents are normal in web corpora).
/// </summary>
public sealed class CorpusReadLog
{
    readonly List<string> _examples = [];
    long _skipped, _diskBytes, _empty;

    public long Skipped => Interlocked.Read(ref _skipped);
    public long EmptySkipped => Interlocked.Read(ref _empty);
    public long DiskBytes => Interlocked.Read(ref _diskBytes);
    public IReadOnlyList<string> Examples { get { lock (_examples) return [.. _examples]; } }

    public void Skip(string reason)
    {
        Interlocked.Increment(ref _skipped);
        lock (_examples) if (_examples.Count < 5) _examples.Add(reason);
    }

    public void SkipEmpty() => Interlocked.Increment(ref _empty);

    public void AddDiskBytes(long n) => Interlocked.Add(ref _diskBytes, n);
}
