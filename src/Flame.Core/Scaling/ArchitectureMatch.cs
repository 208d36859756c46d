using Flame.Model;

namespace Flame.Scaling;

/// <summary>
/// The candidate architecture closest to a budget's compute-optimal size, trained at that budget:
/// its naming N, tokens D = C/(6N), iterations at a tokens-per-step, and the loss the law predicts for it.
/// </summary>
/// <param name="LogDistance">|ln N - ln N_opt|: 0.1 means the candidate is 10.5% off the optimum either way.</param>
public sealed record ArchitectureMatch(string Preset, double Budget, long Params, double Tokens, long Iterations,
                                       double Loss, double LogDistance)
{
    /// <summary>
    /// Nearest candidate to <paramref name="optimum"/> in log space, as FLAME-MoE picked its released sizes from
    /// its fitted law (spec §3): a model 2x too large and one 2x too small are equally far. Ties go to the earlier candidate.
    /// </summary>
    public static ArchitectureMatch Nearest(IReadOnlyList<ModelConfig> candidates, ComputeOptimalPoint optimum,
                                            ParametricLaw law, long tokensPerStep)
    {
        if (candidates.Count == 0) throw new UserError("no candidate architectures to match");
        if (tokensPerStep < 1) throw new UserError($"tokens per step must be positive (got {tokensPerStep})");
        var best = candidates.Select(model =>
        {
            long n = ModelAccounting.FlameParameterCount(model);
            return (Model: model, Params: n, Distance: Math.Abs(Math.Log(n / optimum.Params)));
        }).MinBy(c => c.Distance);
        double tokens = optimum.Budget / (6.0 * best.Params);
        return new ArchitectureMatch(best.Model.Name, optimum.Budget, best.Params, tokens,
                                     ModelAccounting.IterationsForBudget(best.Model, optimum.Budget, tokensPerStep),
                                     law.Loss(best.Params, tokens), best.Distance);
    }
}
