using System.CommandLine;
using System.Diagnostics;
using Flame.Data.Readers;
using Flame.Data.Tokenization;
using Flame.Data;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame tokenizer train` (byte-level BPE to tokenizer.json) and `flame tokenizer encode`.</summary>
public static class TokenizerCommands
{
    public static Command Create() => new("tokenizer", "train and try tokenizers") { Train(), Encode() };

    static Command Train()
    {
        var inputs = DataOptions.Inputs();
        var vocab = new Option<int>("--vocab-size") { Description = "tokens in the vocabulary, specials and the 256 bytes included", DefaultValueFactory = _ => 8192 };
        var output = new OutOption("tokenizer.json to write", "FILE", required: true);
        var textField = DataOptions.TextField();
        var skipBad = DataOptions.SkipBad();
        var overwrite = CommonOptions.Overwrite("replace an existing --out file");
        var format = DataOptions.Format();
        var command = new Command("train", "train a byte-level BPE tokenizer (id 0 = <|endoftext|>) and write a Hugging Face tokenizer.json")
            { inputs, vocab, output, textField, skipBad, format, overwrite };
        command.SetAction(parse =>
        {
            var path = output.Get(parse)!;
            Flame.Output.OutputFiles.RequireNew(output.Spelling(parse), parse.GetValue(overwrite), path);
            var files = CorpusInputs.Expand(parse.GetValue(inputs) is { Length: > 0 } named ? named : [DemoAssets.CorpusPath()]);
            var log = new CorpusReadLog();
            var clock = Stopwatch.StartNew();
            var texts = CorpusReader.Read(files, new CorpusReadOptions(parse.GetValue(textField)!, parse.GetValue(skipBad), CorpusFormats.Parse(parse.GetValue(format))), log).Select(d => d.Text);
            var model = ComputeDisplay.Status("training BPE...", _ => BpeTrainer.Train(texts, new BpeTrainerOptions(parse.GetValue(vocab))));
            TokenizerJsonWriter.Write(path, model);
            AnsiConsole.MarkupLineInterpolated($"wrote {path}: {model.VocabSize:N0} tokens, {model.Merges.Count:N0} merges, in {clock.Elapsed.TotalSeconds:N1} s");
            if (log.Skipped > 0) AnsiConsole.MarkupLineInterpolated($"[yellow]skipped {log.Skipped:N0} bad records[/]");
            return 0;
        });
        return command;
    }

    static Command Encode()
    {
        var tokenizer = DataOptions.Tokenizer();
        var text = new Argument<string>("text") { Description = "text to encode" };
        var command = new Command("encode", "print the ids of a text and decode them back") { tokenizer, text };
        command.SetAction(parse =>
        {
            var t = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var ids = t.Encode(parse.GetValue(text)!);
            Console.WriteLine(string.Join(' ', ids));
            Console.WriteLine(t.Decode(ids));
            return 0;
        });
        return command;
    }
}
