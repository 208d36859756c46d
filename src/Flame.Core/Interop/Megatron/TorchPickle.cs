using System.Collections;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>A storage of a torch.save archive (its data is the zip entry data/KEY), not yet read.</summary>
public sealed record TorchStorageRef(string Key, ScalarType DType, long Elements);

/// <summary>
/// A tensor as torch.save pickles it (`torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`):
/// a strided view of a storage. Megatron's parameters are often views into one large buffer, so the offset
/// and strides matter.
/// </summary>
public sealed record TorchTensorRef(TorchStorageRef Storage, long Offset, long[] Shape, long[] Stride)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// A Python object of a class Flame does not model (enums in Megatron's args, numpy arrays in the RNG state,
/// PyTorch Distributed Checkpoint's dataclasses): its class, constructor arguments and pickled state, kept so
/// the fields that matter can be read and everything else passes through.
/// </summary>
public sealed class PythonObject(string className, object[] args)
{
    public string ClassName { get; } = className;
    public object[] Args { get; } = args;
    public object? State { get; private set; }

    // Razorvine's BUILD looks this method up by name with the state's runtime type.
    public void __setstate__(object state) => State = state;

    /// <summary>A field of the object's __dict__ (plain state, or the (dict, slots) pair of a class with slots).</summary>
    public object? Field(string name) => State switch
    {
        Hashtable dict => dict[name],
        object[] { Length: 2 } pair => (pair[0] as Hashtable)?[name] ?? (pair[1] as Hashtable)?[name],
        _ => null,
    };

    public override string ToString() => ClassName;
}

/// <summary>
/// Python's pickle as torch.save and PyTorch Distributed Checkpoint write it, read with Razorvine.Pickle plus the
/// torch-specific part: persistent ids ('storage', StorageType, key, location, numel), tensor rebuilds, dtypes,
/// torch.Size, OrderedDict. A class Razorvine cannot build is kept as a <see cref="PythonObject"/>.
/// </summary>
public static class TorchPickle
{
    static readonly object Gate = new();
    static bool _registered;

    /// <summary>Storage classes of torch.save (torch/storage.py's typed storages) and their element types.</summary>
    static readonly Dictionary<string, ScalarType> StorageTypes = new()
    {
        ["FloatStorage"] = ScalarType.Float32, ["BFloat16Storage"] = ScalarType.BFloat16, ["HalfStorage"] = ScalarType.Float16,
        ["DoubleStorage"] = ScalarType.Float64, ["LongStorage"] = ScalarType.Int64, ["IntStorage"] = ScalarType.Int32,
        ["ShortStorage"] = ScalarType.Int16, ["CharStorage"] = ScalarType.Int8, ["ByteStorage"] = ScalarType.Byte,
        ["BoolStorage"] = ScalarType.Bool,
    };

    static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["float32"] = ScalarType.Float32, ["float"] = ScalarType.Float32, ["bfloat16"] = ScalarType.BFloat16,
        ["float16"] = ScalarType.Float16, ["half"] = ScalarType.Float16, ["float64"] = ScalarType.Float64,
        ["int64"] = ScalarType.Int64, ["int32"] = ScalarType.Int32, ["int16"] = ScalarType.Int16,
        ["int8"] = ScalarType.Int8, ["uint8"] = ScalarType.Byte, ["bool"] = ScalarType.Bool,
    };

    /// <summary>
    /// Unpickles <paramref name="data"/>. <paramref name="persistentLoad"/> answers torch.save's storage ids
    /// (null: a pickle that must not have any). Throws <see cref="PickleException"/> or
    /// <see cref="EndOfStreamException"/> on a damaged pickle; callers turn those into one-line errors.
    /// </summary>
    public static object? Load(byte[] data, Func<string, ScalarType, long, TorchStorageRef>? persistentLoad)
    {
        Register();
        // Razorvine builds an unregistered class only without constructor arguments; each such class met is
        // registered as a PythonObject and the (small) pickle read again.
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                using var unpickler = new StorageUnpickler(persistentLoad);
                return unpickler.loads(data);
            }
            catch (PickleException e) when (attempt < 200 && UnbuildableClass(e) is string name)
            {
                var dot = name.LastIndexOf('.');
                lock (Gate) Unpickler.registerConstructor(name[..dot], name[(dot + 1)..], new PythonObjectConstructor(name));
            }
        }
    }

    static string? UnbuildableClass(PickleException e)
    {
        const string marker = "construction of ClassDict (for ";
        var at = e.Message.IndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        var start = at + marker.Length;
        var end = e.Message.IndexOf(')', start);
        var name = end > start ? e.Message[start..end] : null;
        return name is not null && name.Contains('.') ? name : null;
    }

    static void Register()
    {
        lock (Gate)
        {
            if (_registered) return;
            // torch/_utils.py: how torch.save pickles tensors and parameters.
            Unpickler.registerConstructor("torch._utils", "_rebuild_tensor_v2", new Constructor(RebuildTensor));
            Unpickler.registerConstructor("torch._utils", "_rebuild_tensor", new Constructor(RebuildTensor));
            Unpickler.registerConstructor("torch._utils", "_rebuild_parameter", new Constructor(a => a[0]));
            Unpickler.registerConstructor("torch._utils", "_rebuild_parameter_with_state", new Constructor(a => a[0]));
            Unpickler.registerConstructor("collections", "OrderedDict", new Constructor(_ => new Hashtable()));
            Unpickler.registerConstructor("torch", "Size", new Constructor(a => Longs(a.Length == 0 ? Array.Empty<object>() : a[0])));
            foreach (var (name, dtype) in StorageTypes) Unpickler.registerConstructor("torch", name, new StorageType(dtype));
            foreach (var (name, dtype) in DTypes) Unpickler.registerConstructor("torch", name, new TorchDType(dtype));
            // PyTorch Distributed Checkpoint (torch/distributed/checkpoint/metadata.py, filesystem.py) dataclasses:
            // kept whole, whatever form their state takes.
            foreach (var name in new[] { "Metadata", "TensorStorageMetadata", "BytesStorageMetadata", "ChunkStorageMetadata",
                         "TensorProperties", "MetadataIndex", "StorageMeta" })
                Unpickler.registerConstructor("torch.distributed.checkpoint.metadata", name, new PythonObjectConstructor("torch.distributed.checkpoint.metadata." + name));
            Unpickler.registerConstructor("torch.distributed.checkpoint.filesystem", "_StorageInfo", new PythonObjectConstructor("_StorageInfo"));
            // PyTorch 1.13's prototype pickles TensorProperties' state as a tuple (sharded_tensor/metadata.py __getstate__).
            Unpickler.registerConstructor("torch.distributed._shard.sharded_tensor.metadata", "TensorProperties", new PythonObjectConstructor("TensorProperties"));
            // TransformerEngine's _extra_state (FP8 metadata) in older versions: a BytesIO, pickled with a tuple state.
            Unpickler.registerConstructor("_io", "BytesIO", new PythonObjectConstructor("_io.BytesIO"));
            _registered = true;
        }
    }

    static object RebuildTensor(object[] a)
    {
        if (a.Length < 4 || a[0] is not TorchStorageRef storage)
            throw new PickleException("_rebuild_tensor_v2 without a storage");
        return new TorchTensorRef(storage, Convert.ToInt64(a[1]), Longs(a[2]), Longs(a[3]));
    }

    /// <summary>A Python tuple or list of ints (or a torch.Size already read) as longs.</summary>
    public static long[] Longs(object? value) => value switch
    {
        long[] longs => longs,
        object[] tuple => tuple.Select(Convert.ToInt64).ToArray(),
        ArrayList list => list.Cast<object>().Select(Convert.ToInt64).ToArray(),
        _ => throw new PickleException($"expected a tuple of integers, found {value?.GetType().Name ?? "None"}"),
    };

    public static ScalarType? DTypeOf(object? value) => (value as TorchDType)?.DType;

    sealed class StorageUnpickler(Func<string, ScalarType, long, TorchStorageRef>? storages) : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            if (storages is null) throw new PickleException("a persistent id in a pickle that should have none");
            // torch/serialization.py: ('storage', storage_type, key, location, numel)
            if (pid is not object[] { Length: >= 5 } t || t[0] as string != "storage" || t[1] is not StorageType type)
                throw new PickleException($"unknown persistent id {pid}");
            return storages(Convert.ToString(t[2], System.Globalization.CultureInfo.InvariantCulture)!, type.DType, Convert.ToInt64(t[4]));
        }
    }

    sealed class Constructor(Func<object[], object> build) : IObjectConstructor
    {
        public object construct(object[] args) => build(args);
    }

    sealed class PythonObjectConstructor(string name) : IObjectConstructor
    {
        public object construct(object[] args) => new PythonObject(name, args);
    }

    /// <summary>A torch storage class (e.g. torch.BFloat16Storage), met as part of a persistent id.</summary>
    sealed class StorageType(ScalarType dtype) : IObjectConstructor
    {
        public ScalarType DType { get; } = dtype;
        public object construct(object[] args) => throw new PickleException("a torch storage class cannot be called in a checkpoint");
    }

    sealed class TorchDType(ScalarType dtype) : IObjectConstructor
    {
        public ScalarType DType { get; } = dtype;
        public object construct(object[] args) => throw new PickleException("a torch dtype cannot be called in a checkpoint");
    }
}
