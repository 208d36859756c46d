using System.CommandLine;
using Flame.Distributed;
using Flame.Memory;
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
        return new Command("model", "inspect model presets") { info, CreateDispatchCheck(), CreateMemory() };
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

    /// <summary>`flame model memory`: the planner's predicted peak of one rank's training step, and what would make it fit.</summary>
    static Command CreateMemory()
    {
        var preset = CommonOptions.Preset(required: false);
        var set = CommonOptions.ModelSet();
        var batch = new Option<int>("--micro-batch") { DefaultValueFactory = _ => 1, Description = "sequences per micro-batch" };
        var seq = new Option<int?>("--seq") { Description = "tokens per sequence (default: the model's max positions)" };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cuda", Description = "cuda (an 80 GB H100 unless --device-memory) or cpu (this machine's MemAvailable)" };
        device.AcceptOnlyFromAmong("cuda", "cpu");
        var dtype = CommonOptions.Dtype();
        var parallel = new Option<string?>("--parallel") { Description = "the layout, data=D,expert=E (default data=1,expert=1)" };
        var distributed = new Option<bool>("--distributed-optimizer") { Description = "Megatron's distributed optimizer (parallel.distributed_optimizer)" };
        var recompute = new Option<string>("--recompute") { DefaultValueFactory = _ => "none", Description = "none, selective or full (training.recompute)" };
        var chunk = new Option<int>("--loss-chunk") { DefaultValueFactory = _ => 0, Description = "tokens per loss chunk, 0 = whole logits (training.loss_chunk)" };
        var memory = new Option<double?>("--device-memory") { Description = "the device's memory in GB (decimal) instead of the default" };
        var table = new Option<bool>("--release-table") { Description = "the Markdown table of every release recipe in --configs (docs/memory.md)" };
        var configs = new Option<string>("--configs") { DefaultValueFactory = _ => "configs", Description = "folder of the release recipes for --release-table" };
        var json = CommonOptions.Json();
        var command = new Command("memory", "predict the peak memory of one rank's training step, and the smallest change that makes it fit")
            { preset, set, batch, seq, device, dtype, parallel, distributed, recompute, chunk, memory, table, configs, json };
        command.SetAction(parse =>
        {
            bool cuda = parse.GetValue(device) == "cuda";
            var deviceMemory = parse.GetValue(memory) is { } gb ? DeviceMemory.Gigabytes(gb, $"{gb} GB (--device-memory)")
                : cuda ? DeviceMemory.H100 : DeviceMemory.ThisMachine();
            if (parse.GetValue(table))
            {
                var rows = ReleaseMemoryTable.Build(parse.GetValue(configs)!, deviceMemory.Bytes);
                Console.Write(ReleaseMemoryTable.Markdown(rows, deviceMemory.Bytes));
                return 0;
            }
            if (parse.GetValue(preset) is null) throw new UserError("--preset is required (or --release-table)");
            var config = CommonOptions.ResolveModel(parse, preset, set);
            var type = Flame.Runtime.ComputeTarget.ParseDtype(parse.GetValue(dtype));
            bool bf16 = type is { } t ? t == TorchSharp.torch.ScalarType.BFloat16 : cuda;
            var request = new MemoryRequest(config, parse.GetValue(batch), parse.GetValue(seq) ?? config.MaxPositions, bf16,
                ParseLayout(parse.GetValue(parallel), config), parse.GetValue(distributed), RecomputeModes.Parse(parse.GetValue(recompute)!),
                parse.GetValue(chunk), Cpu: !cuda);
            if (request.MicroBatch < 1 || request.Sequence < 1 || request.LossChunk < 0)
                throw new UserError("--micro-batch and --seq must be at least 1, --loss-chunk at least 0");
            var plan = MemoryPlanner.Plan(request);
            var advice = plan.TotalBytes <= deviceMemory.Bytes ? [] : MemoryAdvice.For(request, deviceMemory.Bytes);
            return JsonOrTable.Print(parse, json, MemoryJson(plan, deviceMemory, advice), () => ShowMemory(plan, deviceMemory, advice));
        });
        return command;
    }

    /// <summary>--parallel data=D,expert=E (either may be left out: 1).</summary>
    static ParallelLayout ParseLayout(string? text, ModelConfig config)
    {
        if (string.IsNullOrWhiteSpace(text)) return ParallelLayout.Single;
        int data = 1, expert = 1;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !int.TryParse(kv[1], out int n) || n < 1 || kv[0] is not ("data" or "expert"))
                throw new UserError($"--parallel {text}: expected data=D,expert=E with positive integers");
            if (kv[0] == "data") data = n; else expert = n;
        }
        if (expert > 1 && (!config.IsMoe || config.Experts % expert != 0))
            throw new UserError($"--parallel expert={expert} must divide the model's {config.Experts} experts");
        return new ParallelLayout(data * expert, data, expert);
    }

    static Dictionary<string, object?> MemoryJson(MemoryPlan plan, DeviceMemory device, IReadOnlyList<MemoryChange> advice)
    {
        var r = plan.Request;
        return new()
        {
            ["preset"] = r.Model.Name,
            ["micro_batch"] = r.MicroBatch,
            ["sequence"] = r.Sequence,
            ["dtype"] = r.Bf16 ? "bf16" : "fp32",
            ["data"] = r.Layout.Data,
            ["expert"] = r.Layout.Expert,
            ["distributed_optimizer"] = r.DistributedOptimizer,
            ["recompute"] = RecomputeModes.Name(r.Recompute),
            ["loss_chunk"] = r.LossChunk,
            ["items"] = plan.Items.Select(i => new Dictionary<string, object> { ["name"] = i.Name, ["kind"] = i.Kind.ToString().ToLowerInvariant(), ["bytes"] = i.Bytes, ["counts"] = i.Counts }).ToList(),
            ["state_bytes"] = plan.StateBytes,
            ["activation_bytes"] = plan.ActivationBytes,
            ["transient_bytes"] = plan.TransientBytes,
            ["total_bytes"] = plan.TotalBytes,
            ["device_bytes"] = device.Bytes,
            ["device"] = device.Where,
            ["fits"] = plan.TotalBytes <= device.Bytes,
            ["advice"] = advice.Select(a => new Dictionary<string, object> { ["change"] = a.Change, ["setting"] = a.Setting, ["total_bytes"] = a.TotalBytes, ["fits"] = a.Fits, ["gpus"] = a.Gpus }).ToList(),
            ["smallest_fix"] = MemoryAdvice.Smallest(advice)?.Setting,
        };
    }

    static void ShowMemory(MemoryPlan plan, DeviceMemory device, IReadOnlyList<MemoryChange> advice)
    {
        var r = plan.Request;
        var table = new Table().Title($"[bold]{r.Model.Name}[/]: one rank's training step ({Markup.Escape(r.Describe())})")
            .AddColumn("memory").AddColumn("kind").AddColumn(new TableColumn("bytes").RightAligned()).AddColumn("counts");
        foreach (var i in plan.Items)
            table.AddRow(Markup.Escape(i.Name), i.Kind.ToString().ToLowerInvariant(), DeviceMemory.Format(i.Bytes), Markup.Escape(i.Counts));
        table.AddRow("[bold]total[/]", "", $"[bold]{DeviceMemory.Format(plan.TotalBytes)}[/]", Markup.Escape($"{device.Where}: {DeviceMemory.Format(device.Bytes)}"));
        AnsiConsole.Write(table);
        if (plan.TotalBytes <= device.Bytes)
        {
            AnsiConsole.MarkupLine($"fits: {DeviceMemory.Format(device.Bytes - plan.TotalBytes)} to spare on {Markup.Escape(device.Where)}");
            return;
        }
        AnsiConsole.MarkupLine($"[red]does not fit[/]: {DeviceMemory.Format(plan.TotalBytes - device.Bytes)} over {Markup.Escape(device.Where)}; what each change gives:");
        foreach (var a in advice)
            AnsiConsole.MarkupLine($"  {Markup.Escape(a.Change)} ({Markup.Escape(a.Setting)}): {DeviceMemory.Format(a.TotalBytes)}{(a.Fits ? ", fits" : "")}");
        var fix = MemoryAdvice.Smallest(advice);
        AnsiConsole.MarkupLine(fix is null ? "none of these fits" : $"smallest change that fits: [bold]{Markup.Escape(fix.SettingAndGpus)}[/]");
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
