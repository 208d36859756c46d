using Flame.Checkpointing;
using Flame.Evaluation.Tasks;
using Flame.Runtime;
using Flame.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Evaluation;

/// <summary>
/// Entry points of downstream evaluation (spec §4): a checkpoint (or a run's newest, or every checkpoint of a
/// run) scored on the harness's tasks and, optionally, validation perplexity. Results go to RUN/eval/:
/// &lt;task&gt;.json per task, perplexity.json, summary.json (the schema the run report renders), and with --log-samples
/// samples_&lt;task&gt;.jsonl.
/// </summary>
public static class Evaluator
{
    public const string FolderName = Output.RunFiles.Name.Eval;
    public const string SummaryFile = "summary.json";
    public const string PerplexityFile = "perplexity.json";

    /// <summary>A task with its data loaded and its number of shots settled.</summary>
    sealed record LoadedTask(TaskDefinition Task, TaskSplit Eval, TaskSplit? Train, int Shots);

    /// <summary>Scores one checkpoint folder (or a run's newest checkpoint) and writes its results.</summary>
    public static EvalSummary EvaluateCheckpoint(string checkpointOrRun, EvalOptions options, IProgress<EvalProgress>? progress = null, CancellationToken cancel = default)
    {
        options.Validate();
        // Read every task file before loading the model, so a missing file fails fast.
        var tasks = LoadTasks(options);
        var (device, computeType) = ComputeTarget.On(ComputeTarget.ResolveDevice(options.Device), options.ComputeType);
        using var checkpoint = TrainedCheckpoint.Load(checkpointOrRun, device);
        checkpoint.Model.ComputeType = computeType;
        var runDir = RunFolderOf(checkpoint.Folder);
        var output = options.OutputDir ?? Path.Combine(runDir ?? checkpoint.Folder, FolderName);

        var results = new List<TaskResult>();
        if (tasks.Count > 0)
        {
            var tokenizer = checkpoint.LoadTokenizer();
            if (tokenizer.VocabSize > checkpoint.Config.PaddedVocab)
                throw new UserError($"tokenizer {tokenizer.Name} has {tokenizer.VocabSize} tokens but the model's vocabulary holds {checkpoint.Config.PaddedVocab}");
            var scorer = new LoglikelihoodScorer(checkpoint.Model, device, options.BatchSize);
            foreach (var t in tasks)
            {
                var result = TaskEvaluator.Run(t.Task, t.Eval, t.Train, t.Shots, options, tokenizer, scorer, checkpoint.Step, progress, cancel);
                EvalJson.Write(Path.Combine(output, $"{t.Task.Name}.json"), result);
                if (result.Samples is { } samples) SampleLog.Write(Path.Combine(output, SampleLog.FileName(t.Task.Name)), samples);
                results.Add(result);
            }
        }

        PerplexityResult? perplexity = null;
        if (options.PerplexityData is { } data)
        {
            var settings = RunSettings.Read(runDir);
            int sequence = options.PerplexitySequence ?? Math.Min(settings.Sequence ?? checkpoint.Config.MaxPositions, checkpoint.Config.MaxPositions);
            perplexity = PerplexityEvaluation.Run(checkpoint.Model, device, data, sequence, options.PerplexityBatches, options.BatchSize,
                settings.Seed ?? 1234, checkpoint.Step, options.PerplexitySplit, progress, cancel);
            EvalJson.Write(Path.Combine(output, PerplexityFile), perplexity);
        }

        var summary = EvalSummary.Of(checkpoint.Step, results, perplexity);
        EvalJson.Write(Path.Combine(output, SummaryFile), summary);
        return summary;
    }

    /// <summary>
    /// Scores a run's newest checkpoint into RUN/eval (or, with <paramref name="allCheckpoints"/>, every checkpoint
    /// into RUN/eval/iter_NNNNNNN and the newest also into RUN/eval). Perplexity defaults to the run's own data
    /// (its held-out validation split) when no token file is named.
    /// </summary>
    public static IReadOnlyList<EvalSummary> EvaluateRun(string runDirectory, EvalOptions options, bool allCheckpoints = false,
        IProgress<EvalProgress>? progress = null, CancellationToken cancel = default)
    {
        var checkpoints = TrainedCheckpoint.List(runDirectory);
        if (checkpoints.Count == 0) throw new UserError($"{runDirectory}: the run has no valid checkpoint");
        if (options.PerplexityData is null && RunSettings.Read(runDirectory).Data is { } runData && runData.All(DatasetExists))
            options = options with { PerplexityData = runData };
        var output = options.OutputDir ?? Path.Combine(runDirectory, FolderName);
        var summaries = new List<EvalSummary>();
        foreach (var (step, folder) in allCheckpoints ? checkpoints : [checkpoints[^1]])
        {
            var into = allCheckpoints ? Path.Combine(output, CheckpointStore.FolderName(step)) : output;
            summaries.Add(EvaluateCheckpoint(folder, options with { OutputDir = into }, progress, cancel));
        }
        if (allCheckpoints)
            foreach (var file in Directory.GetFiles(Path.Combine(output, CheckpointStore.FolderName(checkpoints[^1].Step))))
                File.Copy(file, Path.Combine(output, Path.GetFileName(file)), overwrite: true);
        return summaries;
    }

    /// <summary>RUN for RUN/checkpoints/iter_NNNNNNN, else null.</summary>
    public static string? RunFolderOf(string checkpointFolder)
    {
        var full = Path.GetFullPath(checkpointFolder).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full);
        return parent is not null && Output.RunFiles.IsCheckpointsFolder(parent) ? Path.GetDirectoryName(parent) : null;
    }

    static bool DatasetExists(string word) =>
        File.Exists(word + ".idx") || double.TryParse(word, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _);

    static List<LoadedTask> LoadTasks(EvalOptions options)
    {
        var loaded = new List<LoadedTask>();
        foreach (var task in options.SelectedTasks())
        {
            int shots = options.ShotsFor(task);
            var eval = TaskSplit.Load(task, options.DataDir!, task.EvalSplit);
            var train = shots > 0 ? TaskSplit.Load(task, options.DataDir!, task.TrainSplit) : null;
            int needed = FewShotSampler.PoolNeeded(shots, task.DrawsExtraShot);
            if (train is not null && train.Docs.Count < needed)
                throw new UserError($"{task.Name}: {shots}-shot needs {needed} training rows{(needed > shots ? " (the harness draws one more for a task without a test split)" : "")}; " +
                                    $"{string.Join(", ", train.Files)} has {train.Docs.Count} usable");
            loaded.Add(new LoadedTask(task, eval, train, shots));
        }
        return loaded;
    }
}
