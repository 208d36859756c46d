namespace Flame.Tracing.Parquet;

/// <summary>The three column shapes of the published FLAME-MoE trace schema (spec §5).</summary>
public enum TraceColumnKind
{
    /// <summary>required int32 (token_id, sample, position).</summary>
    Int32,
    /// <summary>list&lt;int16&gt;: INT32 annotated INT(16, signed), as pyarrow writes int16.</summary>
    Int16List,
    /// <summary>list&lt;float16&gt;: FIXED_LEN_BYTE_ARRAY(2) annotated FLOAT16.</summary>
    Float16List,
}

public sealed record TraceColumn(string Name, TraceColumnKind Kind);

/// <summary>One column's values for one row group; lists are flattened row-major with a fixed length.</summary>
public abstract record TraceColumnData
{
    public sealed record Int32Values(int[] Values) : TraceColumnData;
    public sealed record Int16Lists(short[] Values, int ListLength) : TraceColumnData;
    public sealed record Float16Lists(Half[] Values, int ListLength) : TraceColumnData;

    public int Rows => this switch
    {
        Int32Values v => v.Values.Length,
        Int16Lists l => l.Values.Length / l.ListLength,
        Float16Lists f => f.Values.Length / f.ListLength,
        _ => throw new InvalidOperationException(),
    };
}
