using System.IO.Compression;
using Razorvine.Pickle;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// A file written by torch.save (the zip format of PyTorch 1.6+, torch/serialization.py): PREFIX/data.pkl is the
/// pickled object, PREFIX/data/KEY each storage's raw little-endian bytes. <see cref="Root"/> is the object with
/// tensors as <see cref="TorchTensorRef"/>s; <see cref="Read"/> reads one.
/// Any damage (not a zip, truncated pickle, missing storage) is a <see cref="UserError"/> naming
/// <see cref="Source"/>.
/// </summary>
public sealed class TorchArchive : IDisposable
{
    readonly ZipArchive _zip;
    readonly string _prefix;

    public string Source { get; }
    public object? Root { get; }

    TorchArchive(Stream stream, string source)
    {
        Source = source;
        try
        {
            _zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
        }
        catch (InvalidDataException)
        {
            stream.Dispose();
            throw new UserError($"{source}: not a torch.save file (no zip archive; files from PyTorch before 1.6 are not supported)");
        }
        var pickle = _zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') <= 1);
        if (pickle is null)
        {
            _zip.Dispose();
            throw new UserError($"{source}: a zip archive without data.pkl (not a torch.save file)");
        }
        _prefix = pickle.FullName[..^"data.pkl".Length];
        try
        {
            Root = TorchPickle.Load(ReadAll(pickle), (key, dtype, elements) => new TorchStorageRef(key, dtype, elements));
        }
        catch (Exception e) when (e is PickleException or EndOfStreamException or InvalidCastException or InvalidDataException
                                      or IndexOutOfRangeException or ArgumentOutOfRangeException or FormatException)
        {
            _zip.Dispose();
            throw new UserError($"{source}: damaged pickle in {pickle.FullName} ({FirstLine(e.Message)})");
        }
    }

    public static TorchArchive Open(string path)
    {
        if (!File.Exists(path)) throw new UserError($"{path}: no such file");
        return new TorchArchive(File.OpenRead(path), path);
    }

    /// <summary>A torch.save blob inside a larger file (PyTorch Distributed Checkpoint's .distcp items).</summary>
    public static TorchArchive Open(byte[] bytes, string source) => new(new MemoryStream(bytes, writable: false), source);

    /// <summary>
    /// The tensor (a copy in its own dtype, contiguous, on the CPU). Only the bytes the view spans are read:
    /// torch.save stores entries uncompressed, and a Megatron parameter is often a view into a large buffer.
    /// </summary>
    public Tensor Read(TorchTensorRef tensor)
    {
        var reference = tensor.Storage;
        var name = _prefix + "data/" + reference.Key;
        var entry = _zip.GetEntry(name) ?? throw new UserError($"{Source}: storage {name} is missing (truncated file?)");
        long size = ElementSize(reference.DType);
        if (entry.Length != reference.Elements * size)
            throw new UserError($"{Source}: storage {name} holds {entry.Length} bytes, its tensor needs {reference.Elements * size} (truncated file?)");
        long span = tensor.Elements == 0 ? 0 : tensor.Shape.Zip(tensor.Stride, (n, s) => (n - 1) * s).Sum() + 1;
        if (tensor.Offset < 0 || tensor.Stride.Any(s => s < 0) || tensor.Offset + span > reference.Elements)
            throw new UserError($"{Source}: a tensor view reaches outside its storage {name}");
        using var window = empty(span, reference.DType);
        try
        {
            using var stream = entry.Open();
            Skip(stream, tensor.Offset * size);
            TensorBytes.CopyFrom(stream, window);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new UserError($"{Source}: storage {name} cannot be read ({e.Message})");
        }
        using var view = window.as_strided(tensor.Shape, tensor.Stride, 0);
        using var packed = view.contiguous();
        return packed.clone();
    }

    static void Skip(Stream stream, long bytes)
    {
        if (bytes == 0) return;
        if (stream.CanSeek)
        {
            stream.Seek(bytes, SeekOrigin.Current);
            return;
        }
        var buffer = new byte[1 << 20];
        while (bytes > 0)
        {
            int read = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, bytes));
            if (read == 0) throw new EndOfStreamException();
            bytes -= read;
        }
    }

    static long ElementSize(ScalarType dtype) => dtype switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static byte[] ReadAll(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    static string FirstLine(string text) => text.Split('\n')[0].Trim();

    public void Dispose()
    {
        _zip.Dispose();
    }
}
