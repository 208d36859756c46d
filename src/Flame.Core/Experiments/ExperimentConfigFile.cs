using System.Globalization;
using System.Text;
using Tomlyn.Model;
using Tomlyn;

namespace Flame.Experiments;

/// <summary>
/// Reads an experiment from a TOML file plus `section.key=value` overrides (later wins), validates it, and
/// writes the fully resolved experiment back as documented TOML (saved as config.toml in the run folder).
/// </summary>
public static class ExperimentConfigFile
{
    public const string ResolvedFileName = Output.RunFiles.Name.ConfigToml;

    /// <summary>Keys a run records (the launcher decides them) and nobody sets.</summary>
    static readonly string[] Recorded = ["parallel.world", "parallel.data"];

    /// <param name="path">a TOML file, or null for the defaults (the demo experiment).</param>
    /// <param name="overrides">`section.key=value` assignments applied after the file.</param>
    /// <param name="written">the file is one Flame wrote (a run's config.toml, a sweep's plan): its recorded layout is
    /// replaced by this job's; in any other file a recorded key must agree with this job's layout.</param>
    public static ExperimentConfig Load(string? path, IEnumerable<string> overrides, bool written = false)
    {
        var config = new ExperimentConfig();
        var given = new List<(string Key, string Value, string Source)>();
        if (path is not null)
        {
            if (!File.Exists(path)) throw new UserError($"{path}: no such config file");
            var assignments = Flatten(Parse(path)).ToList();
            if (!written) given.AddRange(assignments.Where(a => Recorded.Contains(a.Key)).Select(a => (a.Key, a.Value, path)));
            config = Apply(config, assignments, path);
        }
        foreach (var assignment in overrides)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new UserError($"override '{assignment}' is not section.key=value (flame config keys lists the keys)");
            var key = assignment[..eq].Trim();
            if (Recorded.Contains(key))
                throw new UserError($"--set {key}: the run records it from the launcher (mpirun -np N or srun decide the ranks, parallel.expert how they split); leave it out");
            config = Apply(config, [(key, assignment[(eq + 1)..].Trim())], "--set");
        }
        var resolved = Resolve(config);
        foreach (var (key, value, source) in given)
        {
            var actual = ExperimentKeys.Format(ExperimentKeys.Find(key).Get(resolved));
            if (actual != value)
                throw new UserError($"{source}: {key} = {value}, but this job's layout has {key} = {actual} ({resolved.Training.Parallel.Layout.Describe()}); " +
                                    "the launcher decides it: remove the key, or launch the job it names");
        }
        return resolved;
    }

    /// <summary>
    /// Validates everything that can be checked before training (every number in its range, the batch sizes, the
    /// sequence against the model), fixes iterations from a FLOP budget, and records the layout of this job's ranks
    /// (<see cref="Distributed.ParallelLayout.Resolve"/>, against the model's experts and the batch): the one check of an experiment.
    /// </summary>
    public static ExperimentConfig Resolve(ExperimentConfig config)
    {
        ConfigRanges.Check(config);
        var training = config.Training.Validate().WithBudgetApplied();
        var model = training.ResolveModel();
        if (training.Sequence > model.MaxPositions)
            throw new UserError($"data.seq {training.Sequence} exceeds model.max_positions {model.MaxPositions}");
        if (config.Evaluation.Tasks.Count > 0 && config.Evaluation.DataDir.Length == 0)
            throw new UserError("evaluation.tasks needs evaluation.data_dir, the folder holding the task files");
        var layout = Distributed.ParallelLayout.Resolve(Distributed.ProcessWorld.Launch.Size, training.Parallel, model.Experts,
            training.MicroBatch, training.GlobalBatch);
        return config with { Training = training with { Parallel = layout.Record(training.Parallel) } };
    }

    static TomlTable Parse(string path)
    {
        try
        {
            var text = File.ReadAllText(path);
            // TOML forbids a key or table defined twice, but deserializing to a table keeps the last one (a silent
            // override); the syntax tree's semantic validation reports them, with every other error.
            var syntax = Tomlyn.Parsing.SyntaxParser.Parse(text, path, validate: true);
            if (syntax.Diagnostics.FirstOrDefault(d => d.Kind == Tomlyn.Syntax.DiagnosticMessageKind.Error) is { } error)
                throw new UserError($"{path}: not valid TOML: line {error.Span.Start.Line + 1}: {error.Message.Split('\n')[0]}");
            return TomlSerializer.Deserialize<TomlTable>(text) ?? new TomlTable();
        }
        catch (TomlException e)
        {
            throw new UserError($"{path}: not valid TOML: {e.Message.Split('\n')[0]}");
        }
    }

    static IEnumerable<(string Key, string Value)> Flatten(TomlTable root)
    {
        foreach (var (section, body) in root)
        {
            if (body is not TomlTable table)
                throw new UserError($"'{section}' must be inside a section such as [training]; did you mean '{ExperimentKeys.Nearest(section)}'?");
            foreach (var (leaf, value) in table)
                yield return ($"{section}.{leaf}", value switch
                {
                    TomlArray array => string.Join(",", array.Select(ToText)),
                    TomlTable => throw new UserError($"{section}.{leaf}: nested tables are not config keys"),
                    _ => ToText(value),
                });
        }
    }

    static string ToText(object? value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

    static ExperimentConfig Apply(ExperimentConfig config, IEnumerable<(string Key, string Value)> assignments, string source)
    {
        foreach (var (key, value) in assignments)
        {
            try { config = ExperimentKeys.Find(key).Set(config, value); }
            catch (UserError e) { throw new UserError($"{source}: {e.Message}"); }
        }
        return config;
    }

    /// <summary>The resolved experiment as TOML, every key present and commented with its meaning.</summary>
    public static string ToToml(ExperimentConfig config)
    {
        var text = new StringBuilder("# Flame experiment (resolved: every key, with the values this run used)\n");
        foreach (var section in ExperimentKeys.All.GroupBy(k => k.Section))
        {
            text.Append($"\n[{section.Key}]\n");
            foreach (var key in section)
                text.Append($"# {key.Description}\n{key.Leaf} = {TomlValue(key, key.Get(config))}\n");
        }
        return text.ToString();
    }

    static string TomlValue(ConfigKey key, object value) => value switch
    {
        IEnumerable<string> list when key.Kind == ConfigValueKind.TextList =>
            "[" + string.Join(", ", list.Select(item => double.TryParse(item, NumberStyles.Float, CultureInfo.InvariantCulture, out _) && key.Name.StartsWith("model.") ? item : Quote(item))) + "]",
        string s => Quote(s),
        double d when double.IsFinite(d) && d == Math.Floor(d) && Math.Abs(d) < 1e6 => d.ToString("0.0", CultureInfo.InvariantCulture),
        double d when Math.Abs(d) >= 1e6 => d.ToString("0.###############e+0", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e"),
        _ => ExperimentKeys.Format(value),
    };

    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    public static void WriteResolved(string runDirectory, ExperimentConfig config)
    {
        Directory.CreateDirectory(runDirectory);
        var path = Output.RunFiles.ConfigToml(runDirectory);
        Output.OutputFiles.WriteText(path, ToToml(config));
    }
}
