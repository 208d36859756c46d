using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Flame.Scaling;

/// <summary>Standard errors of an <see cref="AccuracyCurve"/>'s coefficients; null where undefined (a fixed floor, a perfect fit).</summary>
public sealed record AccuracyCurveErrors(double? Floor, double? Ceiling, double? Steepness, double? Midpoint);

/// <summary>A predicted accuracy at a loss (and the budget the loss came from, if any).</summary>
/// <param name="Extrapolated">the loss lies outside the losses the curve was fitted on</param>
public sealed record AccuracyPrediction(double? Budget, double Loss, double Accuracy, bool Extrapolated);

/// <summary>A task's fitted curve and how well it fits: root-mean-square error and R^2 of accuracy over the points.</summary>
/// <param name="FloorFixed">the floor was given (--floor), not fitted</param>
/// <param name="CeilingFixed">the free fit ran past the largest possible accuracy (1, or 100 for percentages) and was refitted with the ceiling held there</param>
public sealed record AccuracyFit(string Task, int Points, AccuracyCurve Curve, AccuracyCurveErrors StandardErrors,
                                 double Rmse, double RSquared, bool FloorFixed, bool CeilingFixed, double MinLoss, double MaxLoss)
{
    public AccuracyPrediction Predict(double loss, double? budget = null) =>
        new(budget, loss, Curve.Accuracy(loss), loss < MinLoss || loss > MaxLoss);
}

/// <summary>
/// Least-squares fit of <see cref="AccuracyCurve"/> to (loss, accuracy) points with MathNet's Levenberg-Marquardt,
/// from a few starts (midpoint at the loss quartiles, steepness at 2, 8, 32 over the loss range) so that a flat start
/// cannot strand it; the lowest residual wins. The floor can be fixed (chance accuracy) when points are few.
/// Points from only the lower bend of the sigmoid pin the ceiling poorly, and a free fit can run it past 100%
/// (an exponential tail fits them as well); then the ceiling is held at the largest possible accuracy and the rest refitted.
/// </summary>
public static class AccuracyCurveFit
{
    public static AccuracyFit Fit(string task, IReadOnlyList<(double Loss, double Accuracy)> points, double? fixedFloor = null)
    {
        int free = fixedFloor is null ? 4 : 3;
        if (points.Count < free)
            throw new UserError($"task '{task}': the sigmoid has {free} free coefficients and needs at least {free} points (got {points.Count})");
        var losses = points.Select(p => p.Loss).ToArray();
        var accuracies = points.Select(p => p.Accuracy).ToArray();
        if (!(losses.Max() - losses.Min() > 0)) throw new UserError($"task '{task}': every point has the same loss; a curve needs a range of losses");

        double top = accuracies.Max() <= 1 ? 1 : 100;
        var (p, rss, errors) = Minimise(task, losses, accuracies, fixedFloor, fixedCeiling: null);
        bool ceilingFixed = false;
        if (AccuracyCurve.FromArray(p).Normalised().Ceiling > top)
        {
            (p, rss, errors) = Minimise(task, losses, accuracies, fixedFloor, fixedCeiling: top);
            ceilingFixed = true;
        }
        var curve = AccuracyCurve.FromArray(p);
        // Standard errors follow the curve when it is rewritten with a positive steepness (floor and ceiling swap).
        var se = curve.Steepness < 0 ? new AccuracyCurveErrors(errors[1], errors[0], errors[2], errors[3])
                                     : new AccuracyCurveErrors(errors[0], errors[1], errors[2], errors[3]);
        double mean = accuracies.Average();
        double total = accuracies.Sum(a => (a - mean) * (a - mean));
        return new AccuracyFit(task, points.Count, curve.Normalised(), se, Math.Sqrt(rss / points.Count),
                               total > 0 ? 1 - rss / total : 1, fixedFloor is not null, ceilingFixed, losses.Min(), losses.Max());
    }

    /// <summary>The best of the starts: coefficients, residual sum of squares, standard errors (null where fixed or undefined).</summary>
    static (double[] P, double Rss, double?[] Errors) Minimise(string task, double[] losses, double[] accuracies, double? fixedFloor, double? fixedCeiling)
    {
        var model = ObjectiveFunction.NonlinearModel(Predict, Jacobian, Vector<double>.Build.DenseOfArray(losses), Vector<double>.Build.DenseOfArray(accuracies));
        var isFixed = new List<bool> { fixedFloor is not null, fixedCeiling is not null, false, false };
        var sorted = losses.Order().ToArray();
        double lossRange = sorted[^1] - sorted[0];
        (double[] P, double Rss, NonlinearMinimizationResult Result)? best = null;
        foreach (double quantile in new[] { 0.25, 0.5, 0.75 })
            foreach (double k in new[] { 2.0, 8.0, 32.0 })
            {
                double[] start = [fixedFloor ?? accuracies.Min(), fixedCeiling ?? accuracies.Max(), k / lossRange,
                                  MathNet.Numerics.Statistics.SortedArrayStatistics.Quantile(sorted, quantile)];
                try
                {
                    var minimizer = new LevenbergMarquardtMinimizer(maximumIterations: 500);
                    var result = minimizer.FindMinimum(model, Vector<double>.Build.DenseOfArray(start), isFixed: isFixed);
                    var p = result.MinimizingPoint.ToArray();
                    if (p.Any(v => !double.IsFinite(v))) continue;
                    var curve = AccuracyCurve.FromArray(p);
                    double rss = losses.Select((l, i) => accuracies[i] - curve.Accuracy(l)).Sum(r => r * r);
                    if (double.IsFinite(rss) && (best is null || rss < best.Value.Rss)) best = (p, rss, result);
                }
                catch (Exception e) when (e is ArithmeticException or ArgumentException or OptimizationException) { }
            }
        if (best is null) throw new UserError($"task '{task}': the sigmoid fit did not converge from any start");
        var (pBest, rssBest, resultBest) = best.Value;
        var errors = Enumerable.Range(0, 4).Select(i => isFixed[i] ? null
            : resultBest.StandardErrors is { } se && double.IsFinite(se[i]) ? se[i] : (double?)null).ToArray();
        return (pBest, rssBest, errors);
    }

    /// <summary>Fits every task of the results separately, in order of first appearance.</summary>
    public static IReadOnlyList<AccuracyFit> FitPerTask(IReadOnlyList<DownstreamResult> results, double? fixedFloor = null) =>
        results.GroupBy(r => r.Task)
               .Select(g => Fit(g.Key, g.Select(r => (r.Loss, r.Accuracy)).ToList(), fixedFloor))
               .ToList();

    static Vector<double> Predict(Vector<double> p, Vector<double> x)
    {
        var curve = AccuracyCurve.FromArray(p.ToArray());
        return x.Map(curve.Accuracy);
    }

    /// <summary>With s = Rise(L): d/dfloor = 1 - s, d/dceiling = s, d/dk = -(c - f) s (1 - s)(L - L0), d/dL0 = (c - f) s (1 - s) k.</summary>
    static Matrix<double> Jacobian(Vector<double> p, Vector<double> x)
    {
        var curve = AccuracyCurve.FromArray(p.ToArray());
        var j = Matrix<double>.Build.Dense(x.Count, 4);
        double span = curve.Ceiling - curve.Floor;
        for (int i = 0; i < x.Count; i++)
        {
            double s = curve.Rise(x[i]), slope = span * s * (1 - s);
            j[i, 0] = 1 - s;
            j[i, 1] = s;
            j[i, 2] = -slope * (x[i] - curve.Midpoint);
            j[i, 3] = slope * curve.Steepness;
        }
        return j;
    }
}
