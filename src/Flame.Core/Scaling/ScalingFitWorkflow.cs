using System.Globalization;

namespace Flame.Scaling;

/// <summary>What `flame scaling fit` fits: a results CSV, and what to add to Approach 2 and Approach 3.</summary>
public sealed record ScalingFitOptions(string Input)
{
    /// <summary>Runs whose FLOPs are within this fraction of each other share an IsoFLOP budget (Approach 2).</summary>
    public double BudgetTolerance { get; init; } = IsoFlopFit.DefaultBudgetTolerance;
    /// <summary>Bootstrap replicates of Approach 3 for 95% intervals; 0 for none.</summary>
    public int Bootstrap { get; init; }
    /// <summary>Seed of the bootstrap resampling.</summary>
    public int Seed { get; init; } = 1234;
    /// <summary>Write the figures (PNG and SVG).</summary>
    public bool Plots { get; init; }
    /// <summary>Where the figures go; null: the CSV's folder.</summary>
    public string? PlotsFolder { get; init; }
}

/// <summary>
/// Both fits of one results CSV. <paramref name="Approach3"/> is null when the runs do not identify the parametric law
/// (<paramref name="Approach3Error"/> says why); <paramref name="Bootstrap"/> is null without replicates or without
/// Approach 3; <paramref name="Plots"/> lists the figure files written.
/// </summary>
public sealed record ScalingFitResult(IReadOnlyList<ScalingRun> Runs, IsoFlopFitResult Approach2, ParametricFitResult? Approach3,
    string? Approach3Error, BootstrapIntervals? Bootstrap, IReadOnlyList<string> Plots);

/// <summary>
/// `flame scaling fit` (spec §3): the results CSV, Approach 2 (<see cref="IsoFlopFit"/>), Approach 3
/// (<see cref="ParametricFit"/>), its bootstrap intervals (<see cref="Scaling.Bootstrap"/>) and the figures
/// (<see cref="Plots.ScalingPlots"/>), in that order. Approach 2 stands on its own: a sweep too small for the
/// parametric fit still gets its profiles and figures; a <see cref="UserError"/> only when neither can be fitted.
/// </summary>
public static class ScalingFitWorkflow
{
    public static ScalingFitResult Run(ScalingFitOptions options)
    {
        var runs = ScalingResultsCsv.Read(options.Input);
        var approach2 = IsoFlopFit.Fit(runs, options.BudgetTolerance);
        if (options.Bootstrap < 0) throw new UserError($"--bootstrap must be 0 or more (got {options.Bootstrap})");
        ParametricFitResult? approach3 = null;
        string? approach3Error = null;
        try { approach3 = ParametricFit.Fit(runs); }
        catch (UserError e) { approach3Error = e.Message; }
        if (!approach2.Fitted && approach3 is null)
            throw new UserError($"nothing could be fitted to {options.Input}: {Approach2Missing(approach2)}; {approach3Error}");
        var intervals = options.Bootstrap > 0 && approach3 is not null ? Scaling.Bootstrap.Run(runs, options.Bootstrap, options.Seed) : null;
        IReadOnlyList<string> plots = [];
        if (options.Plots)
        {
            string folder = options.PlotsFolder ?? Path.GetDirectoryName(Path.GetFullPath(options.Input))!;
            plots = Plots.ScalingPlots.Write(folder, runs, approach2, approach3?.Law);
        }
        return new ScalingFitResult(runs, approach2, approach3, approach3Error, intervals, plots);
    }

    /// <summary>Why Approach 2 has no profile, in one clause.</summary>
    public static string Approach2Missing(IsoFlopFitResult a2) =>
        $"Approach 2 needs a budget with runs of at least {IsoFlopFit.MinimumSizes} model sizes, and none of the {a2.LeftOut.Count} budgets " +
        $"(FLOPs grouped within {a2.BudgetTolerance.ToString("0.###%", CultureInfo.InvariantCulture)}; --budget-tolerance) has them";
}
