namespace Flame.Scaling;

/// <summary>The best split of a budget: N and D = C / (6N), and the loss the law predicts there.</summary>
public sealed record ComputeOptimalPoint(double Budget, double Params, double Tokens, double Loss);

/// <summary>
/// Compute-optimal allocation (spec §3): minimise L(N, C/(6N)) over N. Setting the derivative to zero gives
/// N_opt = G (C/6)^(beta/(alpha+beta)), G = (alpha A / (beta B))^(1/(alpha+beta)).
/// </summary>
public static class ComputeOptimal
{
    public static ComputeOptimalPoint For(ParametricLaw law, double budget)
    {
        double s = law.Alpha + law.Beta;
        double g = Math.Pow(law.Alpha * law.A / (law.Beta * law.B), 1 / s);
        double n = g * Math.Pow(budget / 6, law.Beta / s);
        double d = budget / (6 * n);
        return new ComputeOptimalPoint(budget, n, d, law.Loss(n, d));
    }
}
