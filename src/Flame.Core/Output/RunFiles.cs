namespace Flame.Output;

/// <summary>
/// The names of a run folder's files and folders, and their paths under a given run. A run folder holds:
/// <code>
/// RUN/
///   config.toml       the resolved experiment, every key (Experiments/ExperimentConfigFile)
///   config.json       the trainer's TrainingConfig as JSON (Training/Trainer)
///   metrics.jsonl     one JSON line per logged step (Training/MetricsSink)
///   tensorboard/      the same metrics as TensorBoard events
///   tokenizer.json    a copy of the tokenizer file the run used, or
///   tokenizer.txt     the name of the built-in tokenizer it used
///   checkpoints/      iter_NNNNNNN/ folders (Training/CheckpointStore), each with state.json
///   data/             the demo corpus, when the experiment named no data
///   eval/             downstream scores and perplexity (Evaluation/Evaluator)
///   traces/           routing traces in the published layout (Tracing/TraceCapture)
///   analysis/         the analyses' tables and plots (Analysis/TraceAnalysis)
///   report/           index.html and the figures drawn for it (Reporting/ReportWriter)
///   scaling/          figures of a scaling study the user put there; the report shows them
///   .flame-lock       held while a command writes the run (RunLock)
/// </code>
/// Every path into a run folder is built here, so a name is spelled once.
/// </summary>
public static class RunFiles
{
    /// <summary>The bare names, for listings (<see cref="OutputKind.Run"/>) and messages.</summary>
    public static class Name
    {
        public const string ConfigToml = "config.toml";
        public const string ConfigJson = "config.json";
        public const string Metrics = "metrics.jsonl";
        public const string TensorBoard = "tensorboard";
        public const string TokenizerJson = "tokenizer.json";
        public const string TokenizerText = "tokenizer.txt";
        public const string Checkpoints = "checkpoints";
        /// <summary>The file every complete checkpoint folder holds (Training/CheckpointStore.StateFile).</summary>
        public const string CheckpointState = "state.json";
        public const string Data = "data";
        public const string Eval = "eval";
        public const string Traces = "traces";
        public const string Analysis = "analysis";
        public const string Report = "report";
        /// <summary>The report's page, inside <see cref="Report"/>.</summary>
        public const string ReportPage = "index.html";
        /// <summary>The report's own figures, inside <see cref="Report"/>.</summary>
        public const string ReportPlots = "plots";
        public const string Scaling = "scaling";
        public const string Lock = OutputFolder.LockFile;
    }

    /// <summary>What a run writes into its folder: what `--overwrite` may remove (the demo corpus is added when the run prepared it).</summary>
    public static readonly IReadOnlyList<string> Written =
    [
        Name.Checkpoints, Name.Metrics, Name.ConfigToml, Name.ConfigJson, Name.TokenizerJson, Name.TokenizerText,
        Name.TensorBoard, Name.Eval, Name.Traces, Name.Analysis, Name.Report,
    ];

    public static string ConfigToml(string run) => Path.Combine(run, Name.ConfigToml);
    public static string ConfigJson(string run) => Path.Combine(run, Name.ConfigJson);
    public static string Metrics(string run) => Path.Combine(run, Name.Metrics);
    public static string TensorBoard(string run) => Path.Combine(run, Name.TensorBoard);
    public static string TokenizerJson(string run) => Path.Combine(run, Name.TokenizerJson);
    public static string TokenizerText(string run) => Path.Combine(run, Name.TokenizerText);
    public static string Checkpoints(string run) => Path.Combine(run, Name.Checkpoints);
    public static string Data(string run) => Path.Combine(run, Name.Data);
    public static string Eval(string run) => Path.Combine(run, Name.Eval);
    public static string Traces(string run) => Path.Combine(run, Name.Traces);
    public static string Analysis(string run) => Path.Combine(run, Name.Analysis);
    public static string Report(string run) => Path.Combine(run, Name.Report);
    public static string ReportPage(string run) => Path.Combine(run, Name.Report, Name.ReportPage);
    public static string ReportPlots(string run) => Path.Combine(run, Name.Report, Name.ReportPlots);
    public static string Scaling(string run) => Path.Combine(run, Name.Scaling);
    public static string Lock(string run) => Path.Combine(run, Name.Lock);

    /// <summary>Whether <paramref name="folder"/> is a run's checkpoints/ folder (RUN/checkpoints).</summary>
    public static bool IsCheckpointsFolder(string folder) => Path.GetFileName(folder) == Name.Checkpoints;
}
