using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text;
using Flame.Analysis;
using Flame.Checkpointing;
using Flame.Model;
using Flame.Output;
using Flame.Plots;
using Flame.Reporting.Plots;
using Flame.Training;
using Tomlyn.Parsing;
using Tomlyn.Syntax;
using Tomlyn;

namespace Flame.Reporting;

/// <summary>
/// RUN/report/index.html: one self-contained page (inline CSS, images embedded as base64 PNG, no
/// scripts, nothing fetched) with the run's configuration, loss curves, evaluation results when
/// RUN/eval/summary.json exists, any figures under RUN/scaling/, and every routing analysis with a
/// one-line caption. Works opened straight from disk.
/// </summary>
public static class ReportWriter
{
    public static string Write(string runDirectory)
    {
        if (!Directory.Exists(runDirectory)) throw new UserError($"{runDirectory}: no such run folder");
        var reportDir = RunFiles.Report(runDirectory);
        Directory.CreateDirectory(reportDir);
        var html = new StringBuilder();
        var name = Path.GetFileName(Path.GetFullPath(runDirectory).TrimEnd('/'));
        html.Append($"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>Flame run report: {E(name)}</title>
            <style>{Css}</style></head><body>
            <header><h1>Flame run report: {E(name)}</h1>
            <p class="sub">{E(Path.GetFullPath(runDirectory))} &middot; generated {DateTime.Now.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)}</p></header>
            <nav><a href="#config">Configuration</a><a href="#loss">Loss</a><a href="#eval">Evaluation</a><a href="#scaling">Scaling</a><a href="#routing">Routing analyses</a></nav>
            """);
        Config(html, runDirectory);
        Loss(html, runDirectory, reportDir);
        Evaluation(html, runDirectory);
        Scaling(html, runDirectory);
        Routing(html, runDirectory);
        html.Append("<footer>Flame &middot; FLAME-MoE (Kang, Yu, Xiong, 2025) re-created in .NET</footer></body></html>\n");
        var path = RunFiles.ReportPage(runDirectory);
        Output.OutputFiles.Write(path, temp => File.WriteAllText(temp, html.ToString(), new UTF8Encoding(false)));
        return path;
    }

    /// <summary>
    /// The experiment as the user writes it: config.toml's sections and keys (`training.micro_batch = 8`), each with
    /// the meaning written above it. A run trained without `flame run|train` has only the trainer's config.json,
    /// shown as recorded. The model is the newest checkpoint's model.json.
    /// </summary>
    static void Config(StringBuilder html, string run)
    {
        html.Append("<section id=\"config\"><h2>Configuration</h2>");
        var toml = RunFiles.ConfigToml(run);
        var json = RunFiles.ConfigJson(run);
        if (!File.Exists(toml) && !File.Exists(json))
        {
            html.Append($"<p class=\"missing\">No {RunFiles.Name.ConfigToml} in this run.</p></section>");
            return;
        }
        html.Append(File.Exists(toml)
            ? $"<p class=\"caption\">The experiment as saved in {RunFiles.Name.ConfigToml}: every key, as a config file or <code>--set section.key=value</code> names it"
            : $"<p class=\"caption\">The training run as the trainer recorded it in {RunFiles.Name.ConfigJson} (this run has no {RunFiles.Name.ConfigToml})");
        var model = TrainedCheckpoint.List(run).LastOrDefault().Folder is string latest && File.Exists(Path.Combine(latest, ModelConfigJson.FileName))
            ? Path.Combine(latest, ModelConfigJson.FileName) : null;
        html.Append(model is null ? ".</p>" : ", and the model as recorded in its newest checkpoint.</p>");
        html.Append("<div class=\"pair\">");
        if (File.Exists(toml)) ExperimentTables(html, toml);
        else KeyValueTable(html, $"Training ({RunFiles.Name.ConfigJson})", json);
        if (model is not null) KeyValueTable(html, $"Model ({ModelConfigJson.FileName})", model);
        html.Append("</div></section>");
    }

    /// <summary>One table per section of a TOML file, a row per key: `section.key`, its value as written, the comment above it.</summary>
    static void ExperimentTables(StringBuilder html, string path)
    {
        DocumentSyntax document;
        try { document = SyntaxParser.Parse(File.ReadAllText(path), path, validate: true); }
        catch (TomlException e) { html.Append($"<p class=\"missing\">{E(path)}: not valid TOML ({E(e.Message.Split('\n')[0])})</p>"); return; }
        if (document.Diagnostics.FirstOrDefault(d => d.Kind == DiagnosticMessageKind.Error) is { } error)
        {
            html.Append($"<p class=\"missing\">{E(path)}: not valid TOML (line {error.Span.Start.Line + 1}: {E(error.Message.Split('\n')[0])})</p>");
            return;
        }
        // A comment line above a key is trivia after the end of the line before it (the section header or the previous key).
        void Table(string section, IEnumerable<KeyValueSyntax> items, SyntaxToken? lineAbove)
        {
            html.Append($"<table class=\"kv config\"><caption>{E(section.Length > 0 ? $"[{section}]" : path)}</caption>");
            foreach (var item in items)
            {
                var key = Text(item.Key!);
                var name = section.Length > 0 ? $"{section}.{key}" : key;
                html.Append($"<tr><th><code>{E(name)}</code></th><td><code>{E(Text(item.Value!))}</code></td><td class=\"meaning\">{E(CommentsAfter(lineAbove))}</td></tr>");
                lineAbove = item.EndOfLineToken;
            }
            html.Append("</table>");
        }
        if (document.KeyValues.ChildrenCount > 0) Table("", document.KeyValues, null);
        foreach (var table in document.Tables) Table(Text(table.Name!), table.Items, table.EndOfLineToken);
    }

    /// <summary>A syntax node's text without comments and line breaks, runs of spaces as one.</summary>
    static string Text(SyntaxNode node)
    {
        var text = new StringBuilder();
        foreach (var part in node.Tokens(includeCommentsAndWhitespaces: true))
            if (part is SyntaxTrivia { Kind: TokenKind.Whitespaces } && text.Length > 0 && text[^1] != ' ') text.Append(' ');
            else if (part is SyntaxToken token) text.Append(token.Text);
        return text.ToString().Trim();
    }

    /// <summary>The comment lines that follow a line's end, i.e. those above the next key (config.toml writes each key's meaning there).</summary>
    static string CommentsAfter(SyntaxToken? lineEnd) =>
        string.Join(" ", (lineEnd?.TrailingTrivia ?? []).Where(t => t.Kind == TokenKind.Comment).Select(t => (t.Text ?? "").TrimStart('#').Trim()));

    static void KeyValueTable(StringBuilder html, string title, string path)
    {
        html.Append($"<table class=\"kv\"><caption>{E(title)}</caption>");
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            foreach (var p in doc.RootElement.EnumerateObject())
                html.Append($"<tr><th>{E(p.Name)}</th><td>{E(Scalar(p.Value))}</td></tr>");
        }
        catch (JsonException e) { html.Append($"<tr><td class=\"missing\">{E(path)}: not valid JSON ({E(e.Message)})</td></tr>"); }
        html.Append("</table>");
    }

    static string Scalar(JsonElement v) => v.ValueKind switch
    {
        JsonValueKind.Array => string.Join(" ", v.EnumerateArray().Select(Scalar)),
        JsonValueKind.String => v.GetString() ?? "",
        JsonValueKind.Object => v.GetRawText(),
        _ => v.GetRawText(),
    };

    static void Loss(StringBuilder html, string run, string reportDir)
    {
        html.Append("<section id=\"loss\"><h2>Loss</h2>");
        var plot = Path.Combine(RunFiles.ReportPlots(run), "loss");
        if (!LossCurvePlot.Save(RunFiles.Metrics(run), plot))
        {
            html.Append($"<p class=\"missing\">No {RunFiles.Name.Metrics} with lm_loss or val_loss in this run.</p></section>");
            return;
        }
        Figure(html, plot + ".png", "Training loss (lm_loss, logged every few steps) and validation loss (val_loss, at each checkpoint) against the optimizer step.");
        html.Append("</section>");
    }

    static void Evaluation(StringBuilder html, string run)
    {
        html.Append("<section id=\"eval\"><h2>Evaluation</h2>");
        var path = Path.Combine(RunFiles.Eval(run), Flame.Evaluation.Evaluator.SummaryFile);
        if (!File.Exists(path)) { html.Append("<p class=\"missing\">No evaluation yet (RUN/eval/summary.json is absent).</p></section>"); return; }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            var root = doc.RootElement;
            if (root.TryGetProperty("perplexity", out var ppl) && ppl.ValueKind == JsonValueKind.Object)
            {
                html.Append("<p class=\"caption\">Held-out perplexity of the final checkpoint (eval/summary.json): exp of the mean next-token loss on the validation split.</p><table class=\"kv\">");
                foreach (var p in ppl.EnumerateObject())
                    html.Append($"<tr><th>{E(p.Name)}</th><td class=\"num\">{(p.Value.ValueKind == JsonValueKind.Number ? Number(p.Value.GetDouble()) : E(p.Value.ToString()))}</td></tr>");
                html.Append("</table>");
            }
            if (root.TryGetProperty("tasks", out var tasks) && tasks.ValueKind == JsonValueKind.Array && tasks.GetArrayLength() == 0)
                html.Append("<p class=\"missing\">No downstream tasks were scored (set evaluation.tasks and evaluation.data_dir, or run flame eval --data-dir).</p>");
            else if (root.TryGetProperty("tasks", out tasks) && tasks.ValueKind == JsonValueKind.Array)
            {
                html.Append("<p class=\"caption\">Downstream tasks scored as lm-evaluation-harness does (one row per task, from eval/summary.json).</p>");
                var rows = tasks.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.Object).ToList();
                var text = rows.SelectMany(t => t.EnumerateObject()).Where(p => p.Value.ValueKind == JsonValueKind.String).Select(p => p.Name).Distinct().ToList();
                var numbers = rows.SelectMany(t => t.EnumerateObject()).Where(p => p.Value.ValueKind == JsonValueKind.Number).Select(p => p.Name).Distinct().ToList();
                html.Append("<table class=\"data\"><tr>");
                foreach (var c in text.Concat(numbers)) html.Append($"<th>{E(c)}</th>");
                html.Append("</tr>");
                foreach (var t in rows)
                {
                    html.Append("<tr>");
                    foreach (var c in text) html.Append($"<td>{E(t.TryGetProperty(c, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "")}</td>");
                    foreach (var c in numbers) html.Append($"<td class=\"num\">{(t.TryGetProperty(c, out var v) && v.ValueKind == JsonValueKind.Number ? Number(v.GetDouble()) : "")}</td>");
                    html.Append("</tr>");
                }
                html.Append("</table>");
            }
            var averages = root.ValueKind == JsonValueKind.Object
                ? root.EnumerateObject().Where(p => p.Name.StartsWith("average", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.Number).ToList() : [];
            if (averages.Count > 0)
            {
                html.Append("<table class=\"kv\">");
                foreach (var a in averages) html.Append($"<tr><th>{E(a.Name)}</th><td class=\"num\">{Number(a.Value.GetDouble())}</td></tr>");
                html.Append("</table>");
            }
        }
        catch (JsonException e) { html.Append($"<p class=\"missing\">{E(path)}: not valid JSON ({E(e.Message)})</p>"); }
        html.Append("</section>");
    }

    static void Scaling(StringBuilder html, string run)
    {
        html.Append("<section id=\"scaling\"><h2>Scaling</h2>");
        var dir = RunFiles.Scaling(run);
        var images = Directory.Exists(dir)
            ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Where(f => f.EndsWith(".png", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".svg", StringComparison.OrdinalIgnoreCase)).Order().ToList()
            : [];
        // A figure saved as both PNG and SVG is shown once, as PNG.
        images = images.Where(f => !(f.EndsWith(".svg", StringComparison.OrdinalIgnoreCase) && images.Contains(Path.ChangeExtension(f, ".png")))).ToList();
        if (images.Count == 0) html.Append("<p class=\"missing\">No scaling figures (RUN/scaling/ has no PNG or SVG).</p>");
        foreach (var image in images) Figure(html, image, $"Scaling study figure {Path.GetRelativePath(dir, image)}.");
        html.Append("</section>");
    }

    static void Routing(StringBuilder html, string run)
    {
        html.Append("<section id=\"routing\"><h2>Routing analyses</h2>");
        var dir = RunFiles.Analysis(run);
        var summaryPath = Path.Combine(dir, AnalysisTables.SummaryFile);
        if (!File.Exists(summaryPath))
        {
            html.Append("<p class=\"missing\">No analyses yet: run <code>flame trace</code> and <code>flame analyze</code> for this run.</p></section>");
            return;
        }
        using var summary = JsonDocument.Parse(File.ReadAllText(summaryPath));
        var s = summary.RootElement;
        html.Append($"<p class=\"caption\">Routing of {Int(s, "tokens")} held-out tokens at {Count(s, "checkpoints")} checkpoints through {Count(s, "layers")} MoE layers " +
                    $"({Int(s, "experts")} experts, top-{Int(s, "top_k")}), read from {E(s.GetProperty("traces").GetString() ?? "")}.</p>");
        PaperFindings.AppendHtml(html, dir);
        var entries = PlotIndex.Read(Path.Combine(dir, AnalysisPlots.Folder));
        var sections = new (string Key, string Title, string Intro)[]
        {
            ("specialization", "Expert specialization", "S(e, v) = share of token v's occurrences routed to expert e (tokens seen at least 5 times)."),
            ("coactivation", "Expert co-activation", "CoAct[i][j] = tokens routed to both i and j over tokens routed to i, diagonal 0."),
            ("saturation", "Router saturation", "Sat(t) = mean over tokens of |TopK_t ∩ TopK_final| / k."),
            ("load_balance", "Load balance", "How evenly tokens spread over experts: share, entropy and coefficient of variation."),
        };
        foreach (var (key, title, intro) in sections)
        {
            var figures = entries.Where(e => e.Section == key).ToList();
            if (figures.Count == 0) continue;
            html.Append($"<h3>{E(title)}</h3><p class=\"caption\">{E(intro)}</p>");
            var overview = figures.Where(f => !f.File.Contains("_layer_")).ToList();
            var panels = figures.Where(f => f.File.Contains("_layer_")).ToList();
            foreach (var f in overview) Figure(html, Path.Combine(dir, AnalysisPlots.Folder, f.File + ".png"), f.Caption);
            if (panels.Count > 0)
            {
                html.Append("<div class=\"grid\">");
                foreach (var f in panels) Figure(html, Path.Combine(dir, AnalysisPlots.Folder, f.File + ".png"), f.Caption);
                html.Append("</div>");
            }
            if (key == "specialization") TopTokens(html, dir);
            if (key == "load_balance") LoadTable(html, dir);
        }
        if (s.TryGetProperty("problems", out var problems) && problems.GetArrayLength() > 0)
        {
            html.Append("<h3>Problems found in the traces</h3><ul class=\"problems\">");
            foreach (var p in problems.EnumerateArray()) html.Append($"<li><code>{E(p.GetProperty("file").GetString() ?? "")}</code>: {E(p.GetProperty("message").GetString() ?? "")}</li>");
            html.Append("</ul>");
        }
        html.Append("</section>");
    }

    static void TopTokens(StringBuilder html, string dir)
    {
        var (last, atLast) = LastCheckpointRows(Path.Combine(dir, "specialization_top.csv"));
        if (atLast.Count == 0) return;
        html.Append($"<details open><summary>Top tokens per expert at step {last}</summary>" +
                    "<p class=\"caption\">Each expert's two most specialized tokens at the last checkpoint, with S(e, v) and the token's occurrences; ␣ marks a space.</p><div class=\"pair\">");
        foreach (var layer in atLast.GroupBy(r => r["layer"]))
        {
            html.Append($"<table class=\"data small\"><caption>layer {int.Parse(layer.Key, CultureInfo.InvariantCulture):D2}</caption><tr><th>expert</th><th>token</th><th>S</th><th>n</th><th>token</th><th>S</th><th>n</th></tr>");
            foreach (var expert in layer.GroupBy(r => r["expert"]).OrderBy(g => int.Parse(g.Key, CultureInfo.InvariantCulture)))
            {
                html.Append($"<tr><td class=\"num\">{E(expert.Key)}</td>");
                foreach (var t in expert.OrderBy(r => int.Parse(r["rank"], CultureInfo.InvariantCulture)).Take(2))
                    html.Append($"<td><code>{E(t["token"].Length > 0 ? t["token"] : "#" + t["token_id"])}</code></td><td class=\"num\">{Number(double.Parse(t["score"], CultureInfo.InvariantCulture))}</td><td class=\"num\">{E(t["occurrences"])}</td>");
                html.Append("</tr>");
            }
            html.Append("</table>");
        }
        html.Append("</div></details>");
    }

    static void LoadTable(StringBuilder html, string dir)
    {
        var (last, atLast) = LastCheckpointRows(Path.Combine(dir, "load_balance_summary.csv"));
        if (atLast.Count == 0) return;
        html.Append($"<table class=\"data\"><caption>Load balance per layer at step {last}</caption><tr><th>layer</th><th>entropy (nats)</th><th>normalized entropy</th><th>coefficient of variation</th><th>largest share</th></tr>");
        foreach (var r in atLast)
            html.Append($"<tr><td class=\"num\">{E(r["layer"])}</td><td class=\"num\">{Number(D(r["entropy"]))}</td><td class=\"num\">{Number(D(r["normalized_entropy"]))}</td>" +
                        $"<td class=\"num\">{Number(D(r["coefficient_of_variation"]))}</td><td class=\"num\">{Number(D(r["max_share"]))}</td></tr>");
        html.Append("</table>");
    }

    static void Figure(StringBuilder html, string imagePath, string caption)
    {
        if (!File.Exists(imagePath)) return;
        var mime = imagePath.EndsWith(".svg", StringComparison.OrdinalIgnoreCase) ? "image/svg+xml" : "image/png";
        html.Append($"<figure><img alt=\"{E(caption)}\" src=\"data:{mime};base64,{Convert.ToBase64String(File.ReadAllBytes(imagePath))}\">" +
                    $"<figcaption>{E(caption)}</figcaption></figure>");
    }

    static double D(string s) => double.Parse(s, CultureInfo.InvariantCulture);

    /// <summary>An analysis table's newest checkpoint and its rows (none when the file is missing or empty).</summary>
    static (long Step, List<Dictionary<string, string>> Rows) LastCheckpointRows(string csv)
    {
        var rows = CsvRows.Read(csv);
        if (rows.Count == 0) return (0, rows);
        long Step(Dictionary<string, string> r) => long.Parse(r["checkpoint"], CultureInfo.InvariantCulture);
        long last = rows.Max(Step);
        return (last, rows.Where(r => Step(r) == last).ToList());
    }
    static string Number(double v) => Math.Abs(v) >= 1000 || v == Math.Round(v) ? v.ToString("0.###", CultureInfo.InvariantCulture) : v.ToString("0.0000", CultureInfo.InvariantCulture);
    static string Int(JsonElement s, string name) => s.TryGetProperty(name, out var v) ? v.GetRawText() : "?";
    static int Count(JsonElement s, string name) => s.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : 0;
    static string E(string s) => WebUtility.HtmlEncode(s);

    const string Css = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;color:#1d2330;background:#f6f7f9;line-height:1.45}
        header{background:#1d2330;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}.sub{margin:4px 0 0;color:#b8c0cc;font-size:13px}
        nav{background:#fff;border-bottom:1px solid #dde1e7;padding:8px 32px;position:sticky;top:0}nav a{margin-right:18px;color:#2457c5;text-decoration:none;font-weight:600}
        section{background:#fff;margin:18px 32px;padding:8px 24px 20px;border:1px solid #dde1e7;border-radius:6px}
        h2{border-bottom:2px solid #e8ebf0;padding-bottom:6px}h3{margin-top:26px}
        .caption{color:#4a5263;margin:4px 0 12px}.missing{color:#8a5a00;font-style:italic}
        figure{margin:10px 0 18px;display:inline-block;max-width:100%}figure img{max-width:100%;border:1px solid #e3e6eb}
        figcaption{font-size:13px;color:#4a5263;max-width:900px}
        .grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(600px,1fr));gap:8px}
        .grid figure img{width:100%}
        .pair{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
        table{border-collapse:collapse;font-size:13px;margin:8px 0}caption{font-weight:600;text-align:left;padding:4px 0}
        th,td{border:1px solid #dde1e7;padding:3px 8px;text-align:left}th{background:#f0f2f5}.num{text-align:right;font-variant-numeric:tabular-nums}
        table.kv th{width:190px}table.config th{width:auto}td.meaning{color:#4a5263;font-size:12px}table.small{font-size:12px}code{font-family:"DejaVu Sans Mono",monospace;font-size:12px}
        details{margin:12px 0}summary{cursor:pointer;font-weight:600;color:#2457c5}
        .problems li{color:#8a1c1c;font-size:13px}footer{color:#8a92a0;font-size:12px;padding:10px 32px 30px}
        """;
}
