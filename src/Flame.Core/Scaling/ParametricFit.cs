using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Flame.Scaling;

/// <summary>Approach 3's answer: the best converged law, its objective, and how many starts reached it.</summary>
/// <param name="ConvergedNearBest">converged starts whose objective is within a small tolerance of the best's</param>
public sealed record ParametricFitResult(ParametricLaw Law, double Objective, int Starts, int Converged, int ConvergedNearBest);

/// <summary>
/// Approach 3 (spec §3): fit L(N, D) = E + A/N^alpha + B/D^beta by minimising <see cref="HuberLogObjective"/>
/// (Hoffmann et al. 2022: Huber, delta 1e-3, on log L, in the variables ln E, ln A, alpha, ln B, beta) with
/// L-BFGS and its analytic gradient from every point of a <see cref="StartGrid"/>, in parallel, keeping the best
/// converged fit. This is not the original's method. FLAME-MoE's notebook fitted the raw (E, A, alpha, B, beta)
/// with scipy's L-BFGS-B and finite-difference gradients. In those variables the objective is nearly flat along
/// A and B (dL/dB = D^-beta, about 5e-7 at D = 1e9 and beta = 0.7), and its published A = 148.413257 and
/// B = 3269017.372472 are e^5 and e^15, its starting values, to six digits (spec §7): A and B did not move, and
/// E, alpha and beta were fitted around them. Fitting in log space scales every variable alike, so A and B move as freely as alpha and beta,
/// and the multi-start grid finds the best of the local minima. <see cref="MinimumPoints"/> distinct (N, D)
/// points, not spanning a single line in (ln N, ln D), are required: fewer, or repeated rows, leave the law
/// undetermined and any answer arbitrary.
/// </summary>
public static class ParametricFit
{
    public static ParametricFitResult Fit(IReadOnlyList<ScalingRun> runs, StartGrid? grid = null, double delta = HuberLogObjective.DefaultDelta)
    {
        CheckIdentifiable(runs);
        grid ??= StartGrid.Full;
        var objective = new HuberLogObjective(runs, delta);
        var starts = grid.Points().ToArray();
        var results = new (double[] Theta, double Value)?[starts.Length];
        Parallel.For(0, starts.Length, i => results[i] = Minimise(objective, starts[i]));

        var converged = results.Where(r => r is not null).Select(r => r!.Value).ToList();
        if (converged.Count == 0) throw new UserError("Approach 3: no start converged; the runs may be too few or too alike");
        var best = converged.MinBy(r => r.Value);
        double tolerance = Math.Max(1e-6 * best.Value, 1e-12);
        int near = converged.Count(r => r.Value <= best.Value + tolerance);
        var t = best.Theta;
        var law = new ParametricLaw(Math.Exp(t[0]), Math.Exp(t[1]), t[2], Math.Exp(t[3]), t[4]);
        return new ParametricFitResult(law, best.Value, starts.Length, converged.Count, near);
    }

    /// <summary>Distinct (N, D) points Approach 3 needs: one per coefficient.</summary>
    public const int MinimumPoints = 5;

    /// <summary>
    /// Refuses runs that cannot determine the law: fewer than <see cref="MinimumPoints"/> distinct (N, D) points
    /// (repeated rows add weight, not information), or points on one line in (ln N, ln D), such as a single
    /// budget's runs (ln N + ln D = ln C/6), along which A/N^alpha and B/D^beta trade off freely.
    /// </summary>
    public static void CheckIdentifiable(IReadOnlyList<ScalingRun> runs)
    {
        var points = runs.Select(r => (r.Params, r.Tokens)).Distinct().ToList();
        if (points.Count < MinimumPoints)
            throw new UserError($"Approach 3 fits 5 coefficients and needs at least {MinimumPoints} distinct (N, D) points (got {points.Count} from {runs.Count} runs)");
        // The smaller eigenvalue of the points' covariance in (ln N, ln D) is 0 exactly when they lie on a line.
        double mx = points.Average(p => Math.Log(p.Params)), my = points.Average(p => Math.Log(p.Tokens));
        double sxx = points.Average(p => Math.Pow(Math.Log(p.Params) - mx, 2)), syy = points.Average(p => Math.Pow(Math.Log(p.Tokens) - my, 2));
        double sxy = points.Average(p => (Math.Log(p.Params) - mx) * (Math.Log(p.Tokens) - my));
        double trace = sxx + syy, det = sxx * syy - sxy * sxy;
        double smaller = trace / 2 - Math.Sqrt(Math.Max(0, trace * trace / 4 - det));
        if (smaller <= 1e-10 * trace)
            throw new UserError($"Approach 3: the {points.Count} (N, D) points lie on one line in (log N, log D) (e.g. all at one budget), so N's and D's terms cannot be told apart; add runs at other budgets or sizes");
    }

    /// <summary>One L-BFGS run; null when it did not converge (iteration limit, no progress, failed line search, non-finite values).</summary>
    static (double[] Theta, double Value)? Minimise(HuberLogObjective objective, double[] start)
    {
        var function = ObjectiveFunction.Gradient(theta =>
        {
            Span<double> g = stackalloc double[5];
            double value = objective.Evaluate(theta.AsArray() ?? theta.ToArray(), g);
            return (value, Vector<double>.Build.DenseOfArray(g.ToArray()));
        });
        var minimizer = new LimitedMemoryBfgsMinimizer(gradientTolerance: 1e-10, parameterTolerance: 1e-12,
                                                       functionProgressTolerance: 1e-15, memory: 10, maximumIterations: 1000);
        try
        {
            var result = minimizer.FindMinimum(function, Vector<double>.Build.DenseOfArray(start));
            if (result.ReasonForExit is ExitCondition.ExceedIterations or ExitCondition.LackOfProgress or ExitCondition.None) return null;
            var theta = result.MinimizingPoint.ToArray();
            double value = result.FunctionInfoAtMinimum.Value;
            if (!double.IsFinite(value) || theta.Any(x => !double.IsFinite(x))) return null;
            return (theta, value);
        }
        catch (Exception e) when (e is OptimizationException or ArithmeticException or ArgumentException)
        {
            return null;
        }
    }
}
