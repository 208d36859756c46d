using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// Hands each op its weight in the compute dtype (spec §2: bf16 compute, fp32 master weights).
/// A weight already in that dtype (fp32 compute) is returned as it is, so fp32 runs are unchanged.
/// Otherwise the weight is cast; with <see cref="Enabled"/> the cast is made once and reused by every op
/// and micro-batch until <see cref="Invalidate"/> (the trainer calls it after each optimizer step), instead of
/// one fresh copy per op per micro-batch. The cast is differentiable (ToCopyBackward holds no tensors), so
/// the gradient of every use flows into the fp32 master; reusing it across micro-batches' backward passes is fine.
/// </summary>
public sealed class WeightCasts : IDisposable
{
    readonly Dictionary<Tensor, Tensor> _casts = new(ReferenceEqualityComparer.Instance);

    /// <summary>Off by default: a cache is only correct where whoever updates the weights invalidates it.</summary>
    public bool Enabled { get; set; }

    /// <summary>Casts made and held right now (for tests and memory accounting).</summary>
    public int Count => _casts.Count;

    /// <summary>
    /// Set while a recomputed block (<see cref="BlockCheckpoint"/>) runs its first forward without autograd: the casts
    /// it makes are made with autograd on and kept, so the recompute in the backward and later micro-batches reuse them.
    /// </summary>
    internal bool CastWithGrad { get; set; }

    public Tensor Of(Tensor master, ScalarType dtype)
    {
        if (master.dtype == dtype) return master;
        if (!Enabled) return master.to(dtype);
        if (_casts.TryGetValue(master, out var held) && held.dtype == dtype) return held;
        bool withGrad = is_grad_enabled() || CastWithGrad;
        Tensor cast;
        using (enable_grad(withGrad)) cast = master.to(dtype);
        // A cast made without autograd (validation, generation) carries no path back to the master,
        // so it must not be reused by a training forward: only casts made with grad enabled are kept.
        if (!withGrad) return cast;
        if (held is not null) held.Dispose();
        _casts[master] = cast.DetachFromDisposeScope();
        return cast;
    }

    /// <summary>Drops every held cast: the masters changed (optimizer step, loaded checkpoint).</summary>
    public void Invalidate()
    {
        foreach (var cast in _casts.Values) cast.Dispose();
        _casts.Clear();
    }

    public void Dispose() => Invalidate();
}
