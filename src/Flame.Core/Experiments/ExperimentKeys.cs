using System.Globalization;
using System.Text.Json;
using Flame.Model;
using Flame.Optimization;
using Flame.Training;

namespace Flame.Experiments;

/// <summary>
/// Every key an experiment config may hold, with its meaning (spec §2 for the recipe's defaults). The
/// model section takes the preset plus any model number (`model.experts`, `model.top_k`, ...), stored as
/// overrides of the preset.
/// </summary>
public static class ExperimentKeys
{
    /// <summary>A key of one part of the experiment (the training run, evaluation or tracing settings).</summary>
    static ConfigKey Key<TPart>(string name, ConfigValueKind kind, string description,
        Func<ExperimentConfig, TPart> part, Func<ExperimentConfig, TPart, ExperimentConfig> withPart,
        Func<TPart, object> get, Func<TPart, ConfigKey, string, TPart> set)
    {
        ConfigKey key = null!;
        key = new ConfigKey(name, kind, description, c => get(part(c)), (c, v) => withPart(c, set(part(c), key, v)));
        return key;
    }

    static ConfigKey Train(string name, ConfigValueKind kind, string description, Func<TrainingConfig, object> get,
        Func<TrainingConfig, ConfigKey, string, TrainingConfig> set) =>
        Key(name, kind, description, c => c.Training, (c, t) => c with { Training = t }, get, set);

    static ConfigKey Optimizer(string name, string description, Func<OptimizerSettings, double> get,
        Func<OptimizerSettings, double, OptimizerSettings> set) =>
        Train(name, ConfigValueKind.Real, description, t => get(t.Optimizer), (t, k, v) => t with { Optimizer = set(t.Optimizer, k.ParseReal(v)) });

    static ConfigKey Eval(string name, ConfigValueKind kind, string description, Func<EvaluationSettings, object> get,
        Func<EvaluationSettings, ConfigKey, string, EvaluationSettings> set) =>
        Key(name, kind, description, c => c.Evaluation, (c, e) => c with { Evaluation = e }, get, set);

    static ConfigKey Trace(string name, ConfigValueKind kind, string description, Func<TracingSettings, object> get,
        Func<TracingSettings, ConfigKey, string, TracingSettings> set) =>
        Key(name, kind, description, c => c.Tracing, (c, t) => c with { Tracing = t }, get, set);

    static ConfigKey Parallel(string name, ConfigValueKind kind, string description, Func<Distributed.ParallelSettings, object> get,
        Func<Distributed.ParallelSettings, ConfigKey, string, Distributed.ParallelSettings> set) =>
        Train(name, kind, description, t => get(t.Parallel), (t, k, v) => t with { Parallel = set(t.Parallel, k, v) });

    /// <summary>A model number: read from the resolved model, written as a `key=value` override of the preset.</summary>
    static ConfigKey ModelNumber(string leaf) => new($"model.{leaf}",
        leaf == "dense_layers" ? ConfigValueKind.TextList : leaf is "rope_base" or "norm_eps" or "init_std" or "aux_loss_coeff" or "z_loss_coeff"
            ? ConfigValueKind.Real : ConfigValueKind.Integer,
        $"model {leaf.Replace('_', ' ')} (default: the preset's)",
        c => ModelValue(c.Training.ResolveModel(), leaf),
        (c, v) => c with { Training = c.Training with { ModelOverrides = [.. c.Training.ModelOverrides, $"{leaf}={v}"] } });

    static object ModelValue(ModelConfig model, string leaf)
    {
        var element = JsonDocument.Parse(ModelConfigJson.Serialize(model)).RootElement.GetProperty(leaf);
        return element.ValueKind == JsonValueKind.Array
            ? element.EnumerateArray().Select(e => e.GetRawText()).ToList()
            : element.TryGetInt64(out var i) ? (object)i : element.GetDouble();
    }

    /// <summary>Every model number of a resolved model as `key=value` overrides, so any architecture fits in a config file.</summary>
    public static IReadOnlyList<string> OverridesFor(ModelConfig model) =>
        Flame.Model.ModelOverrides.Keys.Select(k => $"{k}={Format(ModelValue(model, k))}").ToList();

    /// <summary>
    /// A model override in either spelling, the config key's (`model.experts=32`, as `flame train --set` takes it) or
    /// the bare one (`experts=32`), as the bare `key=value` that <see cref="ModelOverrides.Apply"/> takes. Any other
    /// section's key is a <see cref="UserError"/>; an unknown model number is left for <see cref="ModelOverrides"/> to name.
    /// </summary>
    public static string ModelOverride(string assignment)
    {
        int eq = assignment.IndexOf('=');
        if (eq <= 0) return assignment; // not key=value: ModelOverrides says so
        var key = assignment[..eq].Trim();
        int dot = key.IndexOf('.');
        if (dot < 0) return assignment;
        if (!key[..dot].Equals("model", StringComparison.OrdinalIgnoreCase) || key[(dot + 1)..].Equals("preset", StringComparison.OrdinalIgnoreCase))
            throw new UserError($"'{key}' is not a model number; these overrides take model.KEY=VALUE or KEY=VALUE with KEY one of: " +
                                string.Join(", ", Flame.Model.ModelOverrides.Keys) + (key.EndsWith(".preset", StringComparison.OrdinalIgnoreCase) ? " (name the model with --preset)" : ""));
        return key[(dot + 1)..] + assignment[eq..];
    }

    public static readonly IReadOnlyList<ConfigKey> All =
    [
        Train("data.path", ConfigValueKind.TextList, "dataset prefix, or weights and prefixes (W1, P1, W2, P2, ...) of Megatron indexed datasets; empty = the demo Brown corpus",
            t => t.Data, (t, k, v) => t with { Data = ConfigKey.ParseList(v) }),
        Train("data.tokenizer", ConfigValueKind.Text, "tokenizer the data was prepared with: demo, cl100k_base, o200k_base or a tokenizer.json path",
            t => t.Tokenizer, (t, k, v) => t with { Tokenizer = v }),
        Train("data.seq", ConfigValueKind.Integer, "tokens per training sample (sequence length)",
            t => t.Sequence, (t, k, v) => t with { Sequence = k.ParseInt32(v) }),
        Train("model.preset", ConfigValueKind.Text, $"named model: {string.Join(", ", ModelPresets.Names)}",
            t => t.Preset, (t, k, v) => t with { Preset = v }),
        .. Flame.Model.ModelOverrides.Keys.Select(ModelNumber),
        Train("training.iterations", ConfigValueKind.Integer, "optimizer steps (ignored when training.flop_budget is set)",
            t => t.Iterations, (t, k, v) => t with { Iterations = k.ParseInteger(v) }),
        Train("training.flop_budget", ConfigValueKind.Real, "training FLOPs; when > 0, iterations = floor(C / (6 N tokens_per_step)) with FLAME-MoE's N (spec §3)",
            t => t.FlopBudget, (t, k, v) => t with { FlopBudget = k.ParseReal(v) }),
        Train("training.micro_batch", ConfigValueKind.Integer, "sequences per forward/backward pass",
            t => t.MicroBatch, (t, k, v) => t with { MicroBatch = k.ParseInt32(v) }),
        Train("training.global_batch", ConfigValueKind.Integer, "sequences per optimizer step (a multiple of micro_batch; gradients accumulate)",
            t => t.GlobalBatch, (t, k, v) => t with { GlobalBatch = k.ParseInt32(v) }),
        Train("training.seed", ConfigValueKind.Integer, "seed of the initialisation and the data order",
            t => t.Seed, (t, k, v) => t with { Seed = k.ParseInteger(v) }),
        Train("training.device", ConfigValueKind.Text, "auto (CUDA when present), cpu or cuda; bf16 compute with fp32 masters on CUDA, fp32 on CPU",
            t => t.Device, (t, k, v) => t with { Device = v }),
        Train("training.recompute", ConfigValueKind.Text, "activations recomputed in the backward instead of kept: none, selective (norms, attention core, SwiGLUs of the FFN and experts) or full (each block from its input)",
            t => RecomputeModes.Name(t.Recompute), (t, k, v) => t with { Recompute = RecomputeModes.Parse(v) }),
        Train("training.loss_chunk", ConfigValueKind.Integer, "tokens per chunk of the output layer and cross-entropy, so the [tokens, vocab] logits never exist whole; 0 = all at once",
            t => t.LossChunk, (t, k, v) => t with { LossChunk = k.ParseInt32(v) }),
        Train("training.log_every", ConfigValueKind.Integer, "steps between logged metrics (the only host reads)",
            t => t.LogEvery, (t, k, v) => t with { LogEvery = k.ParseInt32(v) }),
        Train("training.peak_tflops", ConfigValueKind.Real, $"device peak dense TFLOP/s for MFU; 0 = {Runtime.PeakTflops.H100Bf16Dense:G} (H100 bf16) on CUDA, no MFU on CPU",
            t => t.PeakTflops, (t, k, v) => t with { PeakTflops = k.ParseReal(v) }),
        Optimizer("optimizer.beta1", "Adam beta1", o => o.Beta1, (o, v) => o with { Beta1 = v }),
        Optimizer("optimizer.beta2", "Adam beta2", o => o.Beta2, (o, v) => o with { Beta2 = v }),
        Optimizer("optimizer.eps", "Adam epsilon", o => o.Eps, (o, v) => o with { Eps = v }),
        Optimizer("optimizer.weight_decay", "decoupled weight decay on weight matrices (none on 1-D parameters)", o => o.WeightDecay, (o, v) => o with { WeightDecay = v }),
        Optimizer("optimizer.clip_grad", "global gradient-norm clipping threshold", o => o.ClipNorm, (o, v) => o with { ClipNorm = v }),
        Train("optimizer.fused", ConfigValueKind.Boolean, "AdamW's update as libtorch's fused multi-tensor kernel (false: one op at a time per parameter; same formula, other fp32 rounding)",
            t => t.Optimizer.Fused, (t, k, v) => t with { Optimizer = t.Optimizer with { Fused = k.ParseBoolean(v) } }),
        Train("schedule.max_lr", ConfigValueKind.Real, "peak learning rate of the WSD schedule",
            t => t.MaxLr, (t, k, v) => t with { MaxLr = k.ParseReal(v) }),
        Train("schedule.min_lr", ConfigValueKind.Real, "learning rate at the end of the decay",
            t => t.MinLr, (t, k, v) => t with { MinLr = k.ParseReal(v) }),
        Train("schedule.warmup_fraction", ConfigValueKind.Real, "fraction of iterations warming up linearly from 0",
            t => t.WarmupFraction, (t, k, v) => t with { WarmupFraction = k.ParseReal(v) }),
        Train("schedule.decay_fraction", ConfigValueKind.Real, "final fraction of iterations decaying exponentially to min_lr",
            t => t.DecayFraction, (t, k, v) => t with { DecayFraction = k.ParseReal(v) }),
        Train("checkpoints.count", ConfigValueKind.Integer, "evenly spaced checkpoints, the last at the final step (FLAME-MoE: 10)",
            t => t.Checkpoints, (t, k, v) => t with { Checkpoints = k.ParseInt32(v) }),
        Train("checkpoints.interval", ConfigValueKind.Integer, "steps between checkpoints and validations (Megatron's save/eval interval); 0 = floor((iterations - 1) / checkpoints.count)",
            t => t.SaveInterval, (t, k, v) => t with { SaveInterval = k.ParseInteger(v) }),
        Train("evaluation.interval", ConfigValueKind.Integer, "steps between validations, plus one at the end (Megatron's eval_interval); 0 = at every checkpoint, as the release recipes",
            t => t.EvalInterval, (t, k, v) => t with { EvalInterval = k.ParseInteger(v) }),
        Train("evaluation.eval_iters", ConfigValueKind.Integer, "global batches of the validation split scored at every checkpoint, continuing through the split (val_loss; Megatron's eval_iters, 100 in the release recipes)",
            t => t.EvalIters, (t, k, v) => t with { EvalIters = k.ParseInt32(v) }),
        Train("evaluation.test_iters", ConfigValueKind.Integer, "global batches of the test split scored once after training (test_loss; Megatron scores eval_iters); 0 = none",
            t => t.TestIters, (t, k, v) => t with { TestIters = k.ParseInt32(v) }),
        Parallel("parallel.expert", ConfigValueKind.Integer, "expert-parallel size: ranks splitting each MoE layer's experts (divides the ranks and model.experts); data-parallel size = ranks / expert",
            p => p.Expert, (p, k, v) => p with { Expert = k.ParseInt32(v) }),
        Parallel("parallel.distributed_optimizer", ConfigValueKind.Boolean, "shard AdamW's state over the data-parallel ranks (Megatron's distributed optimizer, ZeRO-1)",
            p => p.DistributedOptimizer, (p, k, v) => p with { DistributedOptimizer = k.ParseBoolean(v) }),
        Parallel("parallel.world", ConfigValueKind.Integer, "ranks the run was launched with (recorded at launch: mpirun -np / srun decide it)",
            p => p.World, (p, k, v) => p with { World = k.ParseInt32(v) }),
        Parallel("parallel.data", ConfigValueKind.Integer, "data-parallel size the run used, ranks / expert (recorded at launch)",
            p => p.Data, (p, k, v) => p with { Data = k.ParseInt32(v) }),
        Eval("evaluation.tasks", ConfigValueKind.TextList, "downstream tasks after training: arc_easy, arc_challenge, openbookqa, hellaswag, piqa, winogrande (needs evaluation.data_dir)",
            e => e.Tasks, (e, k, v) => e with { Tasks = ConfigKey.ParseList(v) }),
        Eval("evaluation.data_dir", ConfigValueKind.Text, "folder with the tasks' .jsonl/.parquet files",
            e => e.DataDir, (e, k, v) => e with { DataDir = v }),
        Eval("evaluation.limit", ConfigValueKind.Integer, "examples per task, 0 = all",
            e => e.Limit, (e, k, v) => e with { Limit = k.ParseInt32(v) }),
        Eval("evaluation.every_checkpoint", ConfigValueKind.Boolean, "score the tasks at every checkpoint, not only the final one",
            e => e.EveryCheckpoint, (e, k, v) => e with { EveryCheckpoint = k.ParseBoolean(v) }),
        Eval("evaluation.perplexity_batches", ConfigValueKind.Integer, "micro-batches of held-out tokens for the final perplexity; 0 = skip (at least 1 when evaluation.tasks are set)",
            e => e.PerplexityBatches, (e, k, v) => e with { PerplexityBatches = k.ParseInt32(v) }),
        Eval("evaluation.fewshot_seed", ConfigValueKind.Integer, "seed of the few-shot draws (the harness's default 1234; FLAME-MoE's evaluate.sh passes --seed 42)",
            e => e.FewShotSeed, (e, k, v) => e with { FewShotSeed = k.ParseInteger(v) }),
        Trace("tracing.enabled", ConfigValueKind.Boolean, "capture routing traces at every checkpoint and analyse them (spec §5)",
            t => t.Enabled, (t, k, v) => t with { Enabled = k.ParseBoolean(v) }),
        Trace("tracing.tokens", ConfigValueKind.Integer, "held-out tokens traced per checkpoint (the same ones each time)",
            t => t.Tokens, (t, k, v) => t with { Tokens = k.ParseInt32(v) }),
        Trace("tracing.split", ConfigValueKind.Text, "split whose first samples are traced: test (FLAME-MoE's traces), valid or train",
            t => t.Split, (t, k, v) => t with { Split = Tracing.TraceSplit.Parse(v, k.Name) }),
    ];

    public static ConfigKey Find(string name) =>
        All.FirstOrDefault(k => k.Name == name)
        ?? throw new UserError($"unknown config key '{name}'; did you mean '{Nearest(name)}'? (flame config keys lists them all)");

    /// <summary>The key with the smallest edit distance, comparing leaf names too so `experts` finds `model.experts`.</summary>
    public static string Nearest(string name) =>
        All.MinBy(k => Math.Min(EditDistance(name, k.Name), EditDistance(name, k.Leaf) + 1))!.Name;

    static int EditDistance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    /// <summary>A value in the string form <see cref="ConfigKey.Set"/> takes.</summary>
    public static string Format(object value) => value switch
    {
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IEnumerable<string> list => string.Join(",", list),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
