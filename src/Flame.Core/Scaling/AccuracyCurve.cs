namespace Flame.Scaling;

/// <summary>
/// The downstream link (spec §4 names the tasks but no functional form; a sigmoid is the usual choice): task accuracy as a falling
/// sigmoid of validation loss, acc(L) = Floor + (Ceiling - Floor) / (1 + exp(Steepness (L - Midpoint))).
/// Floor is the accuracy at high loss (chance, for a multiple-choice task), Ceiling the accuracy as loss falls,
/// Midpoint the loss halfway between them, Steepness &gt; 0 how sharply accuracy rises around it.
/// </summary>
public sealed record AccuracyCurve(double Floor, double Ceiling, double Steepness, double Midpoint)
{
    public double Accuracy(double loss) => Floor + (Ceiling - Floor) * Rise(loss);

    /// <summary>1 / (1 + exp(k (L - L0))): 0 at high loss, 1 at low loss (exp overflowing to infinity gives 0, as it should).</summary>
    public double Rise(double loss) => 1 / (1 + Math.Exp(Steepness * (loss - Midpoint)));

    /// <summary>The same curve written with Steepness &gt; 0; (f, c, k) and (c, f, -k) describe one function.</summary>
    public AccuracyCurve Normalised() => Steepness < 0 ? new AccuracyCurve(Ceiling, Floor, -Steepness, Midpoint) : this;

    public double[] ToArray() => [Floor, Ceiling, Steepness, Midpoint];
    public static AccuracyCurve FromArray(IReadOnlyList<double> p) => new(p[0], p[1], p[2], p[3]);
}
