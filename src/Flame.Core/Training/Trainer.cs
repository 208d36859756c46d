using System.Text.Json;
using Flame.Checkpointing;
using Flame.Data.Samples;
using Flame.Distributed;
using Flame.Model;
using Flame.Runtime;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>One logged training step (spec §2: every N steps), also a line of metrics.jsonl.</summary>
public sealed record TrainingLog(long Step, double LmLoss, double LoadBalancingLoss, double ZLoss, double Lr, double GradNorm,
    double TokensPerSecond, double ModelTflops, double? Mfu, IReadOnlyList<ExpertLoad> ExpertLoad);

/// <summary>
/// The FLAME-MoE recipe's loop (spec §2): <see cref="TrainingStep"/> per iteration at the WSD schedule's learning rate,
/// logs every training.log_every steps, validation at its cadence, a checkpoint at evenly spaced steps plus the last,
/// and the test split at the end. Losses are read to the host only on logging steps, plus one finiteness answer on
/// checkpoint steps. Sample i of step s is sample s * globalBatch + i of the shuffled training stream, so a resumed
/// run sees exactly the data an uninterrupted one would; the model has no dropout, so there is no RNG state to restore.
/// The loop is the same on every rank of a launched job (each reads its share of a step's samples; rank 0 logs and
/// writes) as on one process. The config comes resolved and checked: loading an experiment checks every number and records the layout.
/// </summary>
public sealed class Trainer(TrainingConfig config, string runDirectory, ICommunicator? world = null)
{
    public string MetricsPath => Output.RunFiles.Metrics(runDirectory);

    /// <param name="say">one-line notes for the console: a checkpoint resumed without optimizer state, a torn metrics line repaired.</param>
    public IReadOnlyList<TrainingLog> Run(bool resume, Action<TrainingLog>? onLog = null, CancellationToken cancel = default, Action<string>? say = null)
    {
        var modelConfig = config.ResolveModel();
        var device = ProcessWorld.LocalDevice(ComputeTarget.ResolveDevice(config.Device));
        var layout = config.Parallel.Layout;
        MemoryFit.Require(MemoryFit.RequestFor(config, modelConfig, device), device, ProcessWorld.IsMain ? say : null); // before anything is written or allocated
        var configJson = JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true });
        var communicator = world ?? ProcessWorld.For(device);
        if (communicator.Rank == 0) WriteRunRecord(configJson);

        var data = DataPath.Parse(config.Data);
        using var validation = new MegatronValidation(config, data);
        using var step = TrainingStep.Build(StepOptionsFor(config, modelConfig, device), layout, communicator);
        using var train = TokenBatches.FromFile(config.Data, config.Sequence, config.Seed, config.Iterations * config.GlobalBatch,
            step.Sampler, modelConfig.VocabSize, device);
        bool main = step.Groups.IsMain;
        if (main && step.Optimizer is Optimization.DistributedOptimizer) // what the distributed optimizer saves, said once
            say?.Invoke($"distributed optimizer: rank 0 holds {step.Optimizer.StateElements:N0} of {2 * step.Model.parameters().Sum(p => p.numel()):N0} AdamW values");
        var schedule = new WsdSchedule(config.Iterations, config.MaxLr, config.MinLr, config.WarmupFraction, config.DecayFraction).Validate();
        var store = new CheckpointStore(runDirectory);
        var metrics = main ? new MetricsSink(runDirectory) : null;
        long start = resume ? Resume(step, metrics, say) : 0;
        if (!resume) metrics?.Reset(null);

        using var log = new LogInterval(device, ModelAccounting.Of(modelConfig, config.Sequence).FlopsPerToken, PeakTflops.For(device, config.PeakTflops));
        var logs = new List<TrainingLog>();
        for (long s = start; s < config.Iterations; s++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            double lr = schedule.LearningRate(s);
            var gradNorm = step.Run(s, lr, train, log.Sums);
            log.AddTokens((long)config.GlobalBatch * config.Sequence);
            long done = s + 1;
            // Before the log resets the loss sums: a checkpoint step checks losses, norm and weights are finite.
            if (config.IsCheckpointStep(done))
                FiniteCheck.Require([log.Sums.Lm, log.Sums.LoadBalancing, log.Sums.Z], gradNorm, step.Model.parameters(), step.Groups, done, store);
            if (done % config.LogEvery == 0 || done == config.Iterations)
            {
                var entry = log.Take(done, lr, gradNorm, step, store);
                metrics?.Write(entry, modelConfig);
                logs.Add(entry);
                onLog?.Invoke(entry);
            }
            if (config.EvaluationCadence.IsDue(done)) Validate(validation, step, done, device, metrics, store);
            if (config.IsCheckpointStep(done))
                Checkpoint.Save(store, done, configJson, step.Model, step.Groups, step.Optimizer);
        }
        Test(validation, step, device, metrics);
        return logs;
    }

    /// <summary>The validation loss at a step of the evaluation cadence; a non-finite one stops the run (the same on every rank: a mean over ranks).</summary>
    static void Validate(MegatronValidation validation, TrainingStep step, long done, Device device, MetricsSink? metrics, CheckpointStore store)
    {
        if (validation.Validate(step.Model, done, device, step.Groups) is not double loss) return;
        if (!double.IsFinite(loss)) throw FiniteCheck.Stop("validation loss", done, store);
        metrics?.Write(done, new Dictionary<string, double?> { ["val_loss"] = loss, ["val_ppl"] = MegatronValidation.Perplexity(loss) });
    }

    /// <summary>Megatron's test-split evaluation at the end of training (logged once; a finished run resumed keeps it).</summary>
    void Test(MegatronValidation validation, TrainingStep step, Device device, MetricsSink? metrics)
    {
        if (!step.Groups.MainDecides(MegatronValidation.HasTestLoss(MetricsPath), device) && validation.Test(step.Model, device, step.Groups) is double loss)
            metrics?.Write(config.Iterations, new Dictionary<string, double?> { ["test_loss"] = loss, ["test_ppl"] = MegatronValidation.Perplexity(loss) });
    }

    /// <summary>The step the trainer builds for a config: its model, dtype, batches, optimizer and layout options.</summary>
    public static StepOptions StepOptionsFor(TrainingConfig config, ModelConfig model, Device device) =>
        new(model, device, ComputeTarget.DefaultComputeType(device), config.MicroBatch, config.GlobalBatch, config.Optimizer, config.Seed,
            config.MaxLr, config.Parallel.DistributedOptimizer, Recompute: config.Recompute, LossChunk: config.LossChunk);

    /// <summary>Loads the last valid checkpoint (an error naming each invalid one when there is none) and returns its step.</summary>
    long Resume(TrainingStep step, MetricsSink? metrics, Action<string>? say)
    {
        var point = ResumePoint.Find(runDirectory);
        if (!Checkpoint.Load(point.Folder, step.Model, step.Groups, step.Optimizer) && step.Groups.IsMain) say?.Invoke(point.FreshOptimizerNote);
        step.Model.RefreshWeightCasts();
        if (metrics?.Reset(point.Step) is { } repaired) say?.Invoke(repaired);
        return point.Step;
    }

    /// <summary>config.json and the tokenizer, written by rank 0 before training.</summary>
    void WriteRunRecord(string configJson)
    {
        Directory.CreateDirectory(runDirectory);
        Output.OutputFiles.WriteText(Output.RunFiles.ConfigJson(runDirectory), configJson); // replaces a link, never writes through it
        RecordTokenizer();
    }

    /// <summary>
    /// Keeps the run self-contained: a file tokenizer is copied to the run folder, a built-in one is named
    /// in tokenizer.txt (<see cref="TrainedCheckpoint"/> reads either).
    /// </summary>
    void RecordTokenizer()
    {
        var source = config.Tokenizer == "demo" ? Data.DemoAssets.TokenizerPath()
            : Directory.Exists(config.Tokenizer) ? Path.Combine(config.Tokenizer, TrainedCheckpoint.TokenizerFile) : config.Tokenizer;
        if (File.Exists(source))
            Output.OutputFiles.Copy(source, Path.Combine(runDirectory, TrainedCheckpoint.TokenizerFile));
        else if (Data.Tokenization.TokenizerLoader.BuiltIn.Contains(config.Tokenizer))
            Output.OutputFiles.WriteText(Output.RunFiles.TokenizerText(runDirectory), config.Tokenizer);
        else throw new UserError($"{config.Tokenizer}: no such tokenizer (give cl100k_base, o200k_base, demo or a tokenizer.json)");
    }
}
