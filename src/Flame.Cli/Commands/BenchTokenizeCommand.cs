using System.CommandLine;
using System.Diagnostics;
using Flame.Data.Tokenization;

namespace Flame.Cli.Commands;

/// <summary>`flame bench tokenize`: seconds to encode one long document without whitespace (issue 15's worst case).</summary>
public static class BenchTokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = DataOptions.Tokenizer();
        var bytes = new Option<int>("--bytes") { Description = "document length in chars", DefaultValueFactory = _ => 1_000_000 };
        var seed = new Option<int>("--seed") { Description = "seed of the random letters", DefaultValueFactory = _ => 1 };
        var library = new Option<bool>("--library-only") { Description = "time Microsoft.ML.Tokenizers' own encode (the path before issue 15)" };
        var command = new Command("tokenize", "time encoding one document of random lowercase letters without whitespace") { tokenizer, bytes, seed, library };
        command.SetAction(parse =>
        {
            var loaded = TokenizerLoader.Load(parse.GetValue(tokenizer)!);
            var random = new Random(parse.GetValue(seed));
            var text = new string(Enumerable.Range(0, parse.GetValue(bytes)).Select(_ => (char)('a' + random.Next(26))).ToArray());
            loaded.Encode("warm up");
            var clock = Stopwatch.StartNew();
            var ids = parse.GetValue(library) ? loaded.Inner.EncodeToIds(text) : loaded.Encode(text);
            Console.WriteLine($"{loaded.Name}: {text.Length:N0} chars -> {ids.Count:N0} tokens in {clock.Elapsed.TotalSeconds:N2} s{(parse.GetValue(library) ? " (library only)" : "")}");
            if (parse.GetValue(library)) return 0;
            // The first long piece also reads a tiktoken encoding's ranks and compiles the merge loop, once per process;
            // a second encode shows what each further document costs (data prepare encodes many with one tokenizer).
            clock.Restart();
            loaded.Encode(text);
            Console.WriteLine($"again: {clock.Elapsed.TotalSeconds:N2} s (ranks read, code compiled)");
            return 0;
        });
        return command;
    }
}
