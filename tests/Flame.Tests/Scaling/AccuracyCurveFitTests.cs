using Flame.Scaling;

namespace Flame.Tests.Scaling;

public class AccuracyCurveFitTests
{
    static readonly AccuracyCurve Truth = new(Floor: 0.25, Ceiling: 0.80, Steepness: 6, Midpoint: 3.2);

    static List<(double Loss, double Accuracy)> Points(AccuracyCurve curve, int count, double noise = 0, int seed = 1)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            double loss = 2.4 + 1.8 * i / (count - 1);
            // Box-Muller: a standard normal from two uniforms.
            double z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            return (loss, curve.Accuracy(loss) + noise * z);
        }).ToList();
    }

    [Fact]
    public void CurveValuesByHand()
    {
        Assert.Equal(0.525, Truth.Accuracy(3.2), 12);                                    // halfway at the midpoint
        Assert.Equal(0.25 + 0.55 / (1 + Math.Exp(6 * 0.5)), Truth.Accuracy(3.7), 12);   // = 0.2763
        Assert.Equal(0.80, Truth.Accuracy(-1e6), 12);
        Assert.Equal(0.25, Truth.Accuracy(1e6), 12);
    }

    [Fact]
    public void RecoversExactCoefficientsWithoutNoise()
    {
        var fit = AccuracyCurveFit.Fit("hellaswag", Points(Truth, 12));
        Assert.Equal(0.25, fit.Curve.Floor, 6);
        Assert.Equal(0.80, fit.Curve.Ceiling, 6);
        Assert.Equal(6, fit.Curve.Steepness, 5);
        Assert.Equal(3.2, fit.Curve.Midpoint, 6);
        Assert.True(fit.Rmse < 1e-8, $"rmse {fit.Rmse}");
        Assert.Equal(1, fit.RSquared, 8);
        Assert.Equal(12, fit.Points);
    }

    [Fact]
    public void RecoversCoefficientsFromNoisyPointsWithinTheirErrors()
    {
        const double noise = 0.01;
        var fit = AccuracyCurveFit.Fit("arc_easy", Points(Truth, 40, noise, seed: 7));
        Assert.InRange(fit.Curve.Floor, 0.22, 0.28);
        Assert.InRange(fit.Curve.Ceiling, 0.77, 0.83);
        Assert.InRange(fit.Curve.Steepness, 4.5, 7.5);
        Assert.InRange(fit.Curve.Midpoint, 3.15, 3.25);
        Assert.InRange(fit.Rmse, 0.6 * noise, 1.4 * noise); // residuals about the size of the noise
        // Each coefficient within 3 standard errors of the truth: the errors are the right size, not merely present.
        var se = fit.StandardErrors;
        Assert.InRange(Math.Abs(fit.Curve.Floor - 0.25), 0, 3 * se.Floor!.Value);
        Assert.InRange(Math.Abs(fit.Curve.Ceiling - 0.80), 0, 3 * se.Ceiling!.Value);
        Assert.InRange(Math.Abs(fit.Curve.Steepness - 6), 0, 3 * se.Steepness!.Value);
        Assert.InRange(Math.Abs(fit.Curve.Midpoint - 3.2), 0, 3 * se.Midpoint!.Value);
    }

    [Fact]
    public void FixedFloorStaysAndTheRestIsRecovered()
    {
        var fit = AccuracyCurveFit.Fit("piqa", Points(Truth, 5), fixedFloor: 0.25);
        Assert.True(fit.FloorFixed);
        Assert.Equal(0.25, fit.Curve.Floor);
        Assert.Null(fit.StandardErrors.Floor);
        Assert.Equal(0.80, fit.Curve.Ceiling, 5);
        Assert.Equal(3.2, fit.Curve.Midpoint, 5);
    }

    [Fact]
    public void RisingCurveIsReportedWithPositiveSteepness()
    {
        // Accuracy that rises with loss is the same sigmoid with floor and ceiling swapped, reported with k > 0.
        var rising = new AccuracyCurve(0.8, 0.3, -5, 3.0);
        var fit = AccuracyCurveFit.Fit("odd", Points(rising, 10));
        Assert.Equal(0.3, fit.Curve.Floor, 5);
        Assert.Equal(0.8, fit.Curve.Ceiling, 5);
        Assert.Equal(5, fit.Curve.Steepness, 4);
    }

    [Fact]
    public void CeilingIsHeldAtOneWhenTheFreeFitRunsPastIt()
    {
        // A pure exponential tail, 0.25 + 0.05 exp(-3 (L - 3.5)), is a sigmoid's lower bend with the ceiling at infinity:
        // the free fit runs the ceiling above 1, so it is held at 1 and floor, steepness and midpoint refitted.
        var tail = Enumerable.Range(0, 10).Select(i => 3.0 + 0.1 * i).Select(l => (l, 0.25 + 0.05 * Math.Exp(-3 * (l - 3.5)))).ToList();
        var fit = AccuracyCurveFit.Fit("tail", tail);
        Assert.True(fit.CeilingFixed);
        Assert.Equal(1, fit.Curve.Ceiling);
        Assert.Null(fit.StandardErrors.Ceiling);
        Assert.True(fit.Rmse < 5e-3, $"rmse {fit.Rmse}");
        Assert.False(AccuracyCurveFit.Fit("hellaswag", Points(Truth, 12)).CeilingFixed);
    }

    [Fact]
    public void PredictionsOutsideTheFittedLossesAreMarked()
    {
        var fit = AccuracyCurveFit.Fit("hellaswag", Points(Truth, 12)); // losses 2.4 .. 4.2
        Assert.False(fit.Predict(3.0).Extrapolated);
        Assert.True(fit.Predict(2.0, budget: 1e21).Extrapolated);
        Assert.Equal(Truth.Accuracy(3.0), fit.Predict(3.0).Accuracy, 6);
        Assert.Equal(1e21, fit.Predict(2.0, budget: 1e21).Budget);
    }

    [Fact]
    public void FitsEachTaskSeparately()
    {
        var other = new AccuracyCurve(0.5, 0.7, 4, 3.0);
        var results = Points(Truth, 8).Select(p => new DownstreamResult("a", p.Loss, p.Accuracy))
            .Concat(Points(other, 8).Select(p => new DownstreamResult("b", p.Loss, p.Accuracy))).ToList();
        var fits = AccuracyCurveFit.FitPerTask(results);
        Assert.Equal(["a", "b"], fits.Select(f => f.Task));
        Assert.Equal(0.80, fits[0].Curve.Ceiling, 5);
        Assert.Equal(0.70, fits[1].Curve.Ceiling, 5);
    }

    [Fact]
    public void TooFewPointsOrOneLossAreUserErrors()
    {
        Assert.Contains("at least 4 points", Assert.Throws<UserError>(() => AccuracyCurveFit.Fit("t", Points(Truth, 3))).Message);
        Assert.Contains("same loss", Assert.Throws<UserError>(() => AccuracyCurveFit.Fit("t", [(3.0, 0.4), (3.0, 0.5), (3.0, 0.6), (3.0, 0.7)])).Message);
    }

    [Theory]
    [InlineData("runs.csv line 1: missing column 'accuracy'", "loss,acc", "3,0.5")]
    [InlineData("runs.csv line 2 column 'loss': 0 must be positive", "loss,accuracy", "0,0.5")]
    [InlineData("runs.csv line 2 column 'accuracy': 'n/a' is not a finite number", "task,loss,accuracy", "piqa,3,n/a")]
    public void CsvMistakesNameLineAndColumn(string expected, params string[] lines) =>
        Assert.StartsWith(expected, Assert.Throws<UserError>(() => DownstreamResultsCsv.Parse(lines, "runs.csv")).Message);

    [Fact]
    public void CsvWithoutTaskIsOneTask()
    {
        var rows = DownstreamResultsCsv.Parse(["model,loss,accuracy", "x,3.1,0.41", "y,2.9,0.47"], "r.csv");
        Assert.All(rows, r => Assert.Equal("all", r.Task));
        Assert.Equal(0.47, rows[1].Accuracy);
        Assert.Equal("piqa", DownstreamResultsCsv.Parse(["task,loss,accuracy", "piqa,3,0.6"], "r.csv")[0].Task);
    }
}
