namespace Flame.Tracing.Parquet;

/// <summary>Parquet's RLE/bit-packing hybrid decoding (levels and dictionary indices).</summary>
public static class RleHybridDecoder
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Decode(ReadOnlySpan<byte> data, int bitWidth, Span<int> output)
    {
        if (bitWidth == 0) { output.Clear(); return; }
        if (bitWidth > 32) throw new InvalidDataException($"bit width {bitWidth} is not valid for levels or dictionary indices");
        int pos = 0, i = 0, byteWidth = (bitWidth + 7) / 8;
        uint mask = bitWidth == 32 ? uint.MaxValue : (1u << bitWidth) - 1;
        while (i < output.Length)
        {
            ulong header = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (pos >= data.Length) throw new InvalidDataException("RLE data ends early");
                byte b = data[pos++];
                header |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) break;
                if (shift > 56) throw new InvalidDataException("RLE run header too long");
            }
            if ((header & 1) == 0)
            {
                long run = (long)(header >> 1);
                if (pos + byteWidth > data.Length) throw new InvalidDataException("RLE data ends early");
                int value = 0;
                for (int b = 0; b < byteWidth; b++) value |= data[pos++] << (8 * b);
                int take = (int)Math.Min(run, output.Length - i);
                // Level runs are often a handful long (a top-k list's 0, 1, 1, ...): a plain loop beats Fill's setup there.
                if (take <= 16) for (int v = 0; v < take; v++) output[i + v] = value;
                else output.Slice(i, take).Fill(value);
                i += take;
            }
            else
            {
                long values = (long)(header >> 1) * 8;
                long bytes = (long)(header >> 1) * bitWidth;
                if (pos + bytes > data.Length) bytes = data.Length - pos;    // a last group may be cut short
                int take = (int)Math.Min(values, output.Length - i);
                var packed = data.Slice(pos, (int)bytes);
                ulong buffer = 0;
                int bits = 0, p = 0;
                for (int v = 0; v < take; v++)
                {
                    while (bits < bitWidth)
                    {
                        buffer |= (ulong)(p < packed.Length ? packed[p] : 0) << bits;
                        p++; bits += 8;
                    }
                    output[i + v] = (int)(buffer & mask);
                    buffer >>= bitWidth; bits -= bitWidth;
                }
                i += take;
                pos += (int)bytes;
            }
        }
    }

    public static int BitWidth(int maxValue) => maxValue == 0 ? 0 : 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)maxValue);
}
