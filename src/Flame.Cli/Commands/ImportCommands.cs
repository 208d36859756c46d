using System.CommandLine;
using Flame.Interop.Megatron;
using Flame.Interop;

namespace Flame.Cli.Commands;

/// <summary>`flame import hf|megatron|megatron-traces`: other tools' models and the original's routing traces in Flame's formats.</summary>
public static class ImportCommands
{
    public static Command Create() => new("import", "bring models from other tools' formats") { Hf(), Megatron(), MegatronTraces() };

    static Command Hf()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face folder (config.json, model.safetensors or shards with an index)", Required = true };
        var output = new OutOption("run folder to write (checkpoints/iter_0000000, tokenizer.json)", "RUN", required: true);
        var command = new Command("hf", "import a Qwen2MoE (Flame's MoE layout) or Llama (dense) folder into a checkpoint") { model, output };
        command.SetAction(parse =>
        {
            Flame.Runtime.TorchRuntime.Initialize(); // FLAME_LIBTORCH, if set, must load before TorchSharp's own
            var result = HfImport.Run(parse.GetValue(model)!, output.Get(parse)!);
            var c = result.Config;
            var shape = c.IsMoe ? $"{c.Experts} experts, top-{c.TopK}, dense layers {string.Join(",", c.DenseLayers)}" : "dense";
            Console.WriteLine($"wrote {result.Checkpoint}: {result.Architecture} '{c.Name}', {c.Layers} layers, h={c.Hidden}, {shape}, {result.Tensors} tensors");
            if (result.TokenizerNote is not null) Console.WriteLine($"note: {result.TokenizerNote}");
            return 0;
        });
        return command;
    }

    static Command Megatron()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "Megatron-LM --save folder (iter_NNNNNNN, latest_checkpointed_iteration.txt) or one iteration folder", Required = true };
        var output = new OutOption("new or empty run folder to write (checkpoints/iter_NNNNNNN)", "RUN", required: true);
        var iteration = new Option<long?>("--iteration") { Description = "iteration to import (default: latest_checkpointed_iteration.txt)" };
        var command = new Command("megatron", "import a Megatron-LM checkpoint of a FLAME-MoE model (torch_dist or legacy, expert-parallel shards) into a run folder") { checkpoint, output, iteration };
        command.SetAction(parse =>
        {
            Flame.Runtime.TorchRuntime.Initialize();
            var result = MegatronImport.Run(parse.GetValue(checkpoint)!, output.Get(parse)!, parse.GetValue(iteration));
            var c = result.Config;
            var shape = c.IsMoe ? $"{c.Experts} experts, top-{c.TopK}, dense layers {string.Join(",", c.DenseLayers)}" : "dense";
            Console.WriteLine($"wrote {result.Checkpoint}: {result.Format} iteration {result.Iteration}, '{c.Name}', {c.Layers} layers, h={c.Hidden}, {shape}, {result.Tensors} tensors");
            Console.WriteLine($"note: no tokenizer is stored in a Megatron checkpoint (it was trained with {result.TokenizerModel ?? "an unnamed tokenizer"}); " +
                              $"put its tokenizer.json in the run folder, or commands fall back to the demo tokenizer");
            return 0;
        });
        return command;
    }

    static Command MegatronTraces()
    {
        var input = new Option<string>("--input") { Description = "the original's capture folder: actives/STEP/LAYER/N-RANK.pt and samples/N-RANK.pt", Required = true };
        var output = new OutOption("new or empty folder for the published layout (samples/, actives/, manifest.json)", "TRACES", required: true);
        var seq = new Option<int>("--seq") { Description = "sequence length of the capture (FLAME-MoE: 2048)", DefaultValueFactory = _ => 2048 };
        var experts = new Option<int>("--experts") { Description = "experts per MoE layer, recorded in the manifest", DefaultValueFactory = _ => 64 };
        var command = new Command("megatron-traces", "convert FLAME-MoE's raw routing capture shards into the published Parquet layout, rows aligned with the token ids") { input, output, seq, experts };
        command.SetAction(parse =>
        {
            Flame.Runtime.TorchRuntime.Initialize();
            var result = MegatronTraceImport.Run(parse.GetValue(input)!, output.Get(parse)!, parse.GetValue(seq), parse.GetValue(experts));
            Console.WriteLine($"wrote {result.Folder}: {result.Tokens} tokens, {result.Checkpoints} checkpoints x {result.Layers} layers, top-{result.TopK}" +
                              $" (routing rows reordered from [seq, batch] to the token ids' [batch, seq], micro-batch {result.MicroBatch})");
            return 0;
        });
        return command;
    }
}
