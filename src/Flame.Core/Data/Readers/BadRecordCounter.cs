namespace Flame.Data.Readers;

/// <summary>Counts records skipped under --skip-bad and keeps the first few reasons to show the user.</summary>
public sealed class BadRecordCounter
{
    readonly List<string> _examples = [];
    long _count;

    public long Count => Interlocked.Read(ref _count);
    public IReadOnlyList<string> Examples { get { lock (_examples) return [.. _examples]; } }

    public void Add(string reason)
    {
        Interlocked.Increment(ref _count);
        lock (_examples) if (_examples.Count < 5) _examples.Add(reason);
    }
}
