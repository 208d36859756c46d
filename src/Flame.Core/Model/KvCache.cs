using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Model;

/// <summary>
/// The keys and values of every token seen so far, one <see cref="LayerKvCache"/> per layer, so that a
/// generation step runs only the new tokens and attends to the cached ones. Used only by the inference
/// forward overloads; the training forward never sees it.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly LayerKvCache[] _layers;

    /// <param name="capacity">positions to hold (at most the model's max positions).</param>
    public KvCache(int layers, long capacity)
    {
        Capacity = capacity;
        _layers = Enumerable.Range(0, layers).Select(_ => new LayerKvCache(capacity)).ToArray();
    }

    public long Capacity { get; }
    /// <summary>Positions cached so far (the position of the next token).</summary>
    public long Length => _layers[0].Length;
    public LayerKvCache this[int layer] => _layers[layer];

    public void Dispose()
    {
        foreach (var layer in _layers) layer.Dispose();
    }
}

/// <summary>
/// One layer's keys and values, [batch, heads, capacity, headDim], allocated on first use with the device and
/// dtype of the first keys (so it follows the model's compute dtype), filled in place.
/// </summary>
public sealed class LayerKvCache(long capacity) : IDisposable
{
    Tensor? _keys, _values;

    public long Length { get; private set; }

    /// <summary>Stores k and v [batch, heads, seq, headDim] at positions Length.. and returns views of all cached positions.</summary>
    public (Tensor Keys, Tensor Values) Append(Tensor k, Tensor v)
    {
        long seq = k.shape[2];
        if (Length + seq > capacity)
            throw new UserError($"the KV cache holds {capacity} positions; {Length} are used and {seq} more were given");
        if (_keys is null)
        {
            // Outlives the forward's dispose scope: the cache is disposed with its owner.
            _keys = zeros([k.shape[0], k.shape[1], capacity, k.shape[3]], k.dtype, k.device).DetachFromDisposeScope();
            _values = zeros([v.shape[0], v.shape[1], capacity, v.shape[3]], v.dtype, v.device).DetachFromDisposeScope();
        }
        else if (_keys.shape[0] != k.shape[0])
            throw new ArgumentException($"the KV cache holds batch {_keys.shape[0]}, not {k.shape[0]}");
        _keys.narrow(2, Length, seq).copy_(k);
        _values!.narrow(2, Length, seq).copy_(v);
        Length += seq;
        return (_keys.narrow(2, 0, Length), _values.narrow(2, 0, Length));
    }

    public void Dispose()
    {
        _keys?.Dispose();
        _values?.Dispose();
    }
}
