namespace Flame.Data.Samples;

/// <summary>
/// Fisher-Yates shuffles driven by SplitMix64, a generator defined here in full, so the order depends
/// only on (seed, stream, n) and never on the .NET version or the machine.
/// </summary>
public static class SeededPermutation
{
    public static long[] Create(long n, long seed, long stream)
    {
        var order = new long[n];
        for (long i = 0; i < n; i++) order[i] = i;
        ulong state = Mix((ulong)seed ^ Mix((ulong)stream + 0x9E3779B97F4A7C15UL));
        for (long i = n - 1; i > 0; i--)
        {
            long j = (long)Below(ref state, (ulong)i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    static ulong Next(ref ulong state) => Mix(state += 0x9E3779B97F4A7C15UL);

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, bound) by rejection, so no index is favoured.</summary>
    static ulong Below(ref ulong state, ulong bound)
    {
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound;
        ulong x;
        do x = Next(ref state); while (x >= limit);
        return x % bound;
    }
}
