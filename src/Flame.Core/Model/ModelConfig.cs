namespace Flame.Model;

/// <summary>
/// Every number of a FLAME-MoE (or dense) decoder, as plain values. Defaults are the spec's (§1).
/// A layer is MoE unless it is listed in <see cref="DenseLayers"/> or <see cref="Experts"/> is 0.
/// </summary>
public sealed record ModelConfig
{
    public string Name { get; init; } = "custom";
    public int Layers { get; init; }
    public int Hidden { get; init; }
    public int Heads { get; init; } = 16;
    /// <summary>Width of the dense SwiGLU FFN (dense layers only).</summary>
    public int DenseFfn { get; init; }
    /// <summary>Routed experts per MoE layer; 0 makes every layer dense.</summary>
    public int Experts { get; init; } = 64;
    public int TopK { get; init; } = 6;
    public int ExpertFfn { get; init; }
    /// <summary>Width of the one ungated shared expert; 0 for none.</summary>
    public int SharedExpertFfn { get; init; }
    /// <summary>0-based indices of dense layers (FLAME-MoE: the first layer).</summary>
    public IReadOnlyList<int> DenseLayers { get; init; } = [0];
    /// <summary>The tokenizer's vocabulary; the embedding is padded to <see cref="VocabMultiple"/>.</summary>
    public int VocabSize { get; init; } = 50277;
    public int VocabMultiple { get; init; } = 128;
    public int MaxPositions { get; init; } = 2048;
    public double RopeBase { get; init; } = 10000;
    public double NormEps { get; init; } = 1e-6;
    public double InitStd { get; init; } = 0.02;
    public double AuxLossCoeff { get; init; } = 0.01;
    public double ZLossCoeff { get; init; } = 0.001;

    public int PaddedVocab => (VocabSize + VocabMultiple - 1) / VocabMultiple * VocabMultiple;
    public int HeadDim => Hidden / Heads;
    public bool IsMoeLayer(int layer) => Experts > 0 && !DenseLayers.Contains(layer);
    public int MoeLayerCount => Enumerable.Range(0, Layers).Count(IsMoeLayer);
    public int DenseLayerCount => Layers - MoeLayerCount;
    public bool IsMoe => MoeLayerCount > 0;

    /// <summary>Throws a <see cref="UserError"/> naming the first thing that cannot work.</summary>
    public ModelConfig Validate()
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new UserError($"model '{Name}': {message}");
        }
        Require(Layers >= 1, $"layers must be at least 1 (got {Layers})");
        Require(Hidden >= 1 && Heads >= 1, $"hidden ({Hidden}) and heads ({Heads}) must be positive");
        Require(Hidden % Heads == 0, $"hidden {Hidden} is not divisible by heads {Heads}");
        Require(HeadDim % 2 == 0, $"head dim {HeadDim} must be even for RoPE's rotate-half");
        Require(VocabSize >= 2, $"vocab size must be at least 2 (got {VocabSize})");
        Require(VocabMultiple >= 1, $"vocab multiple must be positive (got {VocabMultiple})");
        Require(MaxPositions >= 1, $"max positions must be positive (got {MaxPositions})");
        Require(Experts >= 0, $"experts must be 0 (dense) or more (got {Experts})");
        foreach (var l in DenseLayers)
            Require(l >= 0 && l < Layers, $"dense layer index {l} is out of range; valid: 0..{Layers - 1}");
        if (DenseLayerCount > 0) Require(DenseFfn >= 1, "dense layers need a dense FFN width > 0");
        if (IsMoe)
        {
            Require(TopK >= 1 && TopK <= Experts, $"top-k {TopK} must be between 1 and the number of experts ({Experts})");
            Require(ExpertFfn >= 1, $"expert FFN width must be positive (got {ExpertFfn})");
            Require(SharedExpertFfn >= 0, $"shared expert width must be 0 or more (got {SharedExpertFfn})");
        }
        // Every real number finite and in range (the key, the value and the range named, as config keys are).
        void RequireReal(string key, double value, bool positive)
        {
            if (!double.IsFinite(value) || (positive ? value <= 0 : value < 0))
                Require(false, $"{key} = {value.ToString("R", System.Globalization.CultureInfo.InvariantCulture)}: out of range; allowed: a finite number {(positive ? "> 0" : ">= 0")}");
        }
        RequireReal("rope_base", RopeBase, positive: true);
        RequireReal("norm_eps", NormEps, positive: true);
        RequireReal("init_std", InitStd, positive: true);
        RequireReal("aux_loss_coeff", AuxLossCoeff, positive: false);
        RequireReal("z_loss_coeff", ZLossCoeff, positive: false);
        return this;
    }
}
