using System.Diagnostics;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>Takes timestamps at phase boundaries; seconds between two of them once the step is over.</summary>
public interface IPhaseClock : IDisposable
{
    string Name { get; }
    /// <summary>A boundary now (in device order); returns its id.</summary>
    int Stamp();
    /// <summary>Called once the step's work is queued: waits for the device.</summary>
    void Finish();
    double Seconds(int from, int to);
    /// <summary>Forgets the stamps of the last step (their ids are reused).</summary>
    void Reset();
}

/// <summary>
/// Host wall-clock after waiting for the device at every boundary (cuda.synchronize on CUDA; CPU ops are
/// synchronous already). Exact on CPU; on CUDA it also stalls the host's run-ahead, so phases look slower.
/// </summary>
public sealed class SynchronisedClock(Device device) : IPhaseClock
{
    readonly Stopwatch _watch = Stopwatch.StartNew();
    readonly List<double> _stamps = [];

    public string Name => device.type == DeviceType.CUDA ? "synchronised wall-clock" : "wall-clock";

    public int Stamp()
    {
        if (device.type == DeviceType.CUDA) cuda.synchronize();
        _stamps.Add(_watch.Elapsed.TotalSeconds);
        return _stamps.Count - 1;
    }

    public void Finish() { }
    public double Seconds(int from, int to) => _stamps[to] - _stamps[from];
    public void Reset() => _stamps.Clear();
    public void Dispose() { }
}

/// <summary>
/// CUDA events recorded on the stream at every boundary: no host waits inside the step, device time between
/// boundaries (cudaEventElapsedTime) read after the step. Events are pooled across steps.
/// </summary>
public sealed class CudaEventClock(CudaRuntimeApi api) : IPhaseClock
{
    readonly List<IntPtr> _pool = [];
    int _used;

    public string Name => "cuda events";

    public int Stamp()
    {
        if (_used == _pool.Count) _pool.Add(api.CreateEvent());
        api.Record(_pool[_used]);
        return _used++;
    }

    public void Finish()
    {
        if (_used > 0) api.Synchronize(_pool[_used - 1]);
    }

    public double Seconds(int from, int to) => api.ElapsedMilliseconds(_pool[from], _pool[to]) / 1000.0;
    public void Reset() => _used = 0;

    public void Dispose()
    {
        foreach (var e in _pool) api.DestroyEvent(e);
        _pool.Clear();
    }
}
