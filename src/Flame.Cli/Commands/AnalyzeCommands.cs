using System.CommandLine;
using Flame.Analysis;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>
/// `flame analyze`: the FLAME-MoE routing analyses (spec §5) and load balance over a run's traces or
/// any trace folder in the published layout; one subcommand per analysis, `all` for the four in one pass,
/// and `bench` for throughput on a synthetic trace set.
/// </summary>
public static class AnalyzeCommands
{
    public static Command Create()
    {
        var command = new Command("analyze", "routing analyses over traces: specialization, co-activation, router saturation, load balance");
        command.Subcommands.Add(Analysis("all", "all four analyses in one pass over the files", TraceAnalyses.All));
        command.Subcommands.Add(Analysis("specialization", "S(e, v) per layer and checkpoint, top tokens per expert and their evolution", TraceAnalyses.Specialization));
        command.Subcommands.Add(Analysis("coactivation", "co-activation matrices (CoAct = M[i][j] / M[i][i]) and the 16 x 16 most co-activated view", TraceAnalyses.CoActivation));
        command.Subcommands.Add(Analysis("saturation", "router saturation vs the final checkpoint for k in 1, 2, 4, 6", TraceAnalyses.Saturation));
        command.Subcommands.Add(Analysis("load-balance", "per-expert token share, entropy and coefficient of variation", TraceAnalyses.LoadBalance));
        command.Subcommands.Add(Bench());
        return command;
    }

    static Command Analysis(string name, string description, TraceAnalyses which)
    {
        var run = new Option<string>("--run") { Description = "run folder (reads RUN/traces, writes RUN/analysis)", DefaultValueFactory = _ => "runs/demo" };
        var traces = new Option<string?>("--traces") { Description = "a trace folder in the published layout instead of a run (output: TRACES/analysis)" };
        var output = new OutOption("output folder for tables and plots (default: RUN/analysis, or TRACES/analysis)");
        var experts = new Option<int?>("--experts") { Description = "routed experts per layer (default: the manifest's, else 64)" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "tokenizer to decode token ids (demo, cl100k_base, o200k_base or a tokenizer.json)" };
        var noPlots = new Option<bool>("--no-plots") { Description = "tables only" };
        var overwrite = CommonOptions.Overwrite("use an --out folder Flame did not write, removing only the tables and plots analyze writes");
        var json = CommonOptions.Json();
        var command = new Command(name, description) { run, traces, output, experts, tokenizer, noPlots, overwrite, json };
        command.SetAction(parse =>
        {
            var options = new AnalysisOptions
            {
                Analyses = which, Output = output.Get(parse), Experts = parse.GetValue(experts),
                Tokenizer = parse.GetValue(tokenizer), Plots = !parse.GetValue(noPlots),
            };
            var source = parse.GetValue(traces) ?? parse.GetValue(run)!;
            AnalysisResult Analyse() => TraceAnalysis.Run(source, options, message => { if (!parse.GetValue(json)) AnsiConsole.MarkupLineInterpolated($"[grey]{message}[/]"); });
            var result = options.Output is { } named // the default, RUN/analysis or TRACES/analysis, is the run's or the traces' own
                ? Flame.Output.OutputFolder.ClaimFor(named, Flame.Output.OutputKind.Analysis, $"flame {name}", output.Spelling(parse), parse.GetValue(overwrite), Console.Error.WriteLine, Analyse)
                : Analyse();
            return JsonOrTable.PrintText(parse, json, () => File.ReadAllText(Path.Combine(result.Output, AnalysisTables.SummaryFile)), () =>
            {
                foreach (var p in result.Problems) AnsiConsole.MarkupLineInterpolated($"[yellow]problem:[/] {p.ToString()}");
                AnsiConsole.MarkupLineInterpolated(
                    $"{result.Analyses} over {result.Layers.Count} layers x {result.Checkpoints.Count} checkpoints ({result.TokenLayers:N0} token-layers) in {result.Seconds:N1} s: [bold]{result.Output}[/]");
            });
        });
        return command;
    }

    static Command Bench()
    {
        var tokenLayers = new Option<long>("--token-layers") { Description = "routing rows to analyse (tokens x layers x checkpoints)", DefaultValueFactory = _ => 50_000_000 };
        var layers = new Option<int>("--layers") { DefaultValueFactory = _ => 8, Description = "MoE layers" };
        var checkpoints = new Option<int>("--checkpoints") { DefaultValueFactory = _ => 8, Description = "checkpoints" };
        var experts = new Option<int>("--experts") { DefaultValueFactory = _ => 64, Description = "experts per layer" };
        var topK = new Option<int>("--top-k") { DefaultValueFactory = _ => 6, Description = "experts per token" };
        var dir = new Option<string>("--dir") { DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "flame-analysis-bench"), Description = "where to write the synthetic traces" };
        var keep = new Option<bool>("--keep") { Description = "keep the synthetic traces afterwards" };
        var overwrite = CommonOptions.Overwrite("use a --dir that Flame did not write, removing only what the bench writes there (samples/, actives/, manifest.json, analysis/)");
        var json = CommonOptions.Json();
        var command = new Command("bench", "analysis throughput (token-layers/s) and peak memory on a synthetic trace set") { tokenLayers, layers, checkpoints, experts, topK, dir, keep, overwrite, json };
        command.SetAction(parse =>
        {
            var folder = parse.GetValue(dir)!;
            var owner = AnalysisBenchmark.Claim(folder, parse.GetValue(overwrite), m => { if (!parse.GetValue(json)) AnsiConsole.WriteLine(m); });
            try
            {
                var r = AnalysisBenchmark.Run(folder, parse.GetValue(tokenLayers), parse.GetValue(layers), parse.GetValue(checkpoints),
                    parse.GetValue(experts), parse.GetValue(topK), onProgress: m => { if (!parse.GetValue(json)) AnsiConsole.MarkupLineInterpolated($"[grey]{m}[/]"); });
                return JsonOrTable.Print(parse, json, r, () => ShowBench(r));
            }
            finally
            {
                if (!parse.GetValue(keep)) AnalysisBenchmark.Clean(folder, owner);
            }
        });
        return command;
    }

    static void ShowBench(AnalysisBenchmarkResult r)
    {
        var table = new Table().AddColumns("measure", "value");
        table.AddRow("token-layers", $"{r.TokenLayers:N0} ({r.Tokens:N0} tokens x {r.Layers} layers x {r.Checkpoints} checkpoints)");
        table.AddRow("experts, top-k", $"{r.Experts}, {r.TopK}");
        table.AddRow("Parquet files", $"{r.FileBytes / 1e6:N1} MB");
        table.AddRow("read indices only", $"{r.ReadSeconds:N2} s = {r.ReadTokenLayersPerSecond / 1e6:N2} M token-layers/s ({r.ReadTokenLayersPerCpuSecond / 1e6:N2} M per CPU-second)");
        table.AddRow("all four analyses", $"{r.AnalysisSeconds:N2} s = {r.AnalysisTokenLayersPerSecond / 1e6:N2} M token-layers/s ({r.AnalysisTokenLayersPerCpuSecond / 1e6:N2} M per CPU-second)");
        table.AddRow("peak working set", $"{r.PeakWorkingSetBytes / 1e6:N0} MB (before: {r.BaselineWorkingSetBytes / 1e6:N0} MB)");
        AnsiConsole.Write(table);
    }
}
