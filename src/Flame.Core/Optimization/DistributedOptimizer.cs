using Flame.Checkpointing;
using Flame.Distributed;
using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Optimization;

/// <summary>
/// Megatron's distributed optimizer (ZeRO-1): the parameters are laid end to end in flat buffers (decaying and
/// non-decaying, replicated and expert-split apart), each buffer cut into equal contiguous shards over the ranks
/// that share it, and each rank keeps AdamW's moments for its shard alone and updates only that shard from its
/// reduce-scattered gradient; the updated shards are then all-gathered back into every rank's parameters. Each rank
/// thus holds 1/data of the state. The update is elementwise, so it is the replicated optimizer's, number for number
/// (up to the fp32 order in which the clip norm is summed).
/// The checkpoint file is the replicated optimizer's: for each parameter the ranks holding pieces of its moments
/// send them to rank 0 (alone, one tensor at a time), and loading keeps each rank's piece.
/// </summary>
public sealed class DistributedOptimizer : TrainingOptimizer
{
    sealed class Flat
    {
        public required List<Tensor> Parameters { get; init; }
        public required ICommunicator Group { get; init; }
        public required long ShardLength { get; init; }
        public required Parameter Shard { get; init; }
        public long Start => Group.Rank * ShardLength;
    }

    readonly List<Flat> _flats = [];
    readonly Dictionary<nint, (Flat Flat, long Offset)> _where = [];
    readonly HashSet<nint> _expertSplit;
    readonly List<Tensor> _order;   // the replicated optimizer's parameter order: decaying, then the rest
    readonly TorchSharp.Modules.AdamW _adam;
    bool _reduced;                  // the shards hold this step's reduce-scattered, clipped gradients

    public DistributedOptimizer(FlameModel model, ProcessGroups groups, OptimizerSettings settings, double lr) : base(groups, settings)
    {
        _expertSplit = Parallelizer.ShardedHandles(model, groups.Layout);
        var all = model.parameters().Cast<Tensor>().ToList();
        _order = all.Where(p => p.dim() > 1).Concat(all.Where(p => p.dim() <= 1)).ToList();
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        using var noGrad = no_grad();
        foreach (bool decays in new[] { true, false })
            foreach (bool experts in new[] { false, true })
            {
                var members = all.Where(p => (p.dim() > 1) == decays && _expertSplit.Contains(p.Handle) == experts).ToList();
                if (members.Count == 0) continue;
                var group = experts ? groups.Data : groups.World;
                long total = members.Sum(p => p.numel());
                long shardLength = (total + group.Size - 1) / group.Size;
                using var values = Flatten(members, shardLength * group.Size, p => p);
                var flat = new Flat
                {
                    Parameters = members, Group = group, ShardLength = shardLength,
                    Shard = new Parameter(values.narrow(0, group.Rank * shardLength, shardLength).clone()),
                };
                long offset = 0;
                foreach (var p in members) { _where[p.Handle] = (flat, offset); offset += p.numel(); }
                _flats.Add(flat);
                (decays ? decay : noDecay).Add(flat.Shard);
            }
        _adam = OptimizerFactory.Create(decay, noDecay, settings, lr);
    }

    /// <summary>The members' tensors (picked from each parameter) end to end, zero-padded to <paramref name="length"/>.</summary>
    static Tensor Flatten(List<Tensor> members, long length, Func<Tensor, Tensor?> pick)
    {
        var pieces = members.Select(p => (pick(p) ?? zeros_like(p)).detach().flatten()).ToList();
        long total = members.Sum(p => p.numel());
        if (length > total) pieces.Add(zeros(length - total, dtype: members[0].dtype, device: members[0].device));
        return cat(pieces);
    }

    public override void SetLearningRate(double lr) => OptimizerFactory.SetLearningRate(_adam, lr);

    public override void ZeroGrad()
    {
        using var noGrad = no_grad();
        foreach (var p in _order)
            if (p.grad is { } g) g.zero_();
    }

    /// <summary>
    /// Gives each rank the averaged gradient of its own shards only (a reduce-scatter per flat buffer, Megatron's
    /// distributed optimizer: half an all-reduce's bytes), then clips the shards to the global norm (spec §2), which it
    /// returns (0-d, on the device). The replicated buffers are cut over the world and the expert ones over the data
    /// group, so the world's shards cover every element of the model exactly once (padding is zero): one scalar
    /// all-reduce over the world gives the norm over all parameters, expert slices included. Division by the world
    /// size as <see cref="GradientSync"/> (each rank's loss is the mean over its own micro-batches).
    /// </summary>
    public override Tensor AverageAndClip()
    {
        int world = Groups.World.Size;
        var blocks = new List<Tensor>();
        using var scope = NewDisposeScope();
        using (no_grad())
            foreach (var flat in _flats)
            {
                var shard = flat.Group.ReduceScatter(Flatten(flat.Parameters, flat.ShardLength * flat.Group.Size, p => p.grad));
                shard.div_(world);
                flat.Shard.grad = shard;
                blocks.Add(shard);
            }
        _reduced = true;
        return GradientClipping.ClipShards(blocks, Settings.ClipNorm, squares => Groups.World.AllReduceSum(squares)).MoveToOuterDisposeScope();
    }

    /// <summary>Steps AdamW on this rank's shards with the gradients <see cref="AverageAndClip"/> left there, then all-gathers the parameters.</summary>
    public override void Step()
    {
        if (!_reduced) throw new InvalidOperationException("the distributed optimizer steps on reduce-scattered gradients: call AverageAndClip first");
        _reduced = false;
        Update(_adam);
        using (var scope = NewDisposeScope())
        using (no_grad())
            foreach (var flat in _flats)
            {
                var full = flat.Group.AllGather(flat.Shard.detach());
                long offset = 0;
                foreach (var p in flat.Parameters)
                {
                    p.copy_(full.narrow(0, offset, p.numel()).view(p.shape));
                    offset += p.numel();
                }
            }
    }

    IEnumerable<TorchSharp.Modules.AdamW.State> ShardStates()
    {
        var sd = _adam.state_dict();
        return sd.State.Cast<TorchSharp.Modules.AdamW.State>();
    }

    TorchSharp.Modules.AdamW.State StateOf(Flat flat)
    {
        var parameters = _adam.ParamGroups.Cast<TorchSharp.Modules.ParamGroup>().SelectMany(g => g.Parameters).ToList();
        int index = parameters.FindIndex(p => p.Handle == flat.Shard.Handle);
        return (TorchSharp.Modules.AdamW.State)_adam.state_dict().State[index];
    }

    public override long StateElements => ShardStates().Sum(s => s.exp_avg.numel() + s.exp_avg_sq.numel());

    public override void Save(string? path)
    {
        long step = ShardStates().First().step;
        var states = _flats.ToDictionary(f => f, StateOf);
        var entries = _order.Select(p => new TorchSharpStateFiles.AdamWEntry(step,
            () => Gather(p, states[_where[p.Handle].Flat].exp_avg),
            () => Gather(p, states[_where[p.Handle].Flat].exp_avg_sq))).ToList();
        TorchSharpStateFiles.WriteAdamW(path, _adam.state_dict().Options, entries);
    }

    /// <summary>
    /// One parameter's moment as the replicated optimizer holds it, on world rank 0: the ranks of its flat's group
    /// send their pieces to the group's first rank (an all-to-all where only that rank receives); expert slices
    /// are then put together over the expert group.
    /// </summary>
    Tensor Gather(Tensor parameter, Tensor shardMoment)
    {
        var (flat, offset) = _where[parameter.Handle];
        var group = flat.Group;
        long n = parameter.numel();
        long Piece(int rank) => Math.Max(0, Math.Min(offset + n, (rank + 1) * flat.ShardLength) - Math.Max(offset, rank * flat.ShardLength));
        long mine = Piece(group.Rank);
        long from = Math.Max(offset, flat.Start) - flat.Start;
        var piece = mine > 0 ? shardMoment.narrow(0, from, mine) : shardMoment.narrow(0, 0, 0);
        var send = Enumerable.Range(0, group.Size).Select(r => r == 0 ? mine : 0L).ToArray();
        var receive = Enumerable.Range(0, group.Size).Select(r => group.Rank == 0 ? Piece(r) : 0L).ToArray();
        var gathered = group.AllToAll(piece, send, receive);
        if (!_expertSplit.Contains(parameter.Handle)) return group.Rank == 0 ? gathered.view(parameter.shape) : gathered;
        // Expert slices: the groups' first ranks are the data-rank-0 ranks, which form world rank 0's expert group.
        var slice = group.Rank == 0 ? gathered.view(parameter.shape) : gathered;
        var whole = Groups.Expert.AllGather(slice.contiguous());
        return whole;
    }

    public override void Load(string path)
    {
        var states = _flats.ToDictionary(f => f, StateOf);
        int expertIndex = Groups.Layout.ExpertRank(Groups.World.Rank);
        using var noGrad = no_grad();
        TorchSharpStateFiles.ReadAdamW(path, _adam.state_dict().Options, _order.Count, (i, step, expAvg, expAvgSq) =>
        {
            var p = _order[i];
            var (flat, offset) = _where[p.Handle];
            var state = states[flat];
            state.step = step;
            bool expert = _expertSplit.Contains(p.Handle);
            Take(expert ? ExpertShard.Of(expAvg, expertIndex, Groups.Layout.Expert) : expAvg, state.exp_avg, flat, offset);
            Take(expert ? ExpertShard.Of(expAvgSq, expertIndex, Groups.Layout.Expert) : expAvgSq, state.exp_avg_sq, flat, offset);
        });
        CopyShardsFromParameters();
    }

    /// <summary>The moments stay zero; the fp32 shards this rank updates start from the (just loaded) parameters.</summary>
    public override void StartFresh()
    {
        using var noGrad = no_grad();
        CopyShardsFromParameters();
    }

    /// <summary>The shards start from the (just loaded) parameters.</summary>
    void CopyShardsFromParameters()
    {
        foreach (var flat in _flats)
        {
            using var values = Flatten(flat.Parameters, flat.ShardLength * flat.Group.Size, p => p);
            flat.Shard.copy_(values.narrow(0, flat.Start, flat.ShardLength));
        }
    }

    /// <summary>Copies the part of a parameter's full moment that falls in this rank's shard.</summary>
    static void Take(Tensor full, Tensor shardMoment, Flat flat, long offset)
    {
        long n = full.numel();
        long begin = Math.Max(offset, flat.Start), end = Math.Min(offset + n, flat.Start + flat.ShardLength);
        if (end <= begin) return;
        shardMoment.narrow(0, begin - flat.Start, end - begin).copy_(full.contiguous().view(-1).narrow(0, begin - offset, end - begin));
    }

    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        _adam.Dispose();
        foreach (var flat in _flats) flat.Shard.Dispose();
    }
}
