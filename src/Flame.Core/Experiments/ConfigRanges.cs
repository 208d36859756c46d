using System.Globalization;

namespace Flame.Experiments;

/// <summary>The values a number may take, as a user reads them ("> 0", "in [0, 1)").</summary>
public sealed record ConfigRange(string Text, Func<double, bool> Allows)
{
    public static readonly ConfigRange Positive = new("> 0", v => v > 0);
    public static readonly ConfigRange NonNegative = new(">= 0", v => v >= 0);
    public static readonly ConfigRange AtLeastOne = new(">= 1", v => v >= 1);
    public static readonly ConfigRange Fraction = new("in [0, 1]", v => v is >= 0 and <= 1);
    /// <summary>Adam's betas: 1 would never forget, and the bias correction 1 - beta^t would divide by 0.</summary>
    public static readonly ConfigRange Beta = new("in [0, 1)", v => v is >= 0 and < 1);
}

/// <summary>
/// Every number of an experiment is range-checked when the config is loaded, one line per refusal naming
/// the key, the value and the range, and no real number may be NaN or infinite (TOML has nan and inf literals).
/// The model's numbers (model.*) are checked by <see cref="Model.ModelConfig.Validate"/>, which imported and saved
/// models pass through too; this table covers every other numeric key, and a test requires each to have a range.
/// </summary>
public static class ConfigRanges
{
    static readonly Dictionary<string, ConfigRange> Ranges = new()
    {
        ["data.seq"] = ConfigRange.AtLeastOne,
        ["training.iterations"] = ConfigRange.AtLeastOne,
        ["training.flop_budget"] = ConfigRange.NonNegative,
        ["training.micro_batch"] = ConfigRange.AtLeastOne,
        ["training.global_batch"] = ConfigRange.AtLeastOne,
        ["training.seed"] = ConfigRange.NonNegative,
        ["training.log_every"] = ConfigRange.AtLeastOne,
        ["training.loss_chunk"] = ConfigRange.NonNegative,
        ["training.peak_tflops"] = ConfigRange.NonNegative,
        ["optimizer.beta1"] = ConfigRange.Beta,
        ["optimizer.beta2"] = ConfigRange.Beta,
        ["optimizer.eps"] = ConfigRange.Positive,
        ["optimizer.weight_decay"] = ConfigRange.NonNegative,
        ["optimizer.clip_grad"] = ConfigRange.Positive, // <= 0 would scale gradients by a negative factor: gradient ascent
        ["schedule.max_lr"] = ConfigRange.Positive,
        ["schedule.min_lr"] = ConfigRange.NonNegative,
        ["schedule.warmup_fraction"] = ConfigRange.Fraction,
        ["schedule.decay_fraction"] = ConfigRange.Fraction,
        ["checkpoints.count"] = ConfigRange.AtLeastOne,
        ["checkpoints.interval"] = ConfigRange.NonNegative,
        ["evaluation.interval"] = ConfigRange.NonNegative,
        ["evaluation.eval_iters"] = ConfigRange.NonNegative,
        ["evaluation.test_iters"] = ConfigRange.NonNegative,
        ["parallel.expert"] = ConfigRange.AtLeastOne,
        ["parallel.world"] = ConfigRange.NonNegative,
        ["parallel.data"] = ConfigRange.NonNegative,
        ["evaluation.limit"] = ConfigRange.NonNegative,
        ["evaluation.perplexity_batches"] = ConfigRange.NonNegative,
        ["evaluation.fewshot_seed"] = ConfigRange.NonNegative,
        ["tracing.tokens"] = ConfigRange.AtLeastOne,
    };

    /// <summary>The range of a key, or null for a key that is not a number or is a model number.</summary>
    public static ConfigRange? Of(string key) => Ranges.GetValueOrDefault(key);

    /// <summary>Throws a <see cref="UserError"/> naming the first number outside its range.</summary>
    public static void Check(ExperimentConfig config)
    {
        foreach (var key in ExperimentKeys.All)
        {
            if (key.Kind is not (ConfigValueKind.Integer or ConfigValueKind.Real) || key.Section == "model") continue;
            double value = Convert.ToDouble(key.Get(config), CultureInfo.InvariantCulture);
            var range = Of(key.Name) ?? throw new InvalidOperationException($"{key.Name} has no range in ConfigRanges");
            if (!double.IsFinite(value) || !range.Allows(value))
                throw new UserError($"{key.Name} = {ExperimentKeys.Format(key.Get(config))}: out of range; allowed: " +
                    $"{(key.Kind == ConfigValueKind.Real ? "a finite number" : "an integer")} {range.Text}");
        }
    }
}
