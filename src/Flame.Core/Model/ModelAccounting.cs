namespace Flame.Model;

/// <summary>
/// Parameter and FLOP counts, computed from the config alone. The one place these numbers live:
/// the model, the trainer's throughput, and the scaling study all read them from here.
/// </summary>
public sealed record ModelAccounting(long TotalParams, long ActiveParams, long FlameParams, double FlopsPerToken, int Sequence)
{
    public static ModelAccounting Of(ModelConfig c, int? sequence = null)
    {
        long h = c.Hidden, v = c.PaddedVocab;
        long embeddings = 2 * v * h;                  // input embedding + untied output layer
        long attention = 4 * h * h;                   // q, k, v, o; no biases
        long norms = 2 * h;                           // two RMSNorm weights per block
        long denseFfn = 3 * h * c.DenseFfn;           // SwiGLU: gate, up, down
        long expert = 3 * h * c.ExpertFfn;
        long shared = 3 * h * c.SharedExpertFfn;
        long router = (long)c.Experts * h;

        long total = embeddings + h;                  // + final norm
        long active = embeddings + h;
        for (int l = 0; l < c.Layers; l++)
        {
            long common = attention + norms;
            if (c.IsMoeLayer(l))
            {
                total += common + RoutedExpertParameterCount(c) / c.MoeLayerCount + shared + router;
                active += common + c.TopK * expert + shared + router;
            }
            else
            {
                total += common + denseFfn;
                active += common + denseFfn;
            }
        }

        int seq = sequence ?? c.MaxPositions;
        long flame = FlameParameterCount(c);
        // Training FLOPs per token: 6N plus causal attention 6*L*seq*h, as the platform notes count them.
        double flops = 6.0 * flame + 6.0 * c.Layers * seq * h;
        return new ModelAccounting(total, active, flame, flops, seq);
    }

    /// <summary>
    /// The count FLAME-MoE names models by and sets budgets with (spec §1, "The parameter count"):
    /// N = 2Vh + L*4h^2 + 2hF + (L-1)*8*3*h*F_exp, generalised to any dense/MoE layer mix with
    /// (k + shared/F_exp) expert widths per MoE layer. FLAME-MoE counts the dense FFN of an MoE model
    /// as 2hF; an all-dense baseline is counted exactly (3hF per layer), which is what gives dclm-411m its name.
    /// </summary>
    public static long FlameParameterCount(ModelConfig c)
    {
        long h = c.Hidden, v = c.PaddedVocab;
        long n = 2 * v * h + c.Layers * 4 * h * h;
        if (!c.IsMoe) return n + c.Layers * 3 * h * c.DenseFfn;
        n += c.DenseLayerCount * 2 * h * c.DenseFfn;
        n += c.MoeLayerCount * 3 * h * ((long)c.TopK * c.ExpertFfn + c.SharedExpertFfn);
        return n;
    }

    /// <summary>
    /// The routed experts' share of <see cref="TotalParams"/> (what expert parallelism divides over ranks): per MoE
    /// layer, experts x 3hF_exp, the term <see cref="Of"/> adds per MoE layer.
    /// </summary>
    public static long RoutedExpertParameterCount(ModelConfig c) => (long)c.MoeLayerCount * c.Experts * 3L * c.Hidden * c.ExpertFfn;

    /// <summary>
    /// The parameters every op reads in fp32 whatever the compute dtype, so the trainer never casts them: the input
    /// embedding [paddedVocab, h] (looked up, then the rows cast), every RMSNorm weight (2 per block + the final one)
    /// and the routers [experts, h] (spec §1: routing in fp32). The rest of <see cref="Of"/>'s total gets a bf16 copy.
    /// </summary>
    public static long Fp32OnlyParameterCount(ModelConfig c) =>
        (long)c.PaddedVocab * c.Hidden + (2L * c.Layers + 1) * c.Hidden + (long)c.MoeLayerCount * c.Experts * c.Hidden;

    /// <summary>FLAME-MoE's iterations for a FLOP budget: C / (6 N tokens_per_step), rounded down.</summary>
    public static long IterationsForBudget(ModelConfig c, double flops, long tokensPerStep) => (long)BudgetSteps(c, flops, tokensPerStep);

    /// <summary>The same count as a double, for checking a budget whose iterations would overflow a long before converting.</summary>
    public static double BudgetSteps(ModelConfig c, double flops, long tokensPerStep) =>
        Math.Floor(flops / (6.0 * FlameParameterCount(c) * tokensPerStep));
}
