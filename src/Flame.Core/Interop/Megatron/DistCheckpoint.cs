using System.Collections;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// A PyTorch Distributed Checkpoint folder (torch/distributed/checkpoint, prototype torch/distributed/_shard/checkpoint
/// in 1.13): `.metadata` pickles a Metadata dataclass whose state_dict_metadata gives each key's global size and
/// chunks (offsets, sizes), and whose storage_data maps MetadataIndex(fqn, offset) to _StorageInfo(relative_path,
/// offset, length): the chunk is a torch.save blob at that place in a `__R_S.distcp` file (filesystem.py _write_item).
/// <see cref="Read"/> assembles a key's global tensor from its chunks.
/// </summary>
public sealed class DistCheckpoint
{
    public const string MetadataFile = ".metadata";

    readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    readonly Dictionary<(string Fqn, string Offsets), (string File, long Offset, long Length)> _chunks = [];

    sealed record TensorInfo(long[] Size, List<(long[] Offsets, long[] Sizes)> Chunks);

    public string Folder { get; }

    /// <summary>Every tensor key with its global size (byte objects such as Megatron's ShardedObjects are left out).</summary>
    public IReadOnlyDictionary<string, long[]> Tensors => _tensors.ToDictionary(kv => kv.Key, kv => kv.Value.Size);

    public DistCheckpoint(string folder)
    {
        Folder = folder;
        var path = Path.Combine(folder, MetadataFile);
        if (!File.Exists(path)) throw new UserError($"{folder}: no {MetadataFile} (not a PyTorch Distributed Checkpoint)");
        object? metadata;
        try
        {
            metadata = TorchPickle.Load(File.ReadAllBytes(path), null);
        }
        catch (Exception e) when (e is PickleException or EndOfStreamException or InvalidCastException or IndexOutOfRangeException)
        {
            throw new UserError($"{path}: damaged pickle ({e.Message.Split('\n')[0]})");
        }
        if (Field(metadata, "state_dict_metadata") is not Hashtable keys || Field(metadata, "storage_data") is not Hashtable storage)
            throw new UserError($"{path}: not the metadata of a PyTorch Distributed Checkpoint");
        foreach (DictionaryEntry item in keys)
        {
            if (Field(item.Value, "chunks") is not ArrayList chunks) continue; // bytes entries
            var info = new TensorInfo(TorchPickle.Longs(Field(item.Value, "size")), []);
            foreach (var chunk in chunks) info.Chunks.Add((TorchPickle.Longs(Field(chunk, "offsets")), TorchPickle.Longs(Field(chunk, "sizes"))));
            _tensors[(string)item.Key] = info;
        }
        foreach (DictionaryEntry item in storage)
        {
            var fqn = Field(item.Key, "fqn") as string ?? throw new UserError($"{path}: a storage entry without a key");
            var offsets = Field(item.Key, "offset");
            _chunks[(fqn, offsets is null ? "" : string.Join(",", TorchPickle.Longs(offsets)))] =
                (Field(item.Value, "relative_path") as string ?? throw new UserError($"{path}: a storage entry of '{fqn}' without a file"),
                 Convert.ToInt64(Field(item.Value, "offset")), Convert.ToInt64(Field(item.Value, "length")));
        }
    }

    /// <summary>The global tensor of <paramref name="key"/> in its saved dtype.</summary>
    public Tensor Read(string key)
    {
        var info = _tensors[key];
        Tensor? global = null;
        try
        {
            foreach (var (offsets, sizes) in info.Chunks)
            {
                if (!_chunks.TryGetValue((key, string.Join(",", offsets)), out var where))
                    throw new UserError($"{Folder}: the metadata names no file for a chunk of '{key}'");
                using var archive = TorchArchive.Open(ReadBytes(where.File, where.Offset, where.Length), $"{Path.Combine(Folder, where.File)} ('{key}')");
                if (archive.Root is not TorchTensorRef reference)
                    throw new UserError($"{archive.Source}: the chunk is not a tensor");
                if (!reference.Shape.SequenceEqual(sizes))
                    throw new UserError($"{archive.Source}: chunk of shape [{string.Join(", ", reference.Shape)}], the metadata says [{string.Join(", ", sizes)}]");
                using var chunk = archive.Read(reference);
                global ??= zeros(info.Size, chunk.dtype);
                using var target = Slice(global, offsets, sizes);
                target.copy_(chunk);
            }
            return global ?? zeros(info.Size);
        }
        catch
        {
            global?.Dispose();
            throw;
        }
    }

    static Tensor Slice(Tensor tensor, long[] offsets, long[] sizes)
    {
        var view = tensor.alias();
        for (int d = 0; d < offsets.Length; d++)
        {
            var next = view.narrow(d, offsets[d], sizes[d]);
            view.Dispose();
            view = next;
        }
        return view;
    }

    byte[] ReadBytes(string file, long offset, long length)
    {
        var path = Path.Combine(Folder, file);
        if (!File.Exists(path)) throw new UserError($"{Folder}: missing shard {file}");
        using var stream = File.OpenRead(path);
        if (offset < 0 || length < 0 || offset + length > stream.Length)
            throw new UserError($"{path}: the file ends before byte {offset + length} (truncated shard?)");
        var bytes = new byte[length];
        stream.Seek(offset, SeekOrigin.Begin);
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A dataclass field, whether Razorvine built the object as a ClassDict or a PythonObject.</summary>
    static object? Field(object? obj, string name) => obj switch
    {
        ClassDict dict => dict.TryGetValue(name, out var v) ? v : null,
        PythonObject python => python.Field(name),
        Hashtable table => table[name],
        _ => null,
    };
}
