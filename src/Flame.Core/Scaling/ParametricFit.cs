using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Flame.Scaling;

/// <summary>Approach 3's answer: the best converged law, its objective, and how many starts reached it.</summary>
/// <param name="ConvergedNearBest">converged starts whose objective is within a small tolerance of the best's</param>
public sealed record ParametricFitResult(ParametricLaw Law, double Objective, int Starts, int Converged, int ConvergedNearBest);

/// <summary>
/// Approach 3 (spec §3): fit L(N, D) = E + A/N^alpha + B/D^beta by minimising <see cref="HuberLogObjective"/>
/// with L-BFGS from every point of a <see cref="StartGrid"/>, in parallel, keeping the best converged fit.
/// MathNet 5.0 offers L-BFGS unbounded (LimitedMemoryBfgsMinimizer) and BFGS-B, no L-BFGS-B; the original's
/// L-BFGS-B runs without bounds, so unbounded L-BFGS is the same method.
/// </summary>
public static class ParametricFit
{
    public static ParametricFitResult Fit(IReadOnlyList<ScalingRun> runs, StartGrid? grid = null, double delta = HuberLogObjective.DefaultDelta)
    {
        if (runs.Count < 5) throw new UserError($"Approach 3 fits 5 coefficients and needs at least 5 runs (got {runs.Count})");
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
