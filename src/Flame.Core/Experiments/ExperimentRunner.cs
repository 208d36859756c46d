using Flame.Analysis;
using Flame.Data;
using Flame.Evaluation;
using Flame.Reporting;
using Flame.Tracing;
using Flame.Training;

namespace Flame.Experiments;

/// <summary>
/// Composes one experiment's stages over a run folder, in order: data (the demo corpus when none is named),
/// training, then the stages after it. Each stage is a method so the CLI can show its own progress.
/// </summary>
public sealed class ExperimentRunner(ExperimentConfig config, string runDirectory)
{
    public ExperimentConfig Config { get; private set; } = config;
    public string RunDirectory => runDirectory;

    /// <summary>Prepares the demo corpus into the run folder when no data is named, then saves the resolved config.</summary>
    public void PrepareData()
    {
        // A device that cannot start is the user's to fix before anything is written.
        Runtime.ComputeTarget.ResolveDevice(Config.Training.Device);
        // Under a launcher (the layout was checked and recorded when the experiment was loaded): rank 0 prepares and records, the others wait.
        var world = Distributed.ProcessWorld.Communicator;
        if (world.Rank == 0)
        {
            if (Config.Training.Data.Count == 0)
            {
                var prefix = DemoDataset.EnsurePrepared(Output.RunFiles.Data(runDirectory));
                Config = Config with { Training = Config.Training with { Data = [prefix], Tokenizer = "demo" } };
            }
            ExperimentConfigFile.WriteResolved(runDirectory, Config);
        }
        world.Barrier();
        if (world.Rank != 0 && Config.Training.Data.Count == 0)
            Config = Config with { Training = Config.Training with { Data = [DemoDataset.EnsurePrepared(Output.RunFiles.Data(runDirectory))], Tokenizer = "demo" } };
    }

    public IReadOnlyList<TrainingLog> Train(bool resume, Action<TrainingLog>? onLog = null, CancellationToken cancel = default, Action<string>? say = null) =>
        new Trainer(Config.Training, runDirectory).Run(resume, onLog, cancel, say);

    /// <summary>
    /// Held-out perplexity and the configured downstream tasks (spec §4) on the final checkpoint, or on every
    /// checkpoint with evaluation.every_checkpoint; null when there is nothing to evaluate.
    /// </summary>
    public EvalSummary? Evaluate(IProgress<EvalProgress>? progress = null, CancellationToken cancel = default)
    {
        var settings = Config.Evaluation;
        if (settings.Tasks.Count == 0 && settings.PerplexityBatches == 0) return null;
        var options = new EvalOptions
        {
            Tasks = settings.Tasks,
            DataDir = settings.DataDir.Length > 0 ? settings.DataDir : null,
            Limit = settings.Limit > 0 ? settings.Limit : null,
            Device = Config.Training.Device,
            BatchSize = Config.Training.MicroBatch,
            PerplexityBatches = Math.Max(1, settings.PerplexityBatches),
            FewShotSeed = settings.FewShotSeed,
        };
        return Evaluator.EvaluateRun(runDirectory, options, settings.EveryCheckpoint, progress, cancel)[^1];
    }

    /// <summary>Whether the trace and analysis stages run: tracing is on and the model has MoE layers.</summary>
    public bool Traces => Config.Tracing.Enabled && Config.Training.ResolveModel().IsMoe;

    /// <summary>Routing traces of the same held-out tokens at every checkpoint (spec §5), in the published layout.</summary>
    public TraceCaptureResult Trace(Action<string>? onProgress = null) =>
        TraceCapture.Run(runDirectory, new TraceOptions
        {
            Tokens = Config.Tracing.Tokens, Sequence = Config.Training.Sequence, BatchSize = Config.Training.MicroBatch,
            Device = Config.Training.Device, Split = Config.Tracing.Split,
        }, onProgress);

    /// <summary>Specialization, co-activation, router saturation and load balance over the run's traces.</summary>
    public AnalysisResult Analyse(Action<string>? onProgress = null) =>
        TraceAnalysis.Run(runDirectory, new AnalysisOptions(), onProgress);

    /// <summary>The self-contained HTML report of everything the run folder holds; returns its path.</summary>
    public string Report() => ReportWriter.Write(runDirectory);
}
