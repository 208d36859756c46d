namespace Flame.Tracing.Parquet;

/// <summary>A leaf column of a Parquet schema, as far as reading traces needs it.</summary>
/// <param name="Path">names from the top-level field down, e.g. ["indices", "list", "element"].</param>
/// <param name="PhysicalType">Parquet's physical type: 1 INT32, 2 INT64, 4 FLOAT, 5 DOUBLE, 7 FIXED_LEN_BYTE_ARRAY.</param>
/// <param name="Float16">annotated FLOAT16 (a 2-byte fixed-length array holding an IEEE half).</param>
public sealed record ParquetLeafColumn(string[] Path, int PhysicalType, int TypeLength, int MaxRepetition, int MaxDefinition, bool Float16, int Index, int IntegerBits = 0)
{
    public string Top => Path[0];

    public bool IsInteger => PhysicalType is 1 or 2;
    public bool IsFloat => PhysicalType is 4 or 5 || (PhysicalType == 7 && TypeLength == 2 && Float16);

    public string Describe()
    {
        string type = PhysicalType switch
        {
            0 => "boolean", 1 or 2 when IntegerBits is 8 or 16 => $"int{IntegerBits}", 1 => "int32", 2 => "int64", 3 => "int96", 4 => "float", 5 => "double", 6 => "binary",
            7 => Float16 && TypeLength == 2 ? "float16" : $"fixed_len_byte_array({TypeLength})", _ => $"type {PhysicalType}",
        };
        return MaxRepetition > 0 ? $"list<{type}>" : type;
    }
}
