using System.Text;

namespace Flame.Tracing.Parquet;

/// <summary>
/// Reads Thrift compact-protocol structs (Parquet's footer and page headers) into a generic tree:
/// a struct is a field-id → value map, lists are lists, integers are long, binary is byte[].
/// Unknown fields are kept rather than interpreted, so any writer's extensions pass through.
/// </summary>
public sealed class ThriftCompactReader(Stream input)
{
    public sealed class Struct : Dictionary<short, object>
    {
        public long Long(short id, long fallback = 0) => TryGetValue(id, out var v) ? Convert.ToInt64(v) : fallback;
        public int Int(short id, int fallback = 0) => (int)Long(id, fallback);
        public bool Has(short id) => ContainsKey(id);
        public string? String(short id) => TryGetValue(id, out var v) ? Encoding.UTF8.GetString((byte[])v) : null;
        public Struct? Child(short id) => TryGetValue(id, out var v) ? (Struct)v : null;
        public IReadOnlyList<object> List(short id) => TryGetValue(id, out var v) ? (List<object>)v : [];
        public bool Bool(short id, bool fallback) => TryGetValue(id, out var v) ? (bool)v : fallback;
    }

    public Struct ReadStruct(int depth = 0)
    {
        if (depth > 64) throw new InvalidDataException("Thrift structure nested too deeply");
        var result = new Struct();
        short lastId = 0;
        while (true)
        {
            int header = ReadByte();
            if (header == 0) return result;
            int type = header & 0x0F;
            int delta = header >> 4;
            short id = delta != 0 ? (short)(lastId + delta) : (short)ZigZag(ReadVarInt());
            lastId = id;
            result[id] = ReadValue(type, depth);
        }
    }

    object ReadValue(int type, int depth) => type switch
    {
        1 => true,
        2 => false,
        3 => (long)(sbyte)ReadByte(),
        4 or 5 or 6 => ZigZag(ReadVarInt()),
        7 => BitConverter.ToDouble(ReadBytes(8)),
        8 => ReadBytes(checked((int)ReadVarInt())),
        9 or 10 => ReadList(depth),
        11 => throw new InvalidDataException("Thrift maps do not occur in Parquet metadata"),
        12 => ReadStruct(depth + 1),
        _ => throw new InvalidDataException($"unknown Thrift type {type}"),
    };

    List<object> ReadList(int depth)
    {
        int header = ReadByte();
        int elementType = header & 0x0F;
        long count = header >> 4;
        if (count == 15) count = (long)ReadVarInt();
        if (count > 10_000_000) throw new InvalidDataException($"Thrift list of {count} elements");
        var list = new List<object>((int)count);
        for (long i = 0; i < count; i++)
            list.Add(elementType is 1 or 2 ? ReadByte() == 1 : ReadValue(elementType, depth));
        return list;
    }

    int ReadByte()
    {
        int b = input.ReadByte();
        if (b < 0) throw new EndOfStreamException("Thrift structure ends early");
        return b;
    }

    byte[] ReadBytes(int count)
    {
        var bytes = new byte[count];
        input.ReadExactly(bytes);
        return bytes;
    }

    ulong ReadVarInt()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            int b = ReadByte();
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return value;
        }
        throw new InvalidDataException("Thrift varint too long");
    }

    static long ZigZag(ulong n) => (long)(n >> 1) ^ -(long)(n & 1);
}
