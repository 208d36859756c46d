namespace Flame.Tracing.Parquet;

/// <summary>
/// One column chunk as read: the defined values (ints or floats) and, for nested columns, a level per
/// entry (repetition 0 starts a row; definition below the maximum marks a null or empty list).
/// </summary>
public sealed class ParquetColumnValues
{
    public int[]? Ints { get; init; }
    public float[]? Floats { get; init; }
    public int DefinedCount { get; init; }
    public int[]? Repetition { get; init; }
    public int[]? Definition { get; init; }
    public int Entries { get; init; }
}
