using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Flame.Model;

/// <summary>The model's forward result.</summary>
/// <param name="Logits">[batch, seq, paddedVocab] in the compute dtype.</param>
/// <param name="Moe">one entry per MoE layer, in layer order (routing decisions and losses).</param>
/// <param name="LoadBalancingLoss">sum over MoE layers (each already scaled by its coefficient); 0 for dense models.</param>
/// <param name="ZLoss">sum over MoE layers (each already scaled by its coefficient); 0 for dense models.</param>
public sealed record ModelOutput(Tensor Logits, IReadOnlyList<MoeOutput> Moe, Tensor LoadBalancingLoss, Tensor ZLoss)
{
    /// <summary>The training objective (spec §1): lm loss plus every MoE layer's load-balancing and z-loss.</summary>
    public Tensor TrainingLoss(Tensor lmLoss) => lmLoss + LoadBalancingLoss + ZLoss;
}

/// <summary>The training forward's result: the lm loss in place of the logits (see <see cref="FlameModel.forward(Tensor, Tensor, int)"/>).</summary>
/// <param name="LmLoss">mean next-token cross-entropy in fp32 (0-d), as <see cref="FlameModel.LanguageModelLoss"/>.</param>
/// <param name="Moe">one entry per MoE layer, in layer order (routing decisions and losses).</param>
/// <param name="LoadBalancingLoss">sum over MoE layers (each already scaled by its coefficient); 0 for dense models.</param>
/// <param name="ZLoss">sum over MoE layers (each already scaled by its coefficient); 0 for dense models.</param>
public sealed record TrainingOutput(Tensor LmLoss, IReadOnlyList<MoeOutput> Moe, Tensor LoadBalancingLoss, Tensor ZLoss)
{
    /// <summary>The training objective (spec §1): lm loss plus every MoE layer's load-balancing and z-loss.</summary>
    public Tensor TrainingLoss() => LmLoss + LoadBalancingLoss + ZLoss;
}

/// <summary>
/// A FLAME-MoE decoder (spec §1): token embedding, L pre-norm blocks (dense or MoE), final RMSNorm, and an
/// untied output layer. Weights are fp32 masters; with <see cref="ComputeType"/> = BFloat16 each op takes
/// its weight in bf16 from <see cref="WeightCasts"/> (cast per op, or once per step with
/// <see cref="CacheWeightCasts"/>) while the router, norms and loss stay in fp32.
/// </summary>
public sealed class FlameModel : nn.Module<Tensor, ModelOutput>
{
    public ModelConfig Config { get; }
    public readonly Parameter embedding;      // [paddedVocab, h]
    public readonly TorchSharp.Modules.ModuleList<TransformerBlock> blocks;
    public readonly RmsNorm final_norm;
    public readonly Parameter output;         // [paddedVocab, h], untied from the embedding
    readonly RotaryEmbedding rope;

    public ScalarType ComputeType { get; set; } = ScalarType.Float32;

    /// <summary>Every op's weight in the compute dtype, shared by all modules of this model.</summary>
    public WeightCasts WeightCasts { get; } = new();

    /// <summary>
    /// Cast each bf16 weight once per optimizer step instead of once per op and micro-batch (spec §2's fp32
    /// masters stay the parameters). Whoever turns this on must call <see cref="RefreshWeightCasts"/> after
    /// every change to the weights (optimizer step, load). No effect on fp32 compute.
    /// </summary>
    public bool CacheWeightCasts
    {
        get => WeightCasts.Enabled;
        set { WeightCasts.Enabled = value; WeightCasts.Invalidate(); }
    }

    /// <summary>Forgets the held casts: the next forward casts the updated masters again.</summary>
    public void RefreshWeightCasts() => WeightCasts.Invalidate();

    /// <summary>Phase marks for profiling (`flame bench train --breakdown`); null, the default, costs nothing.</summary>
    public IPhaseProbe? PhaseProbe
    {
        set { foreach (var block in blocks) block.Probe = value; }
    }

    /// <summary>Activation recompute of every block while training (<see cref="TransformerBlock.Recompute"/>).</summary>
    public RecomputeMode Recompute
    {
        get => blocks.Count == 0 ? RecomputeMode.None : blocks[0].Recompute;
        set { foreach (var block in blocks) block.Recompute = value; }
    }

    /// <summary>Builds and initialises the model on the CPU from the current torch seed, so the weights do not depend on the device.</summary>
    public FlameModel(ModelConfig config) : base(nameof(FlameModel))
    {
        Config = config.Validate();
        rope = new RotaryEmbedding(config.HeadDim, config.MaxPositions, config.RopeBase);
        embedding = new Parameter(empty(config.PaddedVocab, config.Hidden));
        blocks = new TorchSharp.Modules.ModuleList<TransformerBlock>();
        for (int l = 0; l < config.Layers; l++) blocks.Add(new TransformerBlock(config, l, rope));
        final_norm = new RmsNorm(config.Hidden, config.NormEps);
        output = new Parameter(empty(config.PaddedVocab, config.Hidden));
        RegisterComponents();
        ModelInitializer.Initialize(this, config);
        foreach (var block in blocks)
        {
            block.attention.Casts = WeightCasts;
            if (block.ffn is not null) block.ffn.Casts = WeightCasts;
            if (block.moe is not null)
            {
                block.moe.experts.Casts = WeightCasts;
                if (block.moe.shared_expert is not null) block.moe.shared_expert.Casts = WeightCasts;
            }
        }
    }

    public IEnumerable<MoeLayer> MoeLayers => blocks.Where(b => b.moe is not null).Select(b => b.moe!);

    public DispatchMode Dispatch
    {
        set { foreach (var m in MoeLayers) m.Dispatch = value; }
    }

    /// <param name="tokens">[batch, seq] int64 token ids.</param>
    public override ModelOutput forward(Tensor tokens)
    {
        var (x, moe) = RunBlocks(tokens, blocks.Count);
        var logits = F.linear(final_norm.forward(x), WeightCasts.Of(output, ComputeType));
        var (balance, z) = MoeLosses(moe, tokens.device);
        return new ModelOutput(logits, moe, balance, z);
    }

    /// <summary>
    /// The training forward: tokens [batch, seq] and their next tokens <paramref name="targets"/> [batch, seq] give the lm
    /// loss and the MoE outputs. With <paramref name="lossChunk"/> 0 this is <see cref="forward(Tensor)"/> followed by
    /// <see cref="LanguageModelLoss"/>; above 0 the output layer and the loss run <paramref name="lossChunk"/> tokens at a
    /// time, forward and backward (<see cref="ChunkedLinearCrossEntropy"/>), and the logits never exist whole.
    /// </summary>
    public TrainingOutput forward(Tensor tokens, Tensor targets, int lossChunk)
    {
        if (lossChunk <= 0)
        {
            var whole = forward(tokens);
            return new TrainingOutput(LanguageModelLoss(whole.Logits, targets), whole.Moe, whole.LoadBalancingLoss, whole.ZLoss);
        }
        var (x, moe) = RunBlocks(tokens, blocks.Count);
        var normed = final_norm.forward(x);
        var lm = ChunkedLinearCrossEntropy.Loss(
            normed.reshape(-1, normed.shape[^1]), WeightCasts.Of(output, ComputeType), targets.reshape(-1), lossChunk);
        var (balance, z) = MoeLosses(moe, tokens.device);
        return new TrainingOutput(lm, moe, balance, z);
    }

    static (Tensor Balance, Tensor Z) MoeLosses(List<MoeOutput> moe, Device device)
    {
        var zero = zeros(1, device: device).squeeze();
        var balance = moe.Count == 0 ? zero : stack(moe.Select(m => m.LoadBalancingLoss)).sum();
        var z = moe.Count == 0 ? zero : stack(moe.Select(m => m.ZLoss)).sum();
        return (balance, z);
    }

    /// <summary>
    /// The MoE layers' routing of tokens [batch, seq], as <see cref="forward(Tensor)"/> computes it, without the
    /// blocks after the last MoE layer, the final norm or the output layer: tracing needs no logits, and the
    /// [tokens, vocab] output layer is the costliest part of a small model's forward.
    /// </summary>
    public IReadOnlyList<MoeOutput> Route(Tensor tokens)
    {
        int count = blocks.Count;
        while (count > 0 && blocks[count - 1].moe is null) count--;
        return RunBlocks(tokens, count).Moe;
    }

    /// <summary>Embeds tokens [batch, seq] and runs the first <paramref name="count"/> blocks, collecting the MoE outputs.</summary>
    (Tensor Hidden, List<MoeOutput> Moe) RunBlocks(Tensor tokens, int count)
    {
        if (tokens.shape[1] > Config.MaxPositions)
            throw new UserError($"sequence length {tokens.shape[1]} exceeds the model's max positions {Config.MaxPositions}");
        var x = embedding.index_select(0, tokens.flatten()).view(tokens.shape[0], tokens.shape[1], -1).to(ComputeType);
        var moe = new List<MoeOutput>();
        for (int l = 0; l < count; l++)
        {
            var (hidden, routed) = blocks[l].forward(x);
            x = hidden;
            if (routed is not null) moe.Add(routed);
        }
        return (x, moe);
    }

    /// <summary>
    /// Generation's forward: logits [batch, seq, paddedVocab] of tokens [batch, seq] that continue the sequence
    /// held in <paramref name="cache"/> (positions cache.Length..), appending their keys and values to it.
    /// The training forward above is untouched; with an empty cache this computes the same logits.
    /// </summary>
    public Tensor forward(Tensor tokens, KvCache cache)
    {
        long start = cache.Length, seq = tokens.shape[1];
        if (start + seq > Config.MaxPositions)
            throw new UserError($"position {start + seq} exceeds the model's max positions {Config.MaxPositions}");
        using var scope = NewDisposeScope();
        var x = embedding.index_select(0, tokens.flatten()).view(tokens.shape[0], seq, -1).to(ComputeType);
        for (int l = 0; l < blocks.Count; l++) x = blocks[l].forward(x, cache[l]);
        return F.linear(final_norm.forward(x), WeightCasts.Of(output, ComputeType)).MoveToOuterDisposeScope();
    }

    /// <summary>A KV cache for this model holding up to <paramref name="capacity"/> positions (default: max positions).</summary>
    public KvCache NewCache(long? capacity = null) => new(Config.Layers, Math.Min(capacity ?? Config.MaxPositions, Config.MaxPositions));

    protected override void Dispose(bool disposing)
    {
        if (disposing) WeightCasts.Dispose();
        base.Dispose(disposing);
    }

    /// <summary>Mean next-token cross-entropy in fp32 over every position.</summary>
    public static Tensor LanguageModelLoss(Tensor logits, Tensor targets) =>
        F.cross_entropy(logits.reshape(-1, logits.shape[^1]).to(ScalarType.Float32), targets.reshape(-1));
}
