using System.Runtime.InteropServices;
using Flame.Runtime;

namespace Flame.Runtime;

/// <summary>
/// The few CUDA runtime calls TorchSharp does not bind (platform notes: no events, no memory statistics), taken
/// from the cudart that the external libtorch (FLAME_LIBTORCH) already loaded: events for the phase breakdown and
/// cudaMemGetInfo for device memory. Null where no cudart is found; callers then fall back and say so.
/// Events go on the legacy default stream (0), the stream libtorch runs every op on here.
/// </summary>
public sealed unsafe class CudaRuntimeApi
{
    static readonly Lazy<CudaRuntimeApi?> Loaded = new(Load);

    /// <summary>The process's cudart, or null (CPU libtorch, or no cudart found).</summary>
    public static CudaRuntimeApi? Instance => Loaded.Value;

    delegate* unmanaged<IntPtr*, int> _eventCreate;
    delegate* unmanaged<IntPtr, IntPtr, int> _eventRecord;
    delegate* unmanaged<IntPtr, int> _eventSynchronize;
    delegate* unmanaged<float*, IntPtr, IntPtr, int> _eventElapsedTime;
    delegate* unmanaged<IntPtr, int> _eventDestroy;
    delegate* unmanaged<nuint*, nuint*, int> _memGetInfo;

    public IntPtr CreateEvent() { IntPtr e; Check(_eventCreate(&e), "cudaEventCreate"); return e; }
    public void Record(IntPtr e) => Check(_eventRecord(e, IntPtr.Zero), "cudaEventRecord");
    public void Synchronize(IntPtr e) => Check(_eventSynchronize(e), "cudaEventSynchronize");
    public void DestroyEvent(IntPtr e) => _eventDestroy(e);

    /// <summary>Milliseconds between two recorded, completed events.</summary>
    public float ElapsedMilliseconds(IntPtr start, IntPtr end)
    {
        float ms;
        Check(_eventElapsedTime(&ms, start, end), "cudaEventElapsedTime");
        return ms;
    }

    /// <summary>Device memory in use (total - free) and the total, in bytes.</summary>
    public (long Used, long Total) MemoryInUse()
    {
        nuint free, total;
        Check(_memGetInfo(&free, &total), "cudaMemGetInfo");
        return ((long)(total - free), (long)total);
    }

    static void Check(int status, string call)
    {
        if (status != 0) throw new InvalidOperationException($"{call} failed with CUDA error {status}");
    }

    static CudaRuntimeApi? Load()
    {
        foreach (var handle in CandidateHandles())
        {
            var api = new CudaRuntimeApi();
            if (!TryBind(handle, api)) continue;
            return api;
        }
        return null;
    }

    static IEnumerable<IntPtr> CandidateHandles()
    {
        // dlsym on libtorch_cuda's handle also searches what it linked, cudart among them.
        var folder = Environment.GetEnvironmentVariable(TorchRuntime.LibTorchVariable);
        if (!string.IsNullOrWhiteSpace(folder) && NativeLibrary.TryLoad(Path.Combine(folder, "libtorch_cuda.so"), out var torchCuda))
            yield return torchCuda;
        foreach (var name in new[] { "libcudart.so.13", "libcudart.so.12", "libcudart.so" })
            if (NativeLibrary.TryLoad(name, out var cudart)) yield return cudart;
    }

    static bool TryBind(IntPtr handle, CudaRuntimeApi api)
    {
        IntPtr Get(params string[] names)
        {
            foreach (var name in names)
                if (NativeLibrary.TryGetExport(handle, name, out var address)) return address;
            return IntPtr.Zero;
        }
        var create = Get("cudaEventCreate");
        var record = Get("cudaEventRecord");
        var sync = Get("cudaEventSynchronize");
        var elapsed = Get("cudaEventElapsedTime", "cudaEventElapsedTime_v2");
        var destroy = Get("cudaEventDestroy");
        var memory = Get("cudaMemGetInfo");
        if (create == 0 || record == 0 || sync == 0 || elapsed == 0 || destroy == 0 || memory == 0) return false;
        api._eventCreate = (delegate* unmanaged<IntPtr*, int>)create;
        api._eventRecord = (delegate* unmanaged<IntPtr, IntPtr, int>)record;
        api._eventSynchronize = (delegate* unmanaged<IntPtr, int>)sync;
        api._eventElapsedTime = (delegate* unmanaged<float*, IntPtr, IntPtr, int>)elapsed;
        api._eventDestroy = (delegate* unmanaged<IntPtr, int>)destroy;
        api._memGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)memory;
        return true;
    }
}
