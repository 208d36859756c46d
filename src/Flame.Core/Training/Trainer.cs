using System.Diagnostics;
using System.Text.Json;
using Flame.Data.Samples;
using Flame.Distributed;
using Flame.Model;
using Flame.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Training;

/// <summary>One logged training step (spec §2: every N steps), also a line of metrics.jsonl.</summary>
public sealed record TrainingLog(long Step, double LmLoss, double LoadBalancingLoss, double ZLoss, double Lr, double GradNorm,
    double TokensPerSecond, double ModelTflops, double? Mfu, IReadOnlyList<ExpertLoad> ExpertLoad);

/// <summary>
/// The FLAME-MoE recipe's loop (spec §2): micro-batches accumulated to the global batch, loss = lm + load
/// balancing + z-loss, global-norm clipping, AdamW with the WSD schedule, validation and a checkpoint at
/// evenly spaced steps plus the last. Losses are read back to the host only on logging steps, and one finiteness answer on checkpoint steps.
/// Sample i of step s is sample s * globalBatch + i of the shuffled training stream, so a resumed run sees
/// exactly the data an uninterrupted one would; the model has no dropout, so there is no RNG state to restore.
/// Under a launcher the same loop runs on every rank (<see cref="ParallelTraining"/>: each rank reads its share of
/// the step's samples, gradients are averaged over ranks, rank 0 logs and writes checkpoints); on one process the
/// world is the local group and everything is as before.
/// </summary>
public sealed class Trainer(TrainingConfig config, string runDirectory, ICommunicator? world = null)
{
    public string MetricsPath => Path.Combine(runDirectory, MetricsSink.FileName);

    /// <param name="say">one-line notes for the console: a checkpoint resumed without optimizer state, a torn metrics line repaired.</param>
    public IReadOnlyList<TrainingLog> Run(bool resume, Action<TrainingLog>? onLog = null, CancellationToken cancel = default, Action<string>? say = null)
    {
        config.Validate();
        if (config.Data.Count == 0) throw new UserError("no training data: name a dataset prefix (flame data prepare writes one)");
        var modelConfig = config.ResolveModel();
        if (config.Sequence > modelConfig.MaxPositions)
            throw new UserError($"sequence {config.Sequence} exceeds the model's max positions {modelConfig.MaxPositions}");
        Data.Tokenization.VocabularyFit.Require(config.Tokenizer, modelConfig);
        var device = ProcessWorld.LocalDevice(TorchRuntime.Resolve(DeviceChoiceParser.Parse(config.Device)));
        using var parallel = new ParallelTraining(config, modelConfig, world ?? ProcessWorld.For(device));
        MemoryFit.Require(modelConfig, parallel.Layout, config.Parallel.DistributedOptimizer, device); // before anything is written or allocated
        var configJson = JsonSerializer.Serialize(config, new JsonSerializerOptions { WriteIndented = true });
        if (parallel.IsMain)
        {
            Directory.CreateDirectory(runDirectory);
            Output.OutputFiles.WriteText(Path.Combine(runDirectory, "config.json"), configJson); // replaces a link, never writes through it
            RecordTokenizer();
        }

        var path = DataPath.Parse(config.Data);
        using var train = path.Open(new GptSampleOptions(config.Sequence, SplitName.Train, Seed: config.Seed,
            Samples: config.Iterations * config.GlobalBatch));
        using var validation = new MegatronValidation(config, path);

        manual_seed(config.Seed);
        using var model = new FlameModel(modelConfig);
        model.to(device);
        model.ComputeType = device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32;
        model.CacheWeightCasts = true; // bf16 casts made once per step, dropped after optimizer.step() below
        parallel.Apply(model);
        var schedule = new WsdSchedule(config.Iterations, config.MaxLr, config.MinLr, config.WarmupFraction, config.DecayFraction).Validate();
        using var optimizer = parallel.CreateOptimizer(model, config.Optimizer, config.MaxLr);
        if (parallel.IsMain && optimizer is ShardedOptimizer) // what the distributed optimizer saves, said once
            say?.Invoke($"distributed optimizer: rank 0 holds {optimizer.StateElements:N0} of {2 * model.parameters().Sum(p => p.numel()):N0} AdamW values");
        var store = new CheckpointStore(runDirectory);
        var metrics = parallel.IsMain ? new MetricsSink(runDirectory) : null;
        using var load = new ExpertLoadTracker(modelConfig, device);
        double flopsPerToken = ModelAccounting.Of(modelConfig, config.Sequence).FlopsPerToken;
        double peak = config.PeakTflops > 0 ? config.PeakTflops : device.type == DeviceType.CUDA ? 989.0 : 0;

        long start = 0;
        if (resume)
        {
            // No valid checkpoint is an error naming what is there (a fresh start would replace metrics.jsonl).
            var point = ResumePoint.Find(runDirectory);
            if (!parallel.LoadCheckpoint(point.Folder, model, optimizer) && parallel.IsMain) say?.Invoke(point.FreshOptimizerNote);
            start = point.Step;
            if (metrics?.Reset(start) is { } repaired) say?.Invoke(repaired);
        }
        else metrics?.Reset(null);

        var logs = new List<TrainingLog>();
        var clock = Stopwatch.StartNew();
        long tokensSinceLog = 0;
        var lmSum = zeros(1, device: device).squeeze();
        var balanceSum = zeros(1, device: device).squeeze();
        var zSum = zeros(1, device: device).squeeze();
        int stepsSinceLog = 0;

        for (long step = start; step < config.Iterations; step++)
        {
            cancel.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            double lr = schedule.LearningRate(step);
            optimizer.SetLearningRate(lr);
            optimizer.ZeroGrad();
            for (int micro = 0; micro < parallel.Accumulation; micro++)
            {
                var indices = parallel.Samples(step, micro);
                var tokens = SampleBatch.ToDevice(train, indices, modelConfig.VocabSize, device);
                var output = model.forward(tokens[.., ..^1]);
                var lm = FlameModel.LanguageModelLoss(output.Logits, tokens[.., 1..]);
                var loss = output.TrainingLoss(lm) / parallel.Accumulation;
                loss.backward();
                load.Add(output.Moe);
                lmSum = (lmSum + lm.detach() / parallel.Accumulation).MoveToOuterDisposeScope();
                balanceSum = (balanceSum + output.LoadBalancingLoss.detach() / parallel.Accumulation).MoveToOuterDisposeScope();
                zSum = (zSum + output.ZLoss.detach() / parallel.Accumulation).MoveToOuterDisposeScope();
            }
            var norm = parallel.AverageAndClip(config.Optimizer.ClipNorm);
            optimizer.Step();
            model.RefreshWeightCasts();
            tokensSinceLog += (long)config.GlobalBatch * config.Sequence;
            stepsSinceLog++;

            long done = step + 1;
            // Before the log block resets the loss sums: a checkpoint step checks losses, norm and weights are finite.
            if (config.IsCheckpointStep(done))
                FiniteCheck.Require([lmSum, balanceSum, zSum], norm, model.parameters(), parallel, done, store);
            if (done % config.LogEvery == 0 || done == config.Iterations)
            {
                // The one host read per logging interval (with the ranks' sums, the one collective outside the step).
                lmSum = parallel.MeanOverRanks(lmSum);
                balanceSum = parallel.MeanOverRanks(balanceSum);
                zSum = parallel.MeanOverRanks(zSum);
                load.SumOver(parallel.Groups.World.AllReduceSum);
                double lmMean = lmSum.item<float>() / stepsSinceLog;
                double gradNorm = norm.item<float>();
                if (!double.IsFinite(lmMean) || !double.IsFinite(gradNorm))
                    throw FiniteCheck.Stop(double.IsFinite(lmMean) ? "gradient norm" : "loss", done, store);
                double tokensPerSecond = tokensSinceLog / clock.Elapsed.TotalSeconds;
                double tflops = tokensPerSecond * flopsPerToken / 1e12;
                var log = new TrainingLog(done, lmMean, balanceSum.item<float>() / stepsSinceLog, zSum.item<float>() / stepsSinceLog,
                    lr, gradNorm, tokensPerSecond, tflops, peak > 0 ? tflops / peak : null, load.TakeSummary());
                metrics?.Write(done, new Dictionary<string, double?>
                {
                    ["lm_loss"] = log.LmLoss, ["load_balancing_loss"] = log.LoadBalancingLoss, ["z_loss"] = log.ZLoss,
                    [MegatronAuxLossLog.Field] = MegatronAuxLossLog.LoadBalancing(log.LoadBalancingLoss, modelConfig),
                    ["lr"] = log.Lr, ["grad_norm"] = log.GradNorm, ["tokens_per_s"] = log.TokensPerSecond,
                    ["model_tflops"] = log.ModelTflops, ["mfu"] = log.Mfu,
                }, log.ExpertLoad);
                logs.Add(log);
                onLog?.Invoke(log);
                lmSum = zeros(1, device: device).squeeze().MoveToOuterDisposeScope();
                balanceSum = zeros(1, device: device).squeeze().MoveToOuterDisposeScope();
                zSum = zeros(1, device: device).squeeze().MoveToOuterDisposeScope();
                stepsSinceLog = 0;
                tokensSinceLog = 0;
                clock.Restart();
            }
            if (config.EvaluationCadence.IsDue(done) && validation.Validate(model, done, device, parallel) is double validLoss)
            {
                if (!double.IsFinite(validLoss)) throw FiniteCheck.Stop("validation loss", done, store); // the same on every rank: a mean over ranks
                metrics?.Write(done, new Dictionary<string, double?> { ["val_loss"] = validLoss, ["val_ppl"] = MegatronValidation.Perplexity(validLoss) });
            }
            if (config.IsCheckpointStep(done))
            {
                parallel.SaveCheckpoint(store, done, configJson, model, optimizer);
            }
        }
        // Megatron's test-split evaluation at the end of training (logged once; a finished run resumed keeps it).
        if (!parallel.MainDecides(MegatronValidation.HasTestLoss(MetricsPath), device) && validation.Test(model, device, parallel) is double testLoss)
            metrics?.Write(config.Iterations, new Dictionary<string, double?> { ["test_loss"] = testLoss, ["test_ppl"] = MegatronValidation.Perplexity(testLoss) });
        return logs;
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
            Output.OutputFiles.WriteText(Path.Combine(runDirectory, "tokenizer.txt"), config.Tokenizer);
        else throw new UserError($"{config.Tokenizer}: no such tokenizer (give cl100k_base, o200k_base, demo or a tokenizer.json)");
    }
}
