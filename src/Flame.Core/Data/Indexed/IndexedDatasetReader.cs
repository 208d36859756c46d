using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace Flame.Data.Indexed;

/// <summary>
/// Reads a Megatron-LM indexed dataset (PREFIX.idx + PREFIX.bin) through memory maps. Opening checks
/// the header and that every size and pointer agrees with the .bin, so a damaged or mismatched pair
/// fails with a message naming the file instead of returning garbage later.
/// </summary>
public sealed unsafe class IndexedDatasetReader : IDisposable
{
    readonly MappedFile _idx;
    readonly MappedFile? _bin;
    readonly byte* _lengths;
    readonly byte* _pointers;
    readonly byte* _documents;
    readonly int _itemSize;

    public string Prefix { get; }
    public IndexedDType DType { get; }
    public long SequenceCount { get; }
    /// <summary>Documents, i.e. entries of Megatron's document_indices minus the leading 0.</summary>
    public long DocumentCount { get; }
    public long TokenCount { get; }

    IndexedDatasetReader(string prefix)
    {
        Prefix = prefix;
        var idxPath = IndexedDatasetFormat.IndexPath(prefix);
        var binPath = IndexedDatasetFormat.DataPath(prefix);
        if (!File.Exists(idxPath)) throw new UserError($"{idxPath}: no such index file (expected PREFIX.idx beside PREFIX.bin)");
        if (!File.Exists(binPath)) throw new UserError($"{binPath}: no such data file (expected PREFIX.bin beside PREFIX.idx)");
        _idx = MappedFile.Open(idxPath);
        try
        {
            byte* p = _idx.Pointer;
            long size = _idx.Length;
            if (size < IndexedDatasetFormat.HeaderSize) Fail(idxPath, $"{size} bytes is shorter than the {IndexedDatasetFormat.HeaderSize}-byte header");
            if (!new ReadOnlySpan<byte>(p, 9).SequenceEqual(IndexedDatasetFormat.Magic)) Fail(idxPath, "not a Megatron MMIDIDX index (bad magic)");
            ulong version = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p + 9, 8));
            if (version != IndexedDatasetFormat.Version) Fail(idxPath, $"index version {version}, only version 1 is known");
            byte code = p[17];
            if (!IndexedDTypes.IsKnownCode(code)) Fail(idxPath, $"unknown dtype code {code}");
            DType = (IndexedDType)code;
            if (!IndexedDTypes.IsInteger(DType)) Fail(idxPath, $"dtype {DType} cannot hold token ids");
            _itemSize = IndexedDTypes.Size(DType);
            ulong sequences = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p + 18, 8));
            ulong documents = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(p + 26, 8));
            ulong body = (ulong)(size - IndexedDatasetFormat.HeaderSize);
            // Divide before multiplying so huge counts from a damaged header cannot overflow.
            if (sequences > body / 12 || documents > body / 8) Fail(idxPath, $"header claims {sequences} sequences and {documents} document indices, more than the file's {size} bytes hold");
            ulong expected = sequences * 12 + documents * 8;
            // Multimodal Megatron datasets append one int8 mode per sequence.
            if (body != expected && body != expected + sequences)
                Fail(idxPath, $"file is {size} bytes but its header ({sequences} sequences, {documents} document indices) implies {expected + IndexedDatasetFormat.HeaderSize}");
            if (documents < 1) Fail(idxPath, "document indices are empty (Megatron always writes a leading 0)");
            SequenceCount = (long)sequences;
            DocumentCount = (long)documents - 1;
            _lengths = p + IndexedDatasetFormat.HeaderSize;
            _pointers = _lengths + 4 * SequenceCount;
            _documents = _pointers + 8 * SequenceCount;

            long binLength = new FileInfo(binPath).Length;
            TokenCount = CheckSequences(idxPath, binPath, binLength);
            CheckDocuments(idxPath);
            _bin = binLength > 0 ? MappedFile.Open(binPath) : null;
        }
        catch
        {
            _idx.Dispose();
            throw;
        }
    }

    public static IndexedDatasetReader Open(string prefix) => new(IndexedDatasetFormat.NormalizePrefix(prefix));

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    static void Fail(string path, string what) => throw new UserError($"{path}: {what}");

    long CheckSequences(string idxPath, string binPath, long binLength)
    {
        long next = 0, tokens = 0;
        for (long i = 0; i < SequenceCount; i++)
        {
            int length = SequenceLength(i);
            long pointer = SequencePointer(i);
            if (length < 0) Fail(idxPath, $"sequence {i} has negative length {length}");
            if (pointer != next) Fail(idxPath, $"sequence {i} starts at byte {pointer}, expected {next} after the previous sequences");
            next += (long)length * _itemSize;
            tokens += length;
            if (next > binLength) Fail(binPath, $"{binLength} bytes, but the index needs {next} bytes by sequence {i} (truncated .bin or mismatched .idx)");
        }
        if (next != binLength) Fail(binPath, $"{binLength} bytes, but the index describes {next} bytes of {DType} tokens (mismatched .idx)");
        return tokens;
    }

    void CheckDocuments(string idxPath)
    {
        if (DocumentIndex(0) != 0) Fail(idxPath, $"document indices must start at 0, found {DocumentIndex(0)}");
        for (long k = 1; k <= DocumentCount; k++)
            if (DocumentIndex(k) < DocumentIndex(k - 1)) Fail(idxPath, $"document index {k} goes backwards");
        if (DocumentIndex(DocumentCount) != SequenceCount) Fail(idxPath, $"document indices end at {DocumentIndex(DocumentCount)}, not at the {SequenceCount} sequences");
    }

    public int SequenceLength(long i) => BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(_lengths + 4 * Checked(i), 4));
    public long SequencePointer(long i) => BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(_pointers + 8 * Checked(i), 8));

    /// <summary>Megatron's document_indices[k]: document k spans sequences [index(k), index(k+1)).</summary>
    public long DocumentIndex(long k)
    {
        if ((ulong)k > (ulong)DocumentCount) throw new ArgumentOutOfRangeException(nameof(k));
        return BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(_documents + 8 * k, 8));
    }

    long Checked(long i) => (ulong)i < (ulong)SequenceCount ? i : throw new ArgumentOutOfRangeException(nameof(i), i, $"sequence index out of range [0, {SequenceCount})");

    /// <summary>Copies tokens [offset, offset + destination.Length) of sequence i into destination.</summary>
    public void ReadTokens(long sequence, int offset, Span<int> destination)
    {
        int length = SequenceLength(sequence);
        if (offset < 0 || offset + destination.Length > length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"tokens [{offset}, {offset + destination.Length}) outside sequence {sequence} of length {length}");
        if (destination.Length == 0) return;
        byte* start = _bin!.Pointer + SequencePointer(sequence) + (long)offset * _itemSize;
        switch (DType)
        {
            case IndexedDType.UInt16:
                var u16 = new ReadOnlySpan<ushort>(start, destination.Length);
                for (int i = 0; i < u16.Length; i++) destination[i] = u16[i];
                break;
            case IndexedDType.Int32:
                new ReadOnlySpan<int>(start, destination.Length).CopyTo(destination);
                break;
            case IndexedDType.UInt8:
                for (int i = 0; i < destination.Length; i++) destination[i] = start[i];
                break;
            case IndexedDType.Int8:
                for (int i = 0; i < destination.Length; i++) destination[i] = (sbyte)start[i];
                break;
            case IndexedDType.Int16:
                var i16 = new ReadOnlySpan<short>(start, destination.Length);
                for (int i = 0; i < i16.Length; i++) destination[i] = i16[i];
                break;
            default:
                var i64 = new ReadOnlySpan<long>(start, destination.Length);
                for (int i = 0; i < i64.Length; i++)
                    destination[i] = i64[i] is >= 0 and <= int.MaxValue ? (int)i64[i] : throw BadId(sequence, offset + i, i64[i]);
                break;
        }
        if (DType is IndexedDType.Int32 or IndexedDType.Int16 or IndexedDType.Int8 && destination.IndexOfAnyInRange(int.MinValue, -1) is int negative and >= 0)
            throw BadId(sequence, offset + negative, destination[negative]);
    }

    UserError BadId(long sequence, long position, long id) => new(
        $"{IndexedDatasetFormat.DataPath(Prefix)}: sequence {sequence}, token {position} holds id {id}, which no vocabulary has (ids are 0..{int.MaxValue}); " +
        "the file is damaged or was not written as a token dataset; prepare it again with flame data prepare");

    public int[] GetSequence(long i)
    {
        var tokens = new int[SequenceLength(i)];
        ReadTokens(i, 0, tokens);
        return tokens;
    }

    public void Dispose()
    {
        _bin?.Dispose();
        _idx.Dispose();
    }
}
