using System.CommandLine;
using Flame.Benchmarking;

namespace Flame.Cli.Commands;

/// <summary>`flame bench tokenize`: seconds to encode one long document without whitespace (<see cref="TokenizeBenchmark"/>).</summary>
public static class BenchTokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = DataOptions.Tokenizer();
        var bytes = new Option<int>("--bytes") { Description = "document length in chars", DefaultValueFactory = _ => 1_000_000 };
        var seed = new Option<int>("--seed") { Description = "seed of the random letters", DefaultValueFactory = _ => 1 };
        var library = new Option<bool>("--library-only") { Description = "time Microsoft.ML.Tokenizers' own encode alone, without Flame's long-piece merge queue" };
        var command = new Command("tokenize", "time encoding one document of random lowercase letters without whitespace") { tokenizer, bytes, seed, library };
        command.SetAction(parse =>
        {
            var r = TokenizeBenchmark.Run(parse.GetValue(tokenizer)!, parse.GetValue(bytes), parse.GetValue(seed), parse.GetValue(library));
            Console.WriteLine($"{r.Tokenizer}: {r.Chars:N0} chars -> {r.Tokens:N0} tokens in {r.Seconds:N2} s{(r.LibraryOnly ? " (library only)" : "")}");
            if (r.AgainSeconds is { } again) Console.WriteLine($"again: {again:N2} s (ranks read, code compiled)");
            return 0;
        });
        return command;
    }
}
