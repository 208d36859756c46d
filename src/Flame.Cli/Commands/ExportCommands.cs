using System.CommandLine;
using Flame.Checkpointing;
using Flame.Interop;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Cli.Commands;

/// <summary>`flame export hf`: a checkpoint as a Hugging Face transformers folder.</summary>
public static class ExportCommands
{
    public static Command Create() => new("export", "write a checkpoint in other tools' formats") { Hf() };

    static Command Hf()
    {
        var (checkpoint, run) = CheckpointOptions.Create();
        var output = new OutOption("folder to write (default: RUN/export/hf)");
        var dtype = new Option<string>("--dtype") { Description = "weights dtype: fp32 (exact) or bf16", DefaultValueFactory = _ => "fp32" };
        var shard = new Option<long>("--max-shard-mb") { Description = "model.safetensors up to this size, shards and an index above it", DefaultValueFactory = _ => 5000 };
        var noParity = new Option<bool>("--no-parity") { Description = "skip parity/ (fixed ids and this platform's logits for scripts/check-hf-parity.py)" };
        var overwrite = CommonOptions.Overwrite("write into an --out Flame did not write, removing only the files an export writes there");
        var command = new Command("hf", "Hugging Face folder: config.json, safetensors, tokenizer; MoE as Qwen2MoeForCausalLM, dense as LlamaForCausalLM")
            { checkpoint, run, output, dtype, shard, noParity, overwrite };
        command.SetAction(parse =>
        {
            Flame.Runtime.TorchRuntime.Initialize(); // FLAME_LIBTORCH, if set, must load before TorchSharp's own
            var source = CheckpointOptions.Resolve(parse, checkpoint, run);
            var type = Flame.Runtime.ComputeTarget.ParseDtype(parse.GetValue(dtype)) ?? ScalarType.Float32;
            using var opened = TrainedCheckpoint.Load(source);
            var folder = output.Get(parse) ?? Path.Combine(CheckpointOptions.RunOf(opened.Folder), "export", "hf");
            var result = HfExport.Write(opened, folder, new HfExportOptions(type, parse.GetValue(shard) * 1_000_000, !parse.GetValue(noParity), parse.GetValue(overwrite)) { Say = Console.WriteLine });
            Console.WriteLine(
                $"wrote {result.Folder}: {result.Architecture} from step {result.Step}, {result.WeightBytes / 1e6:N1} MB of weights in {string.Join(", ", result.Files)}");
            if (result.TokenizerNote is not null) Console.WriteLine($"note: {result.TokenizerNote}");
            if (!parse.GetValue(noParity)) Console.WriteLine($"check with transformers: python3 scripts/check-hf-parity.py {result.Folder}\n  (torch alone: python3 scripts/check-hf-reference.py {result.Folder})");
            return 0;
        });
        return command;
    }
}

/// <summary>--checkpoint PATH or --run DIR (the run's newest valid checkpoint): exactly one of them.</summary>
static class CheckpointOptions
{
    public static (Option<string> Checkpoint, Option<string> Run) Create() =>
        (new Option<string>("--checkpoint") { Description = "checkpoint folder (RUN/checkpoints/iter_NNNNNNN)" },
         new Option<string>("--run") { Description = "run folder: its newest valid checkpoint" });

    public static string Resolve(ParseResult parse, Option<string> checkpoint, Option<string> run) =>
        (parse.GetValue(checkpoint), parse.GetValue(run)) switch
        {
            ({ } c, null) => c,
            (null, { } r) => r,
            (null, null) => throw new UserError("name a checkpoint with --checkpoint PATH or --run DIR"),
            _ => throw new UserError("give either --checkpoint or --run, not both"),
        };

    /// <summary>The run folder a checkpoint folder sits in (RUN/checkpoints/iter_NNNNNNN).</summary>
    public static string RunOf(string checkpointFolder) =>
        Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(checkpointFolder)))!;
}
