using Flame.Checkpointing;
using Flame.Model;
using Flame.Optimization;

namespace Flame.Training;

/// <summary>
/// One training run, as plain values (spec §2 defaults where the spec gives them; CPU-sized otherwise).
/// <see cref="Data"/> is a Megatron-style data path ("PREFIX" or "W1 P1 W2 P2 ..."); empty means the demo corpus.
/// </summary>
public sealed record TrainingConfig
{
    public string Preset { get; init; } = "demo";
    public IReadOnlyList<string> ModelOverrides { get; init; } = [];
    public IReadOnlyList<string> Data { get; init; } = [];
    /// <summary>The tokenizer the data was prepared with (cl100k_base, o200k_base, demo or a tokenizer.json path).</summary>
    public string Tokenizer { get; init; } = "demo";
    public int Sequence { get; init; } = 256;
    public int MicroBatch { get; init; } = 8;
    public int GlobalBatch { get; init; } = 16;
    /// <summary>The demo's 240 steps take about 3 minutes on 2 idle cores (bench/RESULTS.md, "The demo run").</summary>
    public long Iterations { get; init; } = 240;
    /// <summary>When positive, iterations come from this training-FLOP budget by FLAME-MoE's formula (spec §3).</summary>
    public double FlopBudget { get; init; }
    /// <summary>
    /// The demo's peak: 1e-3 suits its 128-wide model and 4096-token steps (3e-4 left it near the unigram loss in its
    /// few minutes). FLAME-MoE's recipe is 3e-4 / 3e-5 (spec §2), as the release recipes in configs/ set.
    /// </summary>
    public double MaxLr { get; init; } = 1e-3;
    public double MinLr { get; init; } = 1e-4;
    public double WarmupFraction { get; init; } = 0.01;
    public double DecayFraction { get; init; } = 0.1;
    public int Checkpoints { get; init; } = 10;
    /// <summary>Steps between checkpoints (Megatron's --save-interval, also its --eval-interval); 0 = from <see cref="Checkpoints"/>.</summary>
    public long SaveInterval { get; init; }
    public int LogEvery { get; init; } = 5;
    /// <summary>Activations the backward recomputes instead of keeping (memory for time; the same numbers).</summary>
    public RecomputeMode Recompute { get; init; } = RecomputeMode.None;
    /// <summary>Tokens per chunk of the output layer and loss (0: the whole [tokens, vocab] logits at once).</summary>
    public int LossChunk { get; init; }
    /// <summary>
    /// Global batches of the validation split per evaluation (Megatron's --eval-iters; its default and the release
    /// recipes' is 100), each evaluation continuing through the split where the last one stopped.
    /// </summary>
    public int EvalIters { get; init; } = 2;
    /// <summary>
    /// Steps between validations (Megatron's --eval-interval) plus one at the end; 0 = with every checkpoint, as the
    /// release recipes (EVAL_INTERVAL = SAVE_INTERVAL). The demo validates every 10 steps to draw its curve.
    /// </summary>
    public long EvalInterval { get; init; } = 10;
    /// <summary>Global batches of the test split scored once after training (Megatron uses eval_iters); 0 = none.</summary>
    public int TestIters { get; init; } = 2;
    public long Seed { get; init; } = 1234;
    public string Device { get; init; } = "auto";
    public OptimizerSettings Optimizer { get; init; } = new();
    /// <summary>Peak dense TFLOP/s of the device for MFU; 0 = <see cref="Runtime.PeakTflops.For"/>.</summary>
    public double PeakTflops { get; init; }
    /// <summary>How the ranks of a launched job divide the work (`[parallel]`); nothing to set for one process.</summary>
    public Distributed.ParallelSettings Parallel { get; init; } = new();

    /// <summary>The preset with this run's overrides applied.</summary>
    public ModelConfig ResolveModel() => Flame.Model.ModelOverrides.Apply(ModelPresets.Get(Preset), this.ModelOverrides).Validate();

    /// <summary>This config with <see cref="Iterations"/> taken from <see cref="FlopBudget"/> when one is set.</summary>
    public TrainingConfig WithBudgetApplied()
    {
        if (FlopBudget <= 0) return this;
        // Counted in double first: a budget far beyond the model would overflow the long iteration count.
        double steps = ModelAccounting.BudgetSteps(ResolveModel(), FlopBudget, (long)GlobalBatch * Sequence);
        if (steps < 1) throw new UserError($"a budget of {FlopBudget:G3} FLOPs is less than one step of {Preset}");
        if (steps * GlobalBatch > MaxSamples)
            throw new UserError($"training.flop_budget = {FlopBudget:G4} gives {steps:G4} iterations x global batch {GlobalBatch} = " +
                $"{steps * GlobalBatch:G4} samples, more than the {MaxSamples:N0} a training stream can index; lower the budget");
        return this with { Iterations = (long)steps };
    }

    /// <summary>Samples a training stream can hold: its shuffled sample order is one array (Megatron's shuffle index too).</summary>
    public static long MaxSamples => Array.MaxLength;

    /// <summary>When checkpoints and validation happen (spec §2: 10 + the final one).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public CheckpointCadence Cadence => CheckpointCadence.For(Iterations, Checkpoints, SaveInterval);

    /// <summary>Steps after which a checkpoint is written: every save interval and the last.</summary>
    public bool IsCheckpointStep(long completedSteps) => Cadence.IsDue(completedSteps);

    /// <summary>When validation happens: every <see cref="EvalInterval"/> steps and at the end, or with the checkpoints.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public CheckpointCadence EvaluationCadence => EvalInterval > 0 ? new CheckpointCadence(Iterations, EvalInterval) : Cadence;

    /// <summary>
    /// The checks between keys (each number's own range is checked beside it when an
    /// experiment is loaded): the batch sizes agree and the stream can index the samples.
    /// </summary>
    public TrainingConfig Validate()
    {
        if (GlobalBatch % MicroBatch != 0)
            throw new UserError($"global batch {GlobalBatch} must be a positive multiple of the micro-batch {MicroBatch}");
        if ((double)Iterations * GlobalBatch > MaxSamples)
            throw new UserError($"training.iterations {Iterations} x training.global_batch {GlobalBatch} = {(double)Iterations * GlobalBatch:G4} samples, " +
                $"more than the {MaxSamples:N0} a training stream can index");
        return this;
    }
}
