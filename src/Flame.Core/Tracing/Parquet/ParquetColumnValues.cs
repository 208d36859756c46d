namespace Flame.Tracing.Parquet;

/// <summary>
/// One column chunk as read: the defined values (ints or floats) and, for nested columns, a level per
/// entry (repetition 0 starts a row; definition below the maximum marks a null or empty list).
/// The arrays are rented from the shared pools; a reader that is done with them calls <see cref="ReturnArrays"/>
/// so the next file's reads reuse memory already touched (streaming many files would otherwise keep asking the
/// system for fresh pages), and one that does not simply leaves them to the garbage collector.
/// </summary>
public sealed class ParquetColumnValues
{
    public int[]? Ints { get; init; }
    public float[]? Floats { get; init; }
    public int DefinedCount { get; init; }
    public short[]? Repetition { get; init; }
    public short[]? Definition { get; init; }
    public int Entries { get; init; }

    /// <summary>The defined values (the arrays themselves may be longer).</summary>
    public ReadOnlySpan<int> IntValues => Ints.AsSpan(0, Ints is null ? 0 : DefinedCount);
    public ReadOnlySpan<float> FloatValues => Floats.AsSpan(0, Floats is null ? 0 : DefinedCount);

    /// <summary>One repetition level per entry (empty for a flat column).</summary>
    public ReadOnlySpan<short> RepetitionLevels => Repetition.AsSpan(0, Repetition is null ? 0 : Entries);

    /// <summary>Gives the arrays back to the pools; this object must not be read afterwards.</summary>
    public void ReturnArrays()
    {
        if (Ints is not null) System.Buffers.ArrayPool<int>.Shared.Return(Ints);
        if (Floats is not null) System.Buffers.ArrayPool<float>.Shared.Return(Floats);
        if (Repetition is not null) System.Buffers.ArrayPool<short>.Shared.Return(Repetition);
        if (Definition is not null) System.Buffers.ArrayPool<short>.Shared.Return(Definition);
    }
}
