using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>One tensor's header record: dtype, shape and its byte range [Begin, End) within the data section.</summary>
public sealed record SafetensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End)
{
    public long ByteCount => End - Begin;
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}
