namespace Flame.Tracing.Parquet;

/// <summary>
/// Parquet's RLE/bit-packing hybrid for repetition and definition levels, the two shapes a fixed-length
/// list column needs: one value repeated (an RLE run) and a 0,1,1,...,1 pattern per row (bit-packed, width 1).
/// </summary>
public static class RleLevels
{
    /// <summary>One RLE run of <paramref name="count"/> copies of <paramref name="value"/> (bit width ≤ 8).</summary>
    public static byte[] Constant(int value, int count)
    {
        using var buffer = new MemoryStream();
        WriteVarInt(buffer, (ulong)count << 1);
        buffer.WriteByte((byte)value);
        return buffer.ToArray();
    }

    /// <summary>Repetition levels of <paramref name="rows"/> lists of length <paramref name="listLength"/>: 0 then 1s.</summary>
    public static byte[] ListStarts(int rows, int listLength)
    {
        long values = (long)rows * listLength;
        long groups = (values + 7) / 8;
        using var buffer = new MemoryStream();
        WriteVarInt(buffer, (ulong)groups << 1 | 1);
        var packed = new byte[groups];
        for (long i = 0; i < values; i++)
            if (i % listLength != 0) packed[i >> 3] |= (byte)(1 << (int)(i & 7));
        buffer.Write(packed);
        return buffer.ToArray();
    }

    static void WriteVarInt(Stream s, ulong value)
    {
        while (value >= 0x80) { s.WriteByte((byte)(value | 0x80)); value >>= 7; }
        s.WriteByte((byte)value);
    }
}
