using Flame.Model;

namespace Flame.Scaling;

/// <summary>One planned run of the study: a model at a FLOP budget, with its tokens and iterations.</summary>
public sealed record PlannedRun(string Preset, double Budget, long Params, double Tokens, long Iterations);

/// <summary>
/// Budgets x models -> runs (spec §1 and §3): N is FLAME-MoE's naming count, D = C/(6N),
/// iterations = floor(C / (6 N tokens_per_step)). Counts come from <see cref="ModelAccounting"/> only.
/// </summary>
public static class ScalingPlan
{
    /// <summary>FLAME-MoE's global batch: 1024 sequences of 2048 tokens (spec §2).</summary>
    public const long DefaultTokensPerStep = 1024L * 2048;

    public static IReadOnlyList<PlannedRun> Build(IEnumerable<ModelConfig> models, IEnumerable<double> budgets,
                                                  long tokensPerStep = DefaultTokensPerStep)
    {
        if (tokensPerStep < 1) throw new UserError($"tokens per step must be positive (got {tokensPerStep})");
        var budgetList = budgets.ToList();
        foreach (var c in budgetList)
            if (!(c > 0) || double.IsInfinity(c)) throw new UserError($"FLOP budgets must be positive and finite (got {c})");
        var runs = new List<PlannedRun>();
        foreach (var budget in budgetList)
            foreach (var model in models)
            {
                long n = ModelAccounting.FlameParameterCount(model);
                runs.Add(new PlannedRun(model.Name, budget, n, budget / (6.0 * n),
                                        ModelAccounting.IterationsForBudget(model, budget, tokensPerStep)));
            }
        return runs;
    }
}
