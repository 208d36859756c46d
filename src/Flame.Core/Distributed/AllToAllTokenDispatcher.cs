using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Distributed;

/// <summary>
/// Expert parallelism's dispatch (Megatron's MoEAlltoAllTokenDispatcher, torchtitan's AllToAllTokenDispatcher):
/// the (token, slot) rows are sorted by global expert as in <see cref="LocalTokenDispatcher"/> (<see cref="ExpertSort"/>), the per-expert counts are
/// exchanged, the rows travel to the ranks holding their experts (dropless: every row goes), are re-sorted there
/// by local expert for one grouped GEMM per projection, and come back the same way. Rank i of the expert group
/// holds experts [i * E/ep, (i+1) * E/ep). The counts are read to the host once per layer and pass: all-to-all
/// needs its splits there.
/// </summary>
public sealed class AllToAllTokenDispatcher(ICommunicator group, int experts) : ITokenDispatcher
{
    readonly int _local = experts / group.Size;

    public Tensor Run(Tensor x, Tensor indices, Func<Tensor, Tensor, Tensor> compute)
    {
        using var scope = NewDisposeScope();
        int ranks = group.Size;
        var sorted = ExpertSort.Of(x, indices);

        // Counts first: rank r learns how many rows of each of its experts every rank sends.
        var counts = RoutingLosses.ExpertCounts(indices, experts).to(ScalarType.Int64).view(ranks, _local).contiguous();
        var received = group.AllToAll(counts, Ones(ranks), Ones(ranks)); // [source rank, local expert]
        var sent = counts.cpu().data<long>().ToArray();
        var incoming = received.cpu().data<long>().ToArray();
        var sendRows = Enumerable.Range(0, ranks).Select(r => Sum(sent, r * _local, _local)).ToArray();
        var receiveRows = Enumerable.Range(0, ranks).Select(r => Sum(incoming, r * _local, _local)).ToArray();

        var arrived = AllToAllFunction.Exchange(sorted.Rows, group, sendRows, receiveRows); // grouped by source, then local expert
        var byExpert = tensor(LocalOrder(incoming, ranks), device: x.device);
        var offsets = tensor(ExpertEnds(incoming, ranks), device: x.device);
        var output = compute(arrived.index_select(0, byExpert), offsets);
        var back = output.index_select(0, byExpert.argsort());
        var returned = AllToAllFunction.Exchange(back, group, receiveRows, sendRows);
        return returned.index_select(0, sorted.Inverse).MoveToOuterDisposeScope();
    }

    static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();

    static long Sum(long[] values, int start, int count)
    {
        long sum = 0;
        for (int i = start; i < start + count; i++) sum += values[i];
        return sum;
    }

    /// <summary>The arrived rows (blocks by source rank, then local expert) reordered by local expert, then source rank.</summary>
    long[] LocalOrder(long[] incoming, int ranks)
    {
        var blockStart = new long[ranks * _local];
        long at = 0;
        for (int i = 0; i < blockStart.Length; i++) { blockStart[i] = at; at += incoming[i]; }
        var order = new long[at];
        long next = 0;
        for (int e = 0; e < _local; e++)
            for (int r = 0; r < ranks; r++)
                for (long j = 0; j < incoming[r * _local + e]; j++) order[next++] = blockStart[r * _local + e] + j;
        return order;
    }

    int[] ExpertEnds(long[] incoming, int ranks)
    {
        var ends = new int[_local];
        long total = 0;
        for (int e = 0; e < _local; e++)
        {
            for (int r = 0; r < ranks; r++) total += incoming[r * _local + e];
            ends[e] = checked((int)total);
        }
        return ends;
    }
}
