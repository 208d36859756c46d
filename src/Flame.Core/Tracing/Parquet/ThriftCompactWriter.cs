using System.Text;

namespace Flame.Tracing.Parquet;

/// <summary>
/// The Thrift compact protocol, write side only, for Parquet's footer and page headers (parquet.thrift).
/// Field ids are written as deltas; nested structs remember their parent's last field id.
/// </summary>
public sealed class ThriftCompactWriter(Stream output)
{
    public const byte BoolTrue = 1, BoolFalse = 2, Byte = 3, I32 = 5, I64 = 6, Binary = 8, List = 9, Struct = 12;
    readonly Stack<short> _lastIds = new();
    short _lastId;

    public void FieldI32(short id, int value) { FieldHeader(id, I32); VarInt(ZigZag(value)); }
    public void FieldI64(short id, long value) { FieldHeader(id, I64); VarInt(ZigZag(value)); }
    public void FieldByte(short id, sbyte value) { FieldHeader(id, Byte); output.WriteByte((byte)value); }
    public void FieldBool(short id, bool value) => FieldHeader(id, value ? BoolTrue : BoolFalse);

    public void FieldString(short id, string value)
    {
        FieldHeader(id, Binary);
        var bytes = Encoding.UTF8.GetBytes(value);
        VarInt((ulong)bytes.Length);
        output.Write(bytes);
    }

    public void BeginStruct(short id) { FieldHeader(id, Struct); _lastIds.Push(_lastId); _lastId = 0; }
    public void EndStruct() { output.WriteByte(0); _lastId = _lastIds.Pop(); }

    /// <summary>A struct that is an element of a list: no field header.</summary>
    public void BeginListStruct() { _lastIds.Push(_lastId); _lastId = 0; }

    public void FieldListBegin(short id, byte elementType, int count)
    {
        FieldHeader(id, List);
        if (count < 15) output.WriteByte((byte)(count << 4 | elementType));
        else { output.WriteByte((byte)(0xF0 | elementType)); VarInt((ulong)count); }
    }

    public void ListI32(int value) => VarInt(ZigZag(value));

    public void ListString(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        VarInt((ulong)bytes.Length);
        output.Write(bytes);
    }

    /// <summary>Ends the top-level struct.</summary>
    public void Stop() => output.WriteByte(0);

    void FieldHeader(short id, byte type)
    {
        int delta = id - _lastId;
        if (delta is > 0 and <= 15) output.WriteByte((byte)(delta << 4 | type));
        else { output.WriteByte(type); VarInt(ZigZag(id)); }
        _lastId = id;
    }

    static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    void VarInt(ulong value)
    {
        while (value >= 0x80) { output.WriteByte((byte)(value | 0x80)); value >>= 7; }
        output.WriteByte((byte)value);
    }
}
