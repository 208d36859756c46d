using System.CommandLine;
using Flame.Data.Indexed;
using Flame.Data.Preparation;
using Flame.Data.Readers;
using Flame.Data.Tokenization;
using Flame.Data;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame data prepare` (corpus to Megatron .bin/.idx) and `flame data inspect`.</summary>
public static class DataCommands
{
    public static Command Create() => new("data", "corpora to tokens to Megatron indexed datasets") { Prepare(), Inspect() };

    static Command Prepare()
    {
        var inputs = DataOptions.Inputs();
        var tokenizer = DataOptions.Tokenizer();
        var output = new OutOption("output prefix: writes PREFIX.bin and PREFIX.idx", "PREFIX", required: true);
        var textField = DataOptions.TextField();
        var skipBad = DataOptions.SkipBad();
        var format = DataOptions.Format();
        var eod = new Option<int?>("--eod") { Description = "end-of-document id appended to every document (default: the tokenizer's <|endoftext|>)" };
        var workers = new Option<int>("--workers") { Description = "tokenizing threads (default: all cores)" };
        var preset = new Option<string?>("--preset") { Description = "the model the data is for: its vocabulary must hold the tokenizer's ids (checked before tokenizing)" };
        var overwrite = CommonOptions.Overwrite("replace an existing PREFIX.bin/.idx");
        var command = new Command("prepare", "tokenize a corpus into PREFIX.bin + PREFIX.idx (Megatron MMIDIDX)")
            { inputs, tokenizer, output, textField, skipBad, format, eod, workers, preset, overwrite };
        command.SetAction(parse =>
        {
            var files = CorpusInputs.Expand(parse.GetValue(inputs) is { Length: > 0 } named ? named : [DemoAssets.CorpusPath()]);
            var loaded = TokenizerLoader.Load(parse.GetValue(tokenizer)!, parse.GetValue(eod));
            if (parse.GetValue(preset) is { } model) VocabularyFit.Require(loaded, Flame.Model.ModelPresets.Get(model));
            var options = new PrepareOptions(files, loaded,
                IndexedDatasetFormat.NormalizePrefix(output.Get(parse)!),
                new CorpusReadOptions(parse.GetValue(textField)!, parse.GetValue(skipBad), CorpusFormats.Parse(parse.GetValue(format))), parse.GetValue(workers));
            string[] outputs = [IndexedDatasetFormat.DataPath(options.OutputPrefix), IndexedDatasetFormat.IndexPath(options.OutputPrefix)];
            Flame.Output.OutputPaths.RequirePrefix(options.OutputPrefix, "PREFIX.bin and PREFIX.idx", outputs); // a folder in the way is not something --overwrite replaces
            Flame.Output.OutputFiles.RequireNew(output.Spelling(parse), parse.GetValue(overwrite), outputs);
            var result = RunWithProgress(options);
            AnsiConsole.MarkupLineInterpolated(
                $"wrote [bold]{result.Prefix}[/].bin/.idx: {result.Documents:N0} documents, {result.Tokens:N0} tokens ({result.DType}), {result.RawBytes / 1e6:N1} MB of text in {result.Elapsed.TotalSeconds:N1} s = {result.MegabytesPerSecond:N2} MB/s");
            if (result.EmptySkipped > 0) AnsiConsole.MarkupLineInterpolated($"skipped {result.EmptySkipped:N0} empty documents");
            if (result.Skipped > 0)
            {
                AnsiConsole.MarkupLineInterpolated($"[yellow]skipped {result.Skipped:N0} bad records[/], e.g.:");
                foreach (var example in result.SkippedExamples) AnsiConsole.MarkupLineInterpolated($"  {example}");
            }
            return 0;
        });
        return command;
    }

    static PrepareResult RunWithProgress(PrepareOptions options)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            return ComputeDisplay.Progress([new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn()],
                ctx =>
                {
                    var task = ctx.AddTask("tokenizing", maxValue: 1.0);
                    var refresh = ComputeDisplay.Throttled(ctx);
                    var progress = new ActionProgress<PrepareProgress>(p =>
                    {
                        task.Description = $"{p.MegabytesPerSecond:N1} MB/s, {p.Documents:N0} docs, {p.Tokens:N0} tokens";
                        task.Value = p.Fraction;
                        refresh();
                    });
                    var result = DatasetPreparer.Run(options, progress, cancel.Token);
                    task.Value = 1.0;
                    return result;
                });
        }
        catch (OperationCanceledException) { throw new UserError("interrupted; no dataset was written"); }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    static Command Inspect()
    {
        var prefix = new Argument<string>("prefix") { Description = "dataset prefix (PREFIX.bin + PREFIX.idx)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "decode a sample with this tokenizer (default: demo when the vocabulary fits it)" };
        var document = new Option<long>("--document") { Description = "which document to decode", DefaultValueFactory = _ => 0 };
        var tokens = new Option<int>("--tokens") { Description = "how many tokens of it to decode", DefaultValueFactory = _ => 64 };
        var command = new Command("inspect", "documents, tokens, length histogram and a decoded sample of a dataset") { prefix, tokenizer, document, tokens };
        command.SetAction(parse =>
        {
            using var data = IndexedDatasetReader.Open(parse.GetValue(prefix)!);
            var summary = IndexedDatasetSummary.Of(data);
            var table = new Table().Title($"[bold]{Markup.Escape(summary.Prefix)}[/]").AddColumn("quantity").AddColumn(new TableColumn("value").RightAligned());
            table.AddRow("dtype", summary.DType.ToString());
            table.AddRow("documents", $"{summary.Documents:N0}");
            table.AddRow("sequences", $"{summary.Sequences:N0}");
            table.AddRow("tokens", $"{summary.Tokens:N0}");
            table.AddRow("length min / mean / max", $"{summary.MinLength:N0} / {summary.MeanLength:N1} / {summary.MaxLength:N0}");
            AnsiConsole.Write(table);
            var histogram = new BarChart().Label("[bold]document lengths (tokens)[/]");
            foreach (var (from, to, count) in summary.Histogram) histogram.AddItem($"{from}-{to}", count, Color.Blue);
            AnsiConsole.Write(histogram);
            ShowSample(data, parse.GetValue(tokenizer), parse.GetValue(document), parse.GetValue(tokens));
            return 0;
        });
        return command;
    }

    static void ShowSample(IndexedDatasetReader data, string? tokenizerName, long document, int count)
    {
        if (data.SequenceCount == 0) return;
        if (document < 0 || document >= data.DocumentCount) throw new UserError($"document {document} is outside [0, {data.DocumentCount})");
        var ids = data.GetSequence(data.DocumentIndex(document)).Take(count).ToArray();
        AnsiConsole.MarkupLineInterpolated($"[bold]document {document}[/], first {ids.Length} ids: {string.Join(' ', ids)}");
        var tokenizer = TokenizerLoader.Load(tokenizerName ?? "demo");
        if (tokenizerName is null && ids.Any(id => id >= tokenizer.VocabSize))
        {
            AnsiConsole.MarkupLine("(ids beyond the demo vocabulary: pass --tokenizer to decode them)");
            return;
        }
        AnsiConsole.MarkupLineInterpolated($"decoded with {tokenizer.Name}: [italic]{tokenizer.Decode(ids)}[/]");
    }
}
