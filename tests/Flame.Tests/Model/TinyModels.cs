using Flame.Model;

namespace Flame.Tests.Model;

/// <summary>Small configs so model tests run in milliseconds on CPU.</summary>
public static class TinyModels
{
    public static readonly ModelConfig Moe = new()
    {
        Name = "tiny-moe", Layers = 3, Hidden = 32, Heads = 4, DenseFfn = 48,
        Experts = 8, TopK = 2, ExpertFfn = 16, SharedExpertFfn = 32, DenseLayers = [0],
        VocabSize = 100, VocabMultiple = 128, MaxPositions = 64,
    };
}
