using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop;

/// <summary>
/// A safetensors file opened for reading through a memory map: 8-byte little-endian header length, the
/// JSON header (checked by <see cref="SafetensorsHeader"/>), then raw little-endian tensor data. Tensors are
/// copied out of the map one at a time, so a file larger than memory reads tensor by tensor.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    readonly MemoryMappedFile? _map;
    readonly MemoryMappedViewAccessor? _view;
    readonly byte* _data;
    readonly Dictionary<string, SafetensorsEntry> _byName;
    bool _disposed;

    public string Path { get; }
    public SafetensorsHeader Header { get; }
    public IReadOnlyCollection<string> Names => _byName.Keys;
    public IReadOnlyDictionary<string, string> Metadata => Header.Metadata;

    SafetensorsFile(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new UserError($"{path}: no such safetensors file");
        long length = new FileInfo(path).Length;
        if (length < 8) throw new UserError($"{path}: {length} bytes is too short for a safetensors file (8-byte header length first)");
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* start = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        start += _view.PointerOffset;
        try
        {
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(new ReadOnlySpan<byte>(start, 8));
            if (headerLength > (ulong)(length - 8))
                throw new UserError($"{path}: header length {headerLength} overruns the file ({length} bytes)");
            if (headerLength > SafetensorsHeader.MaxHeaderBytes)
                throw new UserError($"{path}: header length {headerLength} exceeds the format's {SafetensorsHeader.MaxHeaderBytes}-byte limit");
            long dataLength = length - 8 - (long)headerLength;
            Header = SafetensorsHeader.Parse(new ReadOnlySpan<byte>(start + 8, (int)headerLength), dataLength, path);
            _data = start + 8 + (long)headerLength;
            _byName = Header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static SafetensorsFile Open(string path) => new(path);

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _byName.TryGetValue(name, out var entry) ? entry : throw new UserError($"{Path}: no tensor '{name}'");

    /// <summary>A new CPU tensor holding a copy of the named tensor's data.</summary>
    public Tensor Read(string name)
    {
        var entry = Entry(name);
        var tensor = empty(entry.Shape, entry.DType);
        TensorBytes.CopyFrom(_data + entry.Begin, tensor);
        return tensor;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
