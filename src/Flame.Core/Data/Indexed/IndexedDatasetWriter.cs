using System.Buffers.Binary;
using Flame.Output;

namespace Flame.Data.Indexed;

/// <summary>
/// Writes a Megatron-LM indexed dataset (PREFIX.bin + PREFIX.idx), one sequence per document as
/// Megatron's preprocess_data does. Both files are written under temporary names and renamed into place
/// only by <see cref="Complete"/>, so an interrupted write never leaves a dataset that looks valid.
/// </summary>
public sealed class IndexedDatasetWriter : IDisposable
{
    readonly string _prefix;
    readonly string _binTemp;
    readonly string _idxTemp;
    readonly FileStream _bin;
    readonly List<int> _lengths = [];
    readonly List<long> _documentIndices = [0];
    readonly byte[] _scratch = new byte[1 << 16];
    readonly long _maxId;
    bool _completed;

    public IndexedDType DType { get; }
    public long TokenCount { get; private set; }
    public int DocumentCount => _documentIndices.Count - 1;

    public IndexedDatasetWriter(string prefix, IndexedDType dtype)
    {
        if (dtype is not (IndexedDType.UInt16 or IndexedDType.Int32 or IndexedDType.Int64 or IndexedDType.UInt8))
            throw new UserError($"cannot write token ids as {dtype}; use uint16, int32, int64 or uint8");
        _prefix = prefix;
        DType = dtype;
        _maxId = dtype switch { IndexedDType.UInt8 => byte.MaxValue, IndexedDType.UInt16 => ushort.MaxValue, IndexedDType.Int32 => int.MaxValue, _ => long.MaxValue };
        OutputPaths.RequirePrefix(prefix, "PREFIX.bin and PREFIX.idx", IndexedDatasetFormat.DataPath(prefix), IndexedDatasetFormat.IndexPath(prefix));
        var folder = Path.GetDirectoryName(Path.GetFullPath(prefix))!;
        // Temporaries a killed preparation left (PREFIX.bin.tmp-PID-*) are removed once their process is gone.
        Output.TemporaryFiles.RemoveAbandoned(folder, Path.GetFileName(IndexedDatasetFormat.DataPath(prefix)));
        Output.TemporaryFiles.RemoveAbandoned(folder, Path.GetFileName(IndexedDatasetFormat.IndexPath(prefix)));
        var tag = $".tmp-{Environment.ProcessId}-{Guid.NewGuid():N}"[..20];
        _binTemp = IndexedDatasetFormat.DataPath(prefix) + tag;
        _idxTemp = IndexedDatasetFormat.IndexPath(prefix) + tag;
        _bin = new FileStream(_binTemp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
    }

    /// <summary>Appends one document (its tokens, end-of-document id included if wanted) as one sequence.</summary>
    public void AddDocument(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        int size = IndexedDTypes.Size(DType);
        int perChunk = _scratch.Length / size;
        for (int start = 0; start < tokens.Length; start += perChunk)
        {
            var chunk = tokens.Slice(start, Math.Min(perChunk, tokens.Length - start));
            for (int i = 0; i < chunk.Length; i++)
            {
                int id = chunk[i];
                if (id < 0 || id > _maxId) throw new UserError($"token id {id} does not fit the dataset's {DType} tokens");
                var slot = _scratch.AsSpan(i * size, size);
                switch (DType)
                {
                    case IndexedDType.UInt8: slot[0] = (byte)id; break;
                    case IndexedDType.UInt16: BinaryPrimitives.WriteUInt16LittleEndian(slot, (ushort)id); break;
                    case IndexedDType.Int32: BinaryPrimitives.WriteInt32LittleEndian(slot, id); break;
                    default: BinaryPrimitives.WriteInt64LittleEndian(slot, id); break;
                }
            }
            _bin.Write(_scratch, 0, chunk.Length * size);
        }
        _lengths.Add(tokens.Length);
        _documentIndices.Add(_lengths.Count);
        TokenCount += tokens.Length;
    }

    /// <summary>Writes the index and renames both files into place (any older PREFIX.idx is removed first).</summary>
    public void Complete()
    {
        ObjectDisposedException.ThrowIf(_completed, this);
        _bin.Flush(flushToDisk: true);
        _bin.Dispose();
        WriteIndex(_idxTemp);
        var idx = IndexedDatasetFormat.IndexPath(_prefix);
        // Without an index the old .bin is never mistaken for a dataset, whatever happens between the renames.
        File.Delete(idx);
        File.Move(_binTemp, IndexedDatasetFormat.DataPath(_prefix), overwrite: true);
        File.Move(_idxTemp, idx, overwrite: true);
        _completed = true;
    }

    void WriteIndex(string path)
    {
        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20);
        using var w = new BinaryWriter(stream);
        w.Write(IndexedDatasetFormat.Magic);
        w.Write(IndexedDatasetFormat.Version);
        w.Write((byte)DType);
        w.Write((ulong)_lengths.Count);
        w.Write((ulong)_documentIndices.Count);
        foreach (var length in _lengths) w.Write(length);
        long pointer = 0, size = IndexedDTypes.Size(DType);
        foreach (var length in _lengths) { w.Write(pointer); pointer += length * size; }
        foreach (var index in _documentIndices) w.Write(index);
        w.Flush();
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Disposing without <see cref="Complete"/> discards everything written.</summary>
    public void Dispose()
    {
        if (_completed) return;
        _completed = true;
        // On a full disk closing the stream fails too (its buffer cannot be flushed); the files go regardless.
        try { _bin.Dispose(); }
        catch (IOException) { }
        finally
        {
            File.Delete(_binTemp);
            File.Delete(_idxTemp);
        }
    }
}
