using System.Runtime.InteropServices;
using Flame.Runtime;

namespace Flame.Distributed;

/// <summary>NCCL's unique id (ncclUniqueId, 128 opaque bytes), made by one rank and broadcast over MPI.</summary>
[StructLayout(LayoutKind.Sequential, Size = 128)]
public unsafe struct NcclUniqueId
{
    public fixed byte Bytes[128];
}

/// <summary>
/// The NCCL calls Flame needs, bound at run time from libnccl.so.2: the copy PyTorch's CUDA wheels ship beside
/// the torch install that FLAME_LIBTORCH names (site-packages/nvidia/nccl/lib), else the system's.
/// </summary>
public sealed unsafe class NcclLibrary
{
    public const string FileName = "libnccl.so.2";
    public const int Float32 = 7, Float64 = 8, Int64 = 4, Uint8 = 1, BFloat16 = 9, Sum = 0;
    static NcclLibrary? _loaded;

    public readonly delegate* unmanaged<NcclUniqueId*, int> GetUniqueId;
    public readonly delegate* unmanaged<nint*, int, NcclUniqueId, int, int> CommInitRank;
    public readonly delegate* unmanaged<nint, int> CommDestroy;
    public readonly delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> AllReduce;
    public readonly delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> ReduceScatter;
    public readonly delegate* unmanaged<nint, nint, nuint, int, nint, nint, int> AllGather;
    public readonly delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int> Broadcast;
    public readonly delegate* unmanaged<nint, nuint, int, int, nint, nint, int> Send;
    public readonly delegate* unmanaged<nint, nuint, int, int, nint, nint, int> Recv;
    public readonly delegate* unmanaged<int> GroupStart;
    public readonly delegate* unmanaged<int> GroupEnd;
    public readonly delegate* unmanaged<int, byte*> ErrorString;

    NcclLibrary(nint library)
    {
        nint Export(string name) => NativeLibrary.GetExport(library, name);
        GetUniqueId = (delegate* unmanaged<NcclUniqueId*, int>)Export("ncclGetUniqueId");
        CommInitRank = (delegate* unmanaged<nint*, int, NcclUniqueId, int, int>)Export("ncclCommInitRank");
        CommDestroy = (delegate* unmanaged<nint, int>)Export("ncclCommDestroy");
        AllReduce = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Export("ncclAllReduce");
        ReduceScatter = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Export("ncclReduceScatter");
        AllGather = (delegate* unmanaged<nint, nint, nuint, int, nint, nint, int>)Export("ncclAllGather");
        Broadcast = (delegate* unmanaged<nint, nint, nuint, int, int, nint, nint, int>)Export("ncclBroadcast");
        Send = (delegate* unmanaged<nint, nuint, int, int, nint, nint, int>)Export("ncclSend");
        Recv = (delegate* unmanaged<nint, nuint, int, int, nint, nint, int>)Export("ncclRecv");
        GroupStart = (delegate* unmanaged<int>)Export("ncclGroupStart");
        GroupEnd = (delegate* unmanaged<int>)Export("ncclGroupEnd");
        ErrorString = (delegate* unmanaged<int, byte*>)Export("ncclGetErrorString");
    }

    public static NcclLibrary Load()
    {
        if (_loaded is not null) return _loaded;
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable(TorchRuntime.LibTorchVariable) is { Length: > 0 } torchLib)
            candidates.Add(Path.GetFullPath(Path.Combine(torchLib, "..", "..", "nvidia", "nccl", "lib", FileName)));
        candidates.Add(FileName);
        foreach (var candidate in candidates)
            if (NativeLibrary.TryLoad(candidate, out var handle)) return _loaded = new NcclLibrary(handle);
        throw new UserError($"CUDA ranks need NCCL ({FileName}): install PyTorch's CUDA wheel (it ships nvidia/nccl beside torch) " +
            $"and point {TorchRuntime.LibTorchVariable} at its torch/lib, or install libnccl2");
    }

    public void Check(int code, string call)
    {
        if (code != 0) throw new InvalidOperationException($"{call} failed: {Marshal.PtrToStringUTF8((nint)ErrorString(code))}");
    }
}
