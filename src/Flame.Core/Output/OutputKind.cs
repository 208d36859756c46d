namespace Flame.Output;

/// <summary>
/// What a command writes into a folder: the marker's kind, the entries it owns (what --overwrite may remove,
/// and nothing else) and how to recognise a folder of this kind that an older Flame wrote before markers existed.
/// </summary>
public sealed record OutputKind(string Name, IReadOnlyList<string> Owns, Func<string, bool> WrittenBefore)
{
    /// <summary>A run folder: training, evaluation, traces, analyses and the report (data/ only for the demo corpus).</summary>
    public static readonly OutputKind Run = new("run", RunFiles.Written,
        folder => Directory.Exists(RunFiles.Checkpoints(folder))
                  && Directory.EnumerateFiles(RunFiles.Checkpoints(folder), RunFiles.Name.CheckpointState, SearchOption.AllDirectories).Any()
                  || File.Exists(RunFiles.ConfigToml(folder)) && File.Exists(RunFiles.Metrics(folder)));

    /// <summary>Routing traces in the published layout; manifest.json is this platform's own file.</summary>
    public static readonly OutputKind Traces = new("traces", ["samples", "actives", "manifest.json"],
        folder => File.Exists(Path.Combine(folder, "manifest.json")));

    /// <summary>A Hugging Face export; flame_model.json is this platform's own file.</summary>
    public static readonly OutputKind HfExport = new("hf-export",
        ["config.json", "flame_model.json", "model.safetensors", "model.safetensors.index.json", "model-*-of-*.safetensors",
         "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json", "parity"],
        folder => File.Exists(Path.Combine(folder, "flame_model.json")));

    /// <summary>`flame analyze --output D`: the analyses' tables (Analysis/AnalysisTables.cs) and plots.</summary>
    public static readonly OutputKind Analysis = new("analysis",
        ["analysis.json", "load_balance.csv", "load_balance_summary.csv", "coactivation_top16.csv", "coactivation_summary.csv", "coactivation.json",
         "saturation.csv", "specialization_top.csv", "specialization_summary.csv", "specialization_evolution.csv", "plots"],
        folder => File.Exists(Path.Combine(folder, "analysis.json")));

    /// <summary>
    /// `flame eval --output D`: the scores (Evaluation/Evaluator.cs), the harness-style sample logs, one folder per checkpoint.
    /// The task names are Evaluation/Tasks/HarnessTasks.Names, spelled here so that Output depends on nothing above it;
    /// OutputKindTests checks that the two lists agree.
    /// </summary>
    public static readonly OutputKind Eval = new("eval",
        ["summary.json", "perplexity.json", .. EvalTasks.SelectMany(task => new[] { $"{task}.json", $"samples_{task}.jsonl" }), "iter_*"],
        folder => File.Exists(Path.Combine(folder, "summary.json"))
                  && EvalTasks.Append("perplexity").Any(name => File.Exists(Path.Combine(folder, name + ".json"))));

    /// <summary>The downstream tasks whose files an eval folder holds (HarnessTasks.Names).</summary>
    public static IReadOnlyList<string> EvalTasks => ["arc_easy", "arc_challenge", "openbookqa", "hellaswag", "piqa", "winogrande"];

    /// <summary>`flame scaling plan --out SWEEP`: the planned configs and the runs trained from them, and results.csv.</summary>
    public static readonly OutputKind ScalingSweep = new("scaling-sweep", ["runs", "results.csv"],
        folder => Directory.Exists(Path.Combine(folder, "runs")) && Directory.EnumerateFiles(Path.Combine(folder, "runs"), "*.toml").Any()
                  && File.ReadLines(Directory.EnumerateFiles(Path.Combine(folder, "runs"), "*.toml").First()).FirstOrDefault()?.StartsWith("# IsoFLOP run") == true);

    /// <summary>`flame analyze bench`'s synthetic traces, removed afterwards unless --keep.</summary>
    public static readonly OutputKind AnalysisBench = new("analysis-bench", ["samples", "actives", "manifest.json", RunFiles.Name.Analysis], _ => false);
}
