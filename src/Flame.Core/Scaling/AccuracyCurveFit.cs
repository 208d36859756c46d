using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

namespace Flame.Scaling;

/// <summary>Standard errors of an <see cref="AccuracyCurve"/>'s coefficients; null where undefined (a fixed floor, a perfect fit).</summary>
public sealed record AccuracyCurveErrors(double? Floor, double? Ceiling, double? Steepness, double? Midpoint);

/// <summary>A predicted accuracy at a loss (and the budget the loss came from, if any).</summary>
/// <param name="Extrapolated">the loss lies outside the losses the curve was fitted on</param>
public sealed record AccuracyPrediction(double? Budget, double Loss, double Accuracy, bool Extrapolated);

/// <summary>A task's fitted curve and how well it fits: root-mean-square error and R^2 of accuracy over the points.</summary>
public sealed record AccuracyFit(string Task, int Points, AccuracyCurve Curve, AccuracyCurveErrors StandardErrors,
                                 double Rmse, double RSquared, bool FloorFixed, double MinLoss, double MaxLoss)
{
    public AccuracyPrediction Predict(double loss, double? budget = null) =>
        new(budget, loss, Curve.Accuracy(loss), loss < MinLoss || loss > MaxLoss);
}

/// <summary>
/// Least-squares fit of <see cref="AccuracyCurve"/> to (loss, accuracy) points with MathNet's Levenberg-Marquardt,
/// from a few starts (midpoint at the loss quartiles, steepness at 2, 8, 32 over the loss range) so that a flat start
/// cannot strand it; the lowest residual wins. The floor can be fixed (chance accuracy) when points are few.
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
        double lossRange = losses.Max() - losses.Min();
        if (!(lossRange > 0)) throw new UserError($"task '{task}': every point has the same loss; a curve needs a range of losses");

        var x = Vector<double>.Build.DenseOfArray(losses);
        var y = Vector<double>.Build.DenseOfArray(accuracies);
        var model = ObjectiveFunction.NonlinearModel(Predict, Jacobian, x, y);
        var isFixed = new List<bool> { fixedFloor is not null, false, false, false };
        var sorted = losses.Order().ToArray();
        double low = accuracies.Min(), high = accuracies.Max();
        (double[] P, double Rss, NonlinearMinimizationResult Result)? best = null;
        foreach (double quantile in new[] { 0.25, 0.5, 0.75 })
            foreach (double k in new[] { 2.0, 8.0, 32.0 })
            {
                double[] start = [fixedFloor ?? low, high, k / lossRange, MathNet.Numerics.Statistics.SortedArrayStatistics.Quantile(sorted, quantile)];
                try
                {
                    var minimizer = new LevenbergMarquardtMinimizer(maximumIterations: 2000);
                    var result = minimizer.FindMinimum(model, Vector<double>.Build.DenseOfArray(start), isFixed: isFixed);
                    var p = result.MinimizingPoint.ToArray();
                    if (p.Any(v => !double.IsFinite(v))) continue;
                    double rss = Residuals(p, losses, accuracies).Sum(r => r * r);
                    if (double.IsFinite(rss) && (best is null || rss < best.Value.Rss)) best = (p, rss, result);
                }
                catch (Exception e) when (e is ArithmeticException or ArgumentException or OptimizationException) { }
            }
        if (best is null) throw new UserError($"task '{task}': the sigmoid fit did not converge from any start");

        var (pBest, rssBest, resultBest) = best.Value;
        var curve = AccuracyCurve.FromArray(pBest);
        double? Error(int i) => i == 0 && fixedFloor is not null ? null
            : resultBest.StandardErrors is { } se && double.IsFinite(se[i]) ? se[i] : null;
        // Standard errors follow the curve when it is rewritten with a positive steepness (floor and ceiling swap).
        var errors = curve.Steepness < 0 ? new AccuracyCurveErrors(Error(1), Error(0), Error(2), Error(3))
                                         : new AccuracyCurveErrors(Error(0), Error(1), Error(2), Error(3));
        double mean = accuracies.Average();
        double total = accuracies.Sum(a => (a - mean) * (a - mean));
        return new AccuracyFit(task, points.Count, curve.Normalised(), errors, Math.Sqrt(rssBest / points.Count),
                               total > 0 ? 1 - rssBest / total : 1, fixedFloor is not null, losses.Min(), losses.Max());
    }

    /// <summary>Fits every task of the results separately, in order of first appearance.</summary>
    public static IReadOnlyList<AccuracyFit> FitPerTask(IReadOnlyList<DownstreamResult> results, double? fixedFloor = null) =>
        results.GroupBy(r => r.Task)
               .Select(g => Fit(g.Key, g.Select(r => (r.Loss, r.Accuracy)).ToList(), fixedFloor))
               .ToList();

    static IEnumerable<double> Residuals(double[] p, double[] losses, double[] accuracies)
    {
        var curve = AccuracyCurve.FromArray(p);
        return losses.Select((l, i) => accuracies[i] - curve.Accuracy(l));
    }

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
