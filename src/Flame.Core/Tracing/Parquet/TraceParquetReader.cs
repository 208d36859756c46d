using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Flame.Tracing.Parquet;

/// <summary>
/// A small Parquet reader for trace files, whoever wrote them (this platform, pyarrow, the published
/// FLAME-MoE traces): schema, row groups, and one column chunk at a time with only the pages of that
/// column read from disk. Handles v1 and v2 data pages, dictionary pages, PLAIN, PLAIN_DICTIONARY /
/// RLE_DICTIONARY and BYTE_STREAM_SPLIT values, RLE levels, and UNCOMPRESSED, SNAPPY, GZIP, BROTLI and
/// ZSTD pages; int32/int64 and float16/float/double values. Parquet.Net 6.1 cannot open a file with a
/// float16 column at all, which is what the published traces have.
/// Anything it cannot read throws <see cref="InvalidDataException"/> with the reason.
/// </summary>
public sealed class TraceParquetReader : IDisposable
{
    readonly FileStream _file;
    ZstdSharp.Decompressor? _zstd; // one decompression context for all of this file's pages
    readonly List<ThriftCompactReader.Struct> _rowGroups;
    public string Path { get; }
    public long Rows { get; }
    public IReadOnlyList<ParquetLeafColumn> Leaves { get; }
    public int RowGroupCount => _rowGroups.Count;

    TraceParquetReader(string path)
    {
        Path = path;
        _file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            if (_file.Length < 12) throw new InvalidDataException("not a Parquet file (too short)");
            Span<byte> tail = stackalloc byte[8];
            _file.Position = _file.Length - 8;
            _file.ReadExactly(tail);
            if (!tail[4..].SequenceEqual("PAR1"u8)) throw new InvalidDataException("not a Parquet file (no PAR1 footer)");
            int footerLength = BinaryPrimitives.ReadInt32LittleEndian(tail);
            if (footerLength <= 0 || footerLength > _file.Length - 12) throw new InvalidDataException("not a Parquet file (bad footer length)");
            _file.Position = _file.Length - 8 - footerLength;
            var footer = new byte[footerLength];
            _file.ReadExactly(footer);
            var meta = new ThriftCompactReader(new MemoryStream(footer)).ReadStruct();
            Rows = meta.Long(3);
            _rowGroups = meta.List(4).Cast<ThriftCompactReader.Struct>().ToList();
            Leaves = ParseSchema(meta.List(2).Cast<ThriftCompactReader.Struct>().ToList());
        }
        catch
        {
            _file.Dispose();
            throw;
        }
    }

    /// <summary>Opens a file; a file that is not readable Parquet throws <see cref="InvalidDataException"/>.</summary>
    public static TraceParquetReader Open(string path)
    {
        try { return new TraceParquetReader(path); }
        catch (Exception e) when (e is EndOfStreamException or InvalidCastException or KeyNotFoundException or OverflowException)
        {
            throw new InvalidDataException($"not a readable Parquet file ({e.Message})");
        }
    }

    public long RowGroupRows(int group) => _rowGroups[group].Long(3);

    /// <summary>The leaf under a top-level field name (a list's element, or a plain column), or null.</summary>
    public ParquetLeafColumn? Column(string name) => Leaves.FirstOrDefault(l => l.Top == name);

    public string DescribeColumns() => string.Join(", ", Leaves.Select(l => $"{l.Top}: {l.Describe()}"));

    static List<ParquetLeafColumn> ParseSchema(List<ThriftCompactReader.Struct> elements)
    {
        var leaves = new List<ParquetLeafColumn>();
        int index = 1;
        void Walk(List<string> path, int rep, int def, int children)
        {
            for (int c = 0; c < children; c++)
            {
                if (index >= elements.Count) throw new InvalidDataException("schema ends early");
                var e = elements[index++];
                int repetition = e.Int(3, 0);
                int r = rep + (repetition == 2 ? 1 : 0), d = def + (repetition is 1 or 2 ? 1 : 0);
                var name = e.String(4) ?? "";
                var p = new List<string>(path) { name };
                if (e.Has(5) && e.Int(5) > 0) { Walk(p, r, d, e.Int(5)); continue; }
                bool float16 = e.Child(10)?.Has(15) == true;
                int bits = e.Child(10)?.Child(10)?.Int(1) ?? e.Int(6, -1) switch { 15 or 11 => 8, 16 or 12 => 16, _ => 0 };
                leaves.Add(new ParquetLeafColumn(p.ToArray(), e.Int(1, -1), e.Int(2, 0), r, d, float16, leaves.Count, bits));
            }
        }
        if (elements.Count == 0) throw new InvalidDataException("empty schema");
        Walk([], 0, 0, elements[0].Int(5, 0));
        return leaves;
    }

    /// <summary>
    /// Reads one column chunk of one row group. Passing the previous result as <paramref name="reuse"/>
    /// recycles its arrays (arrays may then be longer than <see cref="ParquetColumnValues.Entries"/>).
    /// </summary>
    public ParquetColumnValues Read(int group, ParquetLeafColumn leaf, ParquetColumnValues? reuse = null)
    {
        try { return ReadChunk(group, leaf, reuse); }
        catch (Exception e) when (e is EndOfStreamException or InvalidCastException or KeyNotFoundException or OverflowException
                                   or IndexOutOfRangeException or ArgumentOutOfRangeException or ArgumentException or ZstdSharp.ZstdException)
        {
            throw new InvalidDataException($"column {leaf.Top}, row group {group}: corrupt data ({e.Message})");
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    ParquetColumnValues ReadChunk(int group, ParquetLeafColumn leaf, ParquetColumnValues? reuse)
    {
        var chunks = _rowGroups[group].List(1);
        if (leaf.Index >= chunks.Count) throw new InvalidDataException($"row group {group} lacks column {leaf.Top}");
        var meta = ((ThriftCompactReader.Struct)chunks[leaf.Index]).Child(3)
            ?? throw new InvalidDataException($"column {leaf.Top} has no metadata in row group {group}");
        int codec = meta.Int(4);
        long entries = meta.Long(5);
        long start = meta.Long(9);
        if (meta.Has(11) && meta.Long(11) > 0 && meta.Long(11) < start) start = meta.Long(11);
        long end = start + meta.Long(7);
        if (entries > int.MaxValue / 2) throw new InvalidDataException($"column {leaf.Top}: {entries} values in one row group is too many");

        int n = (int)entries;
        static T[] Buffer<T>(T[]? old, int n)
        {
            if (old is not null && old.Length >= n) return old;
            if (old is not null) ArrayPool<T>.Shared.Return(old);
            return ArrayPool<T>.Shared.Rent(n);
        }
        var rep = leaf.MaxRepetition > 0 ? Buffer(reuse?.Repetition, n) : null;
        var def = leaf.MaxDefinition > 0 ? Buffer(reuse?.Definition, n) : null;
        var ints = leaf.IsInteger ? Buffer(reuse?.Ints, n) : null;
        var floats = leaf.IsFloat ? Buffer(reuse?.Floats, n) : null;
        if (ints is null && floats is null) throw new InvalidDataException($"column {leaf.Top} is {leaf.Describe()}, not numbers");
        int done = 0, defined = 0;
        object? dictionary = null;
        _file.Position = start;
        while (done < n)
        {
            if (_file.Position >= end) throw new InvalidDataException($"column {leaf.Top}: pages hold fewer values than its metadata says");
            var header = new ThriftCompactReader(_file).ReadStruct();
            int type = header.Int(1), uncompressed = header.Int(2), compressed = header.Int(3);
            if (compressed < 0 || uncompressed < 0) throw new InvalidDataException("negative page size");
            var rawBuffer = ArrayPool<byte>.Shared.Rent(compressed);
            byte[]? bodyBuffer = null;
            try
            {
            var raw = rawBuffer.AsSpan(0, compressed);
            _file.ReadExactly(raw);
            if (type == 2)
            {
                var body = Decompress(codec, raw, uncompressed, ref bodyBuffer);
                int count = header.Child(7)?.Int(1) ?? 0;
                if (ints is not null) { var dictionaryValues = new int[count]; DecodePlainInts(leaf, body, dictionaryValues); dictionary = dictionaryValues; }
                else { var dictionaryValues = new float[count]; DecodePlainFloats(leaf, body, dictionaryValues); dictionary = dictionaryValues; }
                continue;
            }
            if (type is not (0 or 3)) continue;                       // index pages: nothing for us
            ReadOnlySpan<byte> values;
            int pageEntries, encoding;
            if (type == 0)
            {
                var h = header.Child(5) ?? throw new InvalidDataException("data page without its header");
                pageEntries = h.Int(1); encoding = h.Int(2);
                var levelsAndValues = Decompress(codec, raw, uncompressed, ref bodyBuffer);
                int pos = 0;
                if (done + pageEntries > n) throw new InvalidDataException($"column {leaf.Top}: more values in pages than in metadata");
                if (rep is not null) pos += DecodeLevelsV1(levelsAndValues[pos..], leaf.MaxRepetition, rep.AsSpan(done, pageEntries));
                if (def is not null) pos += DecodeLevelsV1(levelsAndValues[pos..], leaf.MaxDefinition, def.AsSpan(done, pageEntries));
                values = levelsAndValues[pos..];
            }
            else
            {
                var h = header.Child(8) ?? throw new InvalidDataException("data page v2 without its header");
                pageEntries = h.Int(1); encoding = h.Int(4);
                int defLength = h.Int(5), repLength = h.Int(6);
                bool isCompressed = h.Bool(7, true);
                if (done + pageEntries > n) throw new InvalidDataException($"column {leaf.Top}: more values in pages than in metadata");
                if (repLength < 0 || defLength < 0 || repLength + defLength > compressed) throw new InvalidDataException("bad level lengths");
                if (rep is not null) RleHybridDecoder.Decode(raw.Slice(0, repLength), RleHybridDecoder.BitWidth(leaf.MaxRepetition), rep.AsSpan(done, pageEntries));
                if (def is not null) RleHybridDecoder.Decode(raw.Slice(repLength, defLength), RleHybridDecoder.BitWidth(leaf.MaxDefinition), def.AsSpan(done, pageEntries));
                var rest = raw[(repLength + defLength)..];
                values = isCompressed ? Decompress(codec, rest, uncompressed - repLength - defLength, ref bodyBuffer) : rest;
            }
            int present = pageEntries;
            if (def is not null)
            {
                present = 0;
                foreach (var d in def.AsSpan(done, pageEntries)) if (d == leaf.MaxDefinition) present++;
            }
            DecodeValues(leaf, encoding, values, present, dictionary, ints, floats, defined);
            defined += present;
            done += pageEntries;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rawBuffer);
                if (bodyBuffer is not null) ArrayPool<byte>.Shared.Return(bodyBuffer);
            }
        }
        return new ParquetColumnValues
        {
            Ints = ints, Floats = floats, DefinedCount = defined, Repetition = rep, Definition = def, Entries = n,
        };
    }

    static int DecodeLevelsV1(ReadOnlySpan<byte> data, int maxLevel, Span<int> output)
    {
        int length = BinaryPrimitives.ReadInt32LittleEndian(data);
        if (length < 0 || length > data.Length - 4) throw new InvalidDataException("bad level data length");
        RleHybridDecoder.Decode(data.Slice(4, length), RleHybridDecoder.BitWidth(maxLevel), output);
        return 4 + length;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    static void DecodeValues(ParquetLeafColumn leaf, int encoding, ReadOnlySpan<byte> data, int count, object? dictionary,
        int[]? ints, float[]? floats, int offset)
    {
        switch (encoding)
        {
            case 0:
                // Straight into the column's arrays: no per-page array (the reader streams many pages).
                if (ints is not null) DecodePlainInts(leaf, data, ints.AsSpan(offset, count));
                else DecodePlainFloats(leaf, data, floats.AsSpan(offset, count));
                return;
            case 2 or 8:
                if (dictionary is null) throw new InvalidDataException("dictionary-encoded page without a dictionary page");
                if (count == 0) return;
                if (dictionary is int[] di)
                {
                    // The keys land where the values go, then each is replaced by its entry.
                    var target = ints.AsSpan(offset, count);
                    RleHybridDecoder.Decode(data[1..], data[0], target);
                    for (int i = 0; i < target.Length; i++)
                        target[i] = (uint)target[i] < (uint)di.Length ? di[target[i]] : throw new InvalidDataException($"dictionary key {target[i]} beyond its {di.Length} entries");
                }
                else
                {
                    var df = (float[])dictionary;
                    var keys = ArrayPool<int>.Shared.Rent(count);
                    try
                    {
                        RleHybridDecoder.Decode(data[1..], data[0], keys.AsSpan(0, count));
                        for (int i = 0; i < count; i++) floats![offset + i] = df[keys[i]];
                    }
                    finally { ArrayPool<int>.Shared.Return(keys); }
                }
                return;
            case 9:
                int width = ValueWidth(leaf);
                if (data.Length < width * count) throw new InvalidDataException("byte-stream-split page too short");
                var joined = ArrayPool<byte>.Shared.Rent(width * count);
                try
                {
                    for (int i = 0; i < count; i++)
                        for (int b = 0; b < width; b++) joined[i * width + b] = data[b * count + i];
                    DecodeValues(leaf, 0, joined.AsSpan(0, width * count), count, null, ints, floats, offset);
                }
                finally { ArrayPool<byte>.Shared.Return(joined); }
                return;
            default:
                throw new InvalidDataException($"column {leaf.Top}: value encoding {encoding} is not supported (PLAIN, dictionary and BYTE_STREAM_SPLIT are)");
        }
    }

    static int ValueWidth(ParquetLeafColumn leaf) => leaf.PhysicalType switch { 1 or 4 => 4, 2 or 5 => 8, 7 => leaf.TypeLength, _ => 0 };

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    static void DecodePlainInts(ParquetLeafColumn leaf, ReadOnlySpan<byte> data, Span<int> result)
    {
        int count = result.Length;
        if (leaf.PhysicalType == 1)
        {
            if (data.Length < 4 * count) throw new InvalidDataException("int32 page too short");
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(data[..(4 * count)]).CopyTo(result);
        }
        else
        {
            if (data.Length < 8 * count) throw new InvalidDataException("int64 page too short");
            var longs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, long>(data[..(8 * count)]);
            for (int i = 0; i < count; i++) result[i] = checked((int)longs[i]);
        }
    }

    static void DecodePlainFloats(ParquetLeafColumn leaf, ReadOnlySpan<byte> data, Span<float> result)
    {
        int count = result.Length;
        int width = ValueWidth(leaf);
        if (data.Length < width * count) throw new InvalidDataException($"{leaf.Describe()} page too short");
        for (int i = 0; i < count; i++)
            result[i] = width switch
            {
                2 => (float)BinaryPrimitives.ReadHalfLittleEndian(data.Slice(2 * i)),
                4 => BinaryPrimitives.ReadSingleLittleEndian(data.Slice(4 * i)),
                _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(data.Slice(8 * i)),
            };
    }

    /// <summary>The page body: the raw bytes themselves, or decompressed into a pooled buffer (returned by the caller).</summary>
    ReadOnlySpan<byte> Decompress(int codec, ReadOnlySpan<byte> raw, int uncompressed, scoped ref byte[]? pooled)
    {
        if (codec == 0) return raw;
        if (codec == 1) return SnappyDecoder.Decode(raw);
        if (pooled is not null) ArrayPool<byte>.Shared.Return(pooled);
        pooled = ArrayPool<byte>.Shared.Rent(Math.Max(1, uncompressed));
        var output = pooled.AsSpan(0, uncompressed);
        switch (codec)
        {
            case 2:
            {
                using var gzip = new GZipStream(new MemoryStream(raw.ToArray()), CompressionMode.Decompress);
                gzip.ReadExactly(output);
                return output;
            }
            case 4:
                if (!BrotliDecoder.TryDecompress(raw, output, out int written) || written != uncompressed)
                    throw new InvalidDataException("brotli page does not decompress");
                return output;
            case 6:
            {
                _zstd ??= new ZstdSharp.Decompressor();
                if (_zstd.Unwrap(raw, output) != uncompressed) throw new InvalidDataException("zstd page decompresses to the wrong size");
                return output;
            }
            default:
                throw new InvalidDataException($"compression codec {codec} is not supported (uncompressed, snappy, gzip, brotli and zstd are)");
        }
    }

    public void Dispose()
    {
        _file.Dispose();
        _zstd?.Dispose();
    }
}
