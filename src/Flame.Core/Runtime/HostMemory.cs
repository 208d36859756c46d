using System.Runtime.InteropServices;

namespace Flame.Runtime;

/// <summary>
/// Keeps freed host memory inside the process so the next step reuses it (glibc: large blocks come from the
/// heap instead of their own mmap, and the heap is not trimmed back to the system).
/// Why: libtorch's CPU allocator is plain malloc, and glibc maps every block above its mmap threshold (32 MB at
/// most) on allocation and unmaps it on free, so each step's large activations (the [tokens, vocab] logits and
/// their gradients) are paid for again in page faults. On the 2-core VM that made cross-entropy forward and
/// backward over [2048, 8192] cost 365 ms instead of 14 ms (bench/RESULTS.md). PyTorch's CPU performance guide
/// suggests jemalloc or tcmalloc for the same reason; this needs no preloaded library. The price is that the
/// process keeps its peak host memory until it exits. FLAME_HOST_MEMORY=release leaves glibc's defaults.
/// </summary>
public static class HostMemory
{
    public const string Variable = "FLAME_HOST_MEMORY";

    // glibc's malloc.h parameter numbers.
    const int TrimThreshold = -1, MmapMax = -4;

    /// <summary>Whether the setting took (false off Linux/glibc, or when opted out).</summary>
    public static bool KeepFreedMemory()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Variable) == "release") return false;
        try
        {
            return mallopt(MmapMax, 0) == 1 && mallopt(TrimThreshold, int.MaxValue) == 1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // not glibc: its allocator keeps its own behaviour
        }
    }

    [DllImport("libc", EntryPoint = "mallopt")]
    static extern int mallopt(int parameter, int value);
}
