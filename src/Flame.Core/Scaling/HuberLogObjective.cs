namespace Flame.Scaling;

/// <summary>
/// Approach 3's objective (spec §3, Hoffmann et al. 2022): the mean Huber loss (delta 1e-3) of
/// log L_obs - log L_pred over the runs, in the variables theta = [e, a, alpha, b, beta] with
/// E = exp(e), A = exp(a), B = exp(b). log L_pred = logsumexp(a - alpha ln N, b - beta ln D, e), which
/// stays finite where A/N^alpha alone would overflow. Value and analytic gradient together.
/// </summary>
public sealed class HuberLogObjective
{
    public const double DefaultDelta = 1e-3;
    readonly double[] _logN, _logD, _logL;
    readonly double _delta;

    public HuberLogObjective(IReadOnlyList<ScalingRun> runs, double delta = DefaultDelta)
    {
        _logN = runs.Select(r => Math.Log(r.Params)).ToArray();
        _logD = runs.Select(r => Math.Log(r.Tokens)).ToArray();
        _logL = runs.Select(r => Math.Log(r.Loss)).ToArray();
        _delta = delta;
    }

    public double Evaluate(ReadOnlySpan<double> theta, Span<double> gradient)
    {
        double e = theta[0], a = theta[1], alpha = theta[2], b = theta[3], beta = theta[4];
        gradient.Clear();
        double sum = 0;
        int n = _logN.Length;
        for (int i = 0; i < n; i++)
        {
            double tA = a - alpha * _logN[i], tB = b - beta * _logD[i];
            double m = Math.Max(e, Math.Max(tA, tB));
            double xA = Math.Exp(tA - m), xB = Math.Exp(tB - m), xE = Math.Exp(e - m);
            double z = xA + xB + xE;
            double r = m + Math.Log(z) - _logL[i];
            double dr; // d huber / d r
            if (Math.Abs(r) <= _delta) { sum += 0.5 * r * r; dr = r; }
            else { sum += _delta * (Math.Abs(r) - 0.5 * _delta); dr = _delta * Math.Sign(r); }
            double wA = dr * xA / z, wB = dr * xB / z, wE = dr * xE / z;
            gradient[0] += wE;
            gradient[1] += wA;
            gradient[2] -= wA * _logN[i];
            gradient[3] += wB;
            gradient[4] -= wB * _logD[i];
        }
        for (int k = 0; k < 5; k++) gradient[k] /= n;
        return sum / n;
    }

    public double Evaluate(ReadOnlySpan<double> theta) => Evaluate(theta, stackalloc double[5]);
}
