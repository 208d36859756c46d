using System.CommandLine;
using System.Diagnostics;
using Flame.Checkpointing;
using Flame.Generation;
using Flame.Runtime;
using Flame.Training;

namespace Flame.Cli.Commands;

/// <summary>`flame generate`: continue a prompt with a checkpoint, streaming the text as it is sampled.</summary>
public static class GenerateCommands
{
    public static Command Create()
    {
        var defaults = new GenerationOptions();
        var (checkpoint, run) = CheckpointOptions.Create();
        var prompt = new Option<string>("--prompt") { Description = "text to continue", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "new tokens at most", DefaultValueFactory = _ => defaults.MaxTokens };
        var temperature = new Option<double>("--temperature") { Description = "0 for greedy; higher is more random", DefaultValueFactory = _ => defaults.Temperature };
        var topK = new Option<int>("--top-k") { Description = "sample among the k most likely tokens (0: all)", DefaultValueFactory = _ => defaults.TopK };
        var topP = new Option<double>("--top-p") { Description = "sample within the most likely tokens reaching this probability (1: all)", DefaultValueFactory = _ => defaults.TopP };
        var seed = new Option<int>("--seed") { Description = "sampling seed", DefaultValueFactory = _ => defaults.Seed };
        var noCache = new Option<bool>("--no-cache") { Description = "re-run the whole sequence every step instead of using the KV cache" };
        var ignoreEnd = new Option<bool>("--ignore-eos") { Description = "keep going past the end-of-document token" };
        var device = CommonOptions.Device();
        var dtype = CommonOptions.Dtype("fp32");
        var command = new Command("generate", "continue a prompt with a checkpoint (KV cache, temperature, top-k, top-p), streaming the text")
            { checkpoint, run, prompt, maxTokens, temperature, topK, topP, seed, noCache, ignoreEnd, device, dtype };
        command.SetAction(parse =>
        {
            var options = new GenerationOptions(parse.GetValue(maxTokens), parse.GetValue(temperature), parse.GetValue(topK),
                parse.GetValue(topP), parse.GetValue(seed), !parse.GetValue(noCache), !parse.GetValue(ignoreEnd)).Validate();
            var target = ComputeTarget.Resolve(parse.GetValue(device)!, parse.GetValue(dtype) ?? "fp32");
            using var opened = TrainedCheckpoint.Load(CheckpointOptions.Resolve(parse, checkpoint, run), target.Device);
            opened.Model.ComputeType = target.ComputeType;
            var tokenizer = opened.LoadTokenizer();
            var text = parse.GetValue(prompt)!;
            // Training puts the end-of-document token before every document, so a prompt starts after one.
            var ids = tokenizer.Encode(text).Prepend(tokenizer.EndOfDocumentId).ToList();
            var outside = ids.FirstOrDefault(id => id >= opened.Config.PaddedVocab, -1);
            if (outside >= 0)
                throw new UserError($"the tokenizer ({tokenizer.Name}) gave id {outside}, outside the model's {opened.Config.PaddedVocab}-token vocabulary");

            var generator = new TextGenerator(opened.Model, Math.Min(tokenizer.VocabSize, opened.Config.PaddedVocab), tokenizer.EndOfDocumentId);
            var stream = new StreamingText(tokenizer);
            Console.Write(text);
            var clock = Stopwatch.StartNew();
            int count = 0;
            foreach (var id in generator.Generate(ids, options))
            {
                count++;
                if (id == tokenizer.EndOfDocumentId && options.StopAtEndOfDocument) break;
                Console.Write(stream.Push(id));
                Console.Out.Flush();
            }
            Console.WriteLine(stream.Flush());
            Console.Error.WriteLine($"{count} tokens in {clock.Elapsed.TotalSeconds:N2} s ({count / Math.Max(clock.Elapsed.TotalSeconds, 1e-9):N1} tokens/s, " +
                                    $"{(options.UseCache ? "KV cache" : "no cache")}, step {opened.Step}, {target.Device.type.ToString().ToLowerInvariant()})");
            return 0;
        });
        return command;
    }
}
