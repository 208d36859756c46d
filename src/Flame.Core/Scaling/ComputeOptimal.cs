using MathNet.Numerics.Optimization;

namespace Flame.Scaling;

/// <summary>The best split of a budget: N and D = C / (6N), and the loss the law predicts there.</summary>
public sealed record ComputeOptimalPoint(double Budget, double Params, double Tokens, double Loss);

/// <summary>
/// Compute-optimal allocation (spec §3): minimise L(N, C/(6N)) over N. Setting the derivative to zero gives
/// N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)).
/// <see cref="Numeric"/> finds the same point by searching along C = 6ND, as a check on the algebra.
/// </summary>
public static class ComputeOptimal
{
    public static ComputeOptimalPoint For(ParametricLaw law, double budget)
    {
        Check(law, budget);
        double s = law.Alpha + law.Beta;
        double g = Math.Pow(law.Alpha * law.A / (law.Beta * law.B), 1 / s);
        double n = g * Math.Pow(budget / 6, law.Beta / s);
        double d = budget / (6 * n);
        return new ComputeOptimalPoint(budget, n, d, law.Loss(n, d));
    }

    /// <summary>
    /// The same optimum by golden-section search (MathNet) over ln N on the IsoFLOP line D = C/(6N). The loss
    /// along that line is unimodal for alpha, beta > 0, and in ln N the search is well scaled whatever the budget.
    /// </summary>
    public static ComputeOptimalPoint Numeric(ParametricLaw law, double budget)
    {
        Check(law, budget);
        double LossAt(double lnN) { double n = Math.Exp(lnN); return law.Loss(n, budget / (6 * n)); }
        // Bracket around N = sqrt(C/6) (D = N); the minimiser widens the bracket when the minimum lies outside it.
        double centre = 0.5 * Math.Log(budget / 6);
        var result = GoldenSectionMinimizer.Minimum(ObjectiveFunction.ScalarValue(LossAt), centre - 10, centre + 10,
                                                    xTolerance: 1e-10, maxIterations: 10_000);
        double n = Math.Exp(result.MinimizingPoint);
        double d = budget / (6 * n);
        return new ComputeOptimalPoint(budget, n, d, law.Loss(n, d));
    }

    static void Check(ParametricLaw law, double budget)
    {
        if (!(budget > 0) || double.IsInfinity(budget)) throw new UserError($"FLOP budgets must be positive and finite (got {budget})");
        if (!(law.Alpha > 0 && law.Beta > 0 && law.A > 0 && law.B > 0))
            throw new UserError($"the law has no compute-optimal size: it needs A, B, alpha and beta all positive (got {law})");
    }
}
