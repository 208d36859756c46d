namespace Flame.Data.Indexed;

/// <summary>Token element types of Megatron's indexed dataset, with Megatron's numeric codes (DType in indexed_dataset.py).</summary>
public enum IndexedDType : byte
{
    UInt8 = 1,
    Int8 = 2,
    Int16 = 3,
    Int32 = 4,
    Int64 = 5,
    Float64 = 6,
    Float32 = 7,
    UInt16 = 8,
}

public static class IndexedDTypes
{
    /// <summary>Megatron's choice: uint16 when every id fits with margin (vocab below 65500), else int32.</summary>
    public static IndexedDType BestFitting(int vocabSize) => vocabSize < 65500 ? IndexedDType.UInt16 : IndexedDType.Int32;

    public static int Size(IndexedDType dtype) => dtype switch
    {
        IndexedDType.UInt8 or IndexedDType.Int8 => 1,
        IndexedDType.Int16 or IndexedDType.UInt16 => 2,
        IndexedDType.Int32 or IndexedDType.Float32 => 4,
        IndexedDType.Int64 or IndexedDType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    public static bool IsKnownCode(byte code) => code is >= 1 and <= 8;

    /// <summary>Token ids are integers; float element types exist in the format but cannot hold tokens here.</summary>
    public static bool IsInteger(IndexedDType dtype) => dtype is not (IndexedDType.Float32 or IndexedDType.Float64);
}
