namespace Flame.Tracing.Parquet;

/// <summary>Raw Snappy block decompression (Parquet's SNAPPY codec, pyarrow's default).</summary>
public static class SnappyDecoder
{
    public static byte[] Decode(ReadOnlySpan<byte> input)
    {
        int pos = 0;
        ulong length = 0;
        for (int shift = 0; ; shift += 7)
        {
            if (pos >= input.Length || shift > 35) throw new InvalidDataException("snappy: bad length header");
            byte b = input[pos++];
            length |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) break;
        }
        var output = new byte[checked((int)length)];
        int outPos = 0;
        while (pos < input.Length)
        {
            byte tag = input[pos++];
            int len, offset;
            switch (tag & 3)
            {
                case 0:
                    len = tag >> 2;
                    if (len >= 60)
                    {
                        int extra = len - 59;
                        len = 0;
                        for (int i = 0; i < extra; i++) len |= input[pos++] << (8 * i);
                    }
                    len += 1;
                    if (pos + len > input.Length || outPos + len > output.Length) throw new InvalidDataException("snappy: literal runs past the end");
                    input.Slice(pos, len).CopyTo(output.AsSpan(outPos));
                    pos += len; outPos += len;
                    continue;
                case 1:
                    len = 4 + ((tag >> 2) & 7);
                    offset = (tag >> 5) << 8 | input[pos++];
                    break;
                case 2:
                    len = (tag >> 2) + 1;
                    offset = input[pos] | input[pos + 1] << 8;
                    pos += 2;
                    break;
                default:
                    len = (tag >> 2) + 1;
                    offset = input[pos] | input[pos + 1] << 8 | input[pos + 2] << 16 | input[pos + 3] << 24;
                    pos += 4;
                    break;
            }
            if (offset <= 0 || offset > outPos || outPos + len > output.Length) throw new InvalidDataException("snappy: bad copy");
            if (offset >= len) output.AsSpan(outPos - offset, len).CopyTo(output.AsSpan(outPos));
            else for (int i = 0; i < len; i++) output[outPos + i] = output[outPos - offset + i];
            outPos += len;
        }
        if (outPos != output.Length) throw new InvalidDataException("snappy: output shorter than its header says");
        return output;
    }
}
