using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>
/// Multi-head causal self-attention (spec §1): no biases, no GQA, RoPE on q and k, scale 1/sqrt(head_dim),
/// through scaled_dot_product_attention (flash attention on CUDA). q, k and v share one fused projection.
/// </summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>
{
    readonly int _heads, _headDim;
    readonly RotaryEmbedding _rope;
    /// <summary>[3h, h]: rows 0..h-1 are q, then k, then v.</summary>
    public readonly Parameter qkv;
    /// <summary>[h, h]: the output projection.</summary>
    public readonly Parameter proj;
    /// <summary>Where the weights come from in the compute dtype (set by the model).</summary>
    public WeightCasts Casts { get; set; } = new();

    public CausalSelfAttention(int hidden, int heads, RotaryEmbedding rope) : base(nameof(CausalSelfAttention))
    {
        _heads = heads;
        _headDim = hidden / heads;
        _rope = rope;
        qkv = new Parameter(empty(3 * hidden, hidden));
        proj = new Parameter(empty(hidden, hidden));
        RegisterComponents();
    }

    /// <summary>
    /// Selective recompute while autograd is on: the attention core, softmax(QK^T)V, keeps only q, k and v and is run
    /// again in the backward (<see cref="CheckpointedOp"/>), so its output and logsumexp are not kept.
    /// </summary>
    public bool RecomputeCore { get; set; }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], seq = x.shape[1], hidden = x.shape[2];
        var packed = F.linear(x, Casts.Of(qkv, x.dtype)).view(batch, seq, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var q = _rope.Apply(packed[0]);
        var k = _rope.Apply(packed[1]);
        var v = packed[2];
        var attended = RecomputeCore ? CheckpointedOp.Run(Core, q, k, v) : Core([q, k, v]);
        var merged = attended.transpose(1, 2).reshape(batch, seq, hidden);
        return F.linear(merged, Casts.Of(proj, x.dtype)).MoveToOuterDisposeScope();
    }

    static Tensor Core(Tensor[] qkv) => F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], is_casual: true);

    /// <summary>
    /// Inference with a KV cache: x [batch, seq, h] holds the tokens at positions cache.Length.., whose keys
    /// and values join the cache; each new query attends to every cached position and causally to the new ones.
    /// </summary>
    public Tensor forward(Tensor x, LayerKvCache cache)
    {
        using var scope = NewDisposeScope();
        long batch = x.shape[0], seq = x.shape[1], hidden = x.shape[2];
        long offset = cache.Length;
        var packed = F.linear(x, Casts.Of(qkv, x.dtype)).view(batch, seq, 3, _heads, _headDim).permute(2, 0, 3, 1, 4);
        var q = _rope.Apply(packed[0], offset);
        var k = _rope.Apply(packed[1], offset);
        var (keys, values) = cache.Append(k, packed[2]);
        var attended = offset == 0 ? F.scaled_dot_product_attention(q, keys, values, is_casual: true)
            : seq == 1 ? F.scaled_dot_product_attention(q, keys, values)
            : F.scaled_dot_product_attention(q, keys, values, attn_mask: CachedCausalMask(offset, seq, x.device));
        var merged = attended.transpose(1, 2).reshape(batch, seq, hidden);
        return F.linear(merged, Casts.Of(proj, x.dtype)).MoveToOuterDisposeScope();
    }

    /// <summary>[seq, offset + seq], true where new token i (position offset + i) may attend to position j.</summary>
    static Tensor CachedCausalMask(long offset, long seq, Device device) =>
        arange(offset + seq, device: device).unsqueeze(0) <= (arange(seq, device: device) + offset).unsqueeze(1);
}
