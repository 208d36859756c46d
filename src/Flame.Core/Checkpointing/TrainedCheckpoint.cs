using Flame.Data.Tokenization;
using Flame.Distributed;
using Flame.Model;
using Flame.Output;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Checkpointing;

/// <summary>
/// A checkpoint opened for use outside training (evaluation, tracing, export, generation): its step, the
/// resolved model config (model.json), the tokenizer the run used, and the model with its weights loaded.
/// A checkpoint folder is checkpoints/iter_NNNNNNN with model.bin, model.json and state.json (plus
/// optimizer.bin when written by the trainer).
/// </summary>
public sealed class TrainedCheckpoint : IDisposable
{
    public const string TokenizerFile = RunFiles.Name.TokenizerJson;

    public required string Folder { get; init; }
    public required long Step { get; init; }
    public required ModelConfig Config { get; init; }
    /// <summary>As <see cref="TokenizerLoader.Load"/> takes it: a built-in name or a tokenizer.json path.</summary>
    public required string Tokenizer { get; init; }
    public required FlameModel Model { get; init; }

    public TextTokenizer LoadTokenizer() => TokenizerLoader.Load(Tokenizer);

    /// <summary>
    /// Opens a checkpoint folder, or the newest valid checkpoint of a run folder, onto a device (CPU by default),
    /// in eval mode with fp32 compute (set <see cref="FlameModel.ComputeType"/> for bf16).
    /// </summary>
    public static TrainedCheckpoint Load(string checkpointOrRun, Device? device = null)
    {
        var folder = Resolve(checkpointOrRun);
        var config = ModelConfigJson.Read(folder);
        var state = CheckpointStore.ReadState(folder)
            ?? throw new UserError($"{folder}: checkpoint files are missing or do not match their SHA-256 in {CheckpointStore.StateFile}");
        var model = new FlameModel(config);
        try
        {
            using var local = ProcessGroups.Local();
            Checkpoint.Load(folder, model, local, optimizer: null);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        if (device is not null) model.to(device);
        model.eval();
        return new TrainedCheckpoint
        {
            Folder = folder, Step = state.Step, Config = config, Tokenizer = TokenizerOf(folder), Model = model,
        };
    }

    /// <summary>Every valid checkpoint of a run, oldest first.</summary>
    public static IReadOnlyList<(long Step, string Folder)> List(string runDirectory) =>
        new CheckpointStore(runDirectory).All().Select(c => (c.State.Step, c.Folder)).ToList();

    /// <summary>
    /// The run's tokenizer: tokenizer.json beside the checkpoints (the trainer copies file-based tokenizers
    /// there), else the built-in name recorded in tokenizer.txt.
    /// </summary>
    static string TokenizerOf(string checkpointFolder)
    {
        var run = Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpointFolder)))!;
        foreach (var dir in new[] { checkpointFolder, run })
        {
            if (File.Exists(Path.Combine(dir, TokenizerFile))) return Path.Combine(dir, TokenizerFile);
            var named = Path.Combine(dir, RunFiles.Name.TokenizerText);
            if (File.Exists(named)) return File.ReadAllText(named).Trim();
        }
        return "demo";
    }

    static string Resolve(string path)
    {
        if (File.Exists(Path.Combine(path, ModelConfigJson.FileName))) return path;
        if (Directory.Exists(RunFiles.Checkpoints(path)))
            return new CheckpointStore(path).Latest()?.Folder
                ?? throw new UserError($"{path}: the run has no valid checkpoint");
        throw new UserError($"{path}: neither a checkpoint folder (with {ModelConfigJson.FileName}) nor a run folder (with checkpoints/)");
    }

    public void Dispose() => Model.Dispose();
}
