using System.CommandLine;
using Flame.Model;
using Spectre.Console;

namespace Flame.Cli.Commands;

/// <summary>`flame model info`: the exact parameter and FLOP counts of a preset.</summary>
public static class ModelCommands
{
    public static Command Create()
    {
        var preset = CommonOptions.Preset();
        var set = CommonOptions.ModelSet();
        var json = CommonOptions.Json();
        var seq = new Option<int?>("--seq") { Description = "sequence length for the attention FLOPs (default: the model's max positions)" };
        var info = new Command("info", "parameter counts (total, active, FLAME-MoE's N) and training FLOPs per token") { preset, set, json, seq };
        info.SetAction(parse =>
        {
            var config = CommonOptions.ResolveModel(parse, preset, set);
            var counts = ModelAccounting.Of(config, parse.GetValue(seq));
            return JsonOrTable.Print(parse, json, ToJson(config, counts), () => ShowTable(config, counts));
        });
        return new Command("model", "inspect model presets") { info, CreateDispatchCheck() };
    }

    /// <summary>`flame model check-dispatch`: grouped vs reference dispatch on the chosen device.</summary>
    static Command CreateDispatchCheck()
    {
        var preset = CommonOptions.Preset();
        var set = CommonOptions.ModelSet();
        var device = CommonOptions.Device();
        var dtype = CommonOptions.Dtype("fp32, for the closest comparison");
        var batch = new Option<int>("--micro-batch") { DefaultValueFactory = _ => 2, Description = "sequences" };
        var seq = new Option<int>("--seq") { DefaultValueFactory = _ => 128, Description = "tokens per sequence" };
        var json = CommonOptions.Json();
        var command = new Command("check-dispatch", "compare the grouped MoE dispatch with the reference loop (logits and gradients)")
            { preset, set, device, dtype, batch, seq, json };
        command.SetAction(parse =>
        {
            var config = CommonOptions.ResolveModel(parse, preset, set);
            var target = Flame.Runtime.ComputeTarget.Resolve(parse.GetValue(device)!, parse.GetValue(dtype) ?? "fp32");
            var r = DispatchParity.Check(config, target.Device, target.ComputeType, parse.GetValue(batch), parse.GetValue(seq));
            return JsonOrTable.Print(parse, json, r, () =>
                AnsiConsole.MarkupLine($"{config.Name} on {r.Device} ({r.Dtype}): max |logit diff| {r.MaxLogitDiff:E2} (max |logit| {r.MaxLogit:N2}), " +
                                       $"max |grad diff| {r.MaxGradDiff:E2} (max |grad| {r.MaxGrad:E2})"));
        });
        return command;
    }

    static Dictionary<string, object> ToJson(ModelConfig c, ModelAccounting a) => new()
    {
        ["preset"] = c.Name,
        ["total_params"] = a.TotalParams,
        ["active_params"] = a.ActiveParams,
        ["flame_params"] = a.FlameParams,
        ["flops_per_token"] = a.FlopsPerToken,
        ["sequence"] = a.Sequence,
        ["layers"] = c.Layers,
        ["hidden"] = c.Hidden,
        ["heads"] = c.Heads,
        ["dense_ffn"] = c.DenseFfn,
        ["experts"] = c.Experts,
        ["top_k"] = c.TopK,
        ["expert_ffn"] = c.ExpertFfn,
        ["shared_expert_ffn"] = c.SharedExpertFfn,
        ["dense_layers"] = c.DenseLayers,
        ["vocab_size"] = c.VocabSize,
        ["padded_vocab"] = c.PaddedVocab,
    };

    static void ShowTable(ModelConfig c, ModelAccounting a)
    {
        var table = new Table().Title($"[bold]{c.Name}[/]").AddColumn("quantity").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("layers / hidden / heads", $"{c.Layers} / {c.Hidden} / {c.Heads}");
        table.AddRow("dense FFN / expert FFN / shared", $"{c.DenseFfn} / {c.ExpertFfn} / {c.SharedExpertFfn}");
        table.AddRow("experts (top-k)", c.IsMoe ? $"{c.Experts} ({c.TopK})" : "dense");
        table.AddRow("dense layers", string.Join(", ", c.DenseLayers));
        table.AddRow("vocab (padded)", $"{c.VocabSize} ({c.PaddedVocab})");
        table.AddRow("total parameters", $"{a.TotalParams:N0}");
        table.AddRow("active parameters / token", $"{a.ActiveParams:N0}");
        table.AddRow("FLAME-MoE N (naming count)", $"{a.FlameParams:N0}");
        table.AddRow($"training FLOPs / token (seq {a.Sequence})", $"{a.FlopsPerToken:E4}");
        AnsiConsole.Write(table);
    }
}
