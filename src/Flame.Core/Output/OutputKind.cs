namespace Flame.Output;

/// <summary>
/// What a command writes into a folder: the marker's kind, the entries it owns (what --overwrite may remove,
/// and nothing else) and how to recognise a folder of this kind that an older Flame wrote before markers existed.
/// </summary>
public sealed record OutputKind(string Name, IReadOnlyList<string> Owns, Func<string, bool> WrittenBefore)
{
    /// <summary>A run folder: training, evaluation, traces, analyses and the report (data/ only for the demo corpus).</summary>
    public static readonly OutputKind Run = new("run",
        ["checkpoints", "metrics.jsonl", "config.toml", "config.json", "tokenizer.json", "tokenizer.txt", "tensorboard", "eval", "traces", "analysis", "report"],
        folder => Directory.Exists(Path.Combine(folder, "checkpoints")) && Directory.EnumerateFiles(Path.Combine(folder, "checkpoints"), "state.json", SearchOption.AllDirectories).Any()
                  || File.Exists(Path.Combine(folder, "config.toml")) && File.Exists(Path.Combine(folder, "metrics.jsonl")));

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

    /// <summary>`flame eval --output D`: the scores (Evaluation/Evaluator.cs), the harness-style sample logs, one folder per checkpoint.</summary>
    public static readonly OutputKind Eval = new("eval",
        ["summary.json", "perplexity.json", .. Evaluation.Tasks.HarnessTasks.Names.SelectMany(task => new[] { $"{task}.json", $"samples_{task}.jsonl" }), "iter_*"],
        folder => File.Exists(Path.Combine(folder, "summary.json"))
                  && Evaluation.Tasks.HarnessTasks.Names.Append("perplexity").Any(name => File.Exists(Path.Combine(folder, name + ".json"))));

    /// <summary>`flame scaling plan --out SWEEP`: the planned configs and the runs trained from them, and results.csv.</summary>
    public static readonly OutputKind ScalingSweep = new("scaling-sweep", ["runs", "results.csv"],
        folder => Directory.Exists(Path.Combine(folder, "runs")) && Directory.EnumerateFiles(Path.Combine(folder, "runs"), "*.toml").Any()
                  && File.ReadLines(Directory.EnumerateFiles(Path.Combine(folder, "runs"), "*.toml").First()).FirstOrDefault()?.StartsWith("# IsoFLOP run") == true);

    /// <summary>`flame analyze bench`'s synthetic traces, removed afterwards unless --keep.</summary>
    public static readonly OutputKind AnalysisBench = new("analysis-bench", ["samples", "actives", "manifest.json", "analysis"], _ => false);
}
