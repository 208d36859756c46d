namespace Flame.Distributed;

/// <summary>
/// Which samples of the training stream each rank reads (Megatron's MegatronPretrainingSampler): step s covers
/// samples [s * globalBatch, (s + 1) * globalBatch); rank r reads the r-th contiguous share, in micro-batches of
/// <paramref name="MicroBatch"/>, so the ranks of any layout together read exactly the single-process run's samples.
/// </summary>
public sealed record DataParallelSampler(int GlobalBatch, int MicroBatch, int World, int Rank)
{
    /// <summary>Micro-batches per step on each rank: the global batch split over micro-batches and ranks.</summary>
    public int Accumulation => GlobalBatch / (MicroBatch * World);

    /// <summary>The sample indices of micro-batch <paramref name="micro"/> of step <paramref name="step"/> on this rank.</summary>
    public long[] Samples(long step, int micro)
    {
        long first = step * GlobalBatch + (long)Rank * (GlobalBatch / World) + (long)micro * MicroBatch;
        return Enumerable.Range(0, MicroBatch).Select(i => first + i).ToArray();
    }
}
