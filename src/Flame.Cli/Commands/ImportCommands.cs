using System.CommandLine;
using Flame.Interop;

namespace Flame.Cli.Commands;

/// <summary>`flame import hf`: a Hugging Face Qwen2MoE or Llama folder as a Flame checkpoint.</summary>
public static class ImportCommands
{
    public static Command Create() => new("import", "bring models from other tools' formats") { Hf() };

    static Command Hf()
    {
        var model = new Option<string>("--model") { Description = "Hugging Face folder (config.json, model.safetensors or shards with an index)", Required = true };
        var output = new Option<string>("--out") { Description = "run folder to write (checkpoints/iter_0000000, tokenizer.json)", Required = true };
        var command = new Command("hf", "import a Qwen2MoE (Flame's MoE layout) or Llama (dense) folder into a checkpoint") { model, output };
        command.SetAction(parse =>
        {
            Flame.Runtime.TorchRuntime.Initialize(); // FLAME_LIBTORCH, if set, must load before TorchSharp's own
            var result = HfImport.Run(parse.GetValue(model)!, parse.GetValue(output)!);
            var c = result.Config;
            var shape = c.IsMoe ? $"{c.Experts} experts, top-{c.TopK}, dense layers {string.Join(",", c.DenseLayers)}" : "dense";
            Console.WriteLine($"wrote {result.Checkpoint}: {result.Architecture} '{c.Name}', {c.Layers} layers, h={c.Hidden}, {shape}, {result.Tensors} tensors");
            if (result.TokenizerNote is not null) Console.WriteLine($"note: {result.TokenizerNote}");
            return 0;
        });
        return command;
    }
}
