using System.Globalization;
using System.Text.RegularExpressions;

namespace Flame.Interop.Megatron;

/// <summary>
/// Finds one iteration of a Megatron-LM `--save` folder (megatron/training/checkpointing.py): `iter_NNNNNNN`
/// folders beside `latest_checkpointed_iteration.txt` (the newest, or "release"). The folder given may also be
/// an iteration folder itself. Opens it as <see cref="TorchDistCheckpoint"/> or <see cref="LegacyCheckpoint"/>.
/// </summary>
public static partial class MegatronCheckpointFolder
{
    public const string LatestFile = "latest_checkpointed_iteration.txt";

    public static IMegatronCheckpoint Open(string folder, long? iteration)
    {
        var (path, step) = Resolve(folder, iteration);
        if (LegacyCheckpoint.IsLegacy(path)) return new LegacyCheckpoint(path, step);
        if (TorchDistCheckpoint.IsTorchDist(path)) return new TorchDistCheckpoint(path, step);
        throw new UserError($"{path}: neither a torch_dist checkpoint (metadata.json, .metadata, common.pt) nor a legacy one (mp_rank_*/{LegacyCheckpoint.FileName})");
    }

    public static (string Folder, long Iteration) Resolve(string folder, long? iteration)
    {
        if (!Directory.Exists(folder)) throw new UserError($"{folder}: no such folder");
        var full = Path.GetFullPath(folder).TrimEnd(Path.DirectorySeparatorChar);
        if (IterationName().Match(Path.GetFileName(full)) is { Success: true } own)
        {
            long step = long.Parse(own.Groups[1].Value, CultureInfo.InvariantCulture);
            if (iteration is long wanted && wanted != step) throw new UserError($"{folder} is iteration {step}, not {wanted}");
            return (full, step);
        }
        if (iteration is long chosen)
        {
            var named = Path.Combine(full, $"iter_{chosen:D7}");
            if (!Directory.Exists(named)) throw new UserError($"{folder}: no iteration {chosen} (no folder iter_{chosen:D7}); present: {Present(full)}");
            return (named, chosen);
        }
        var latest = Path.Combine(full, LatestFile);
        if (File.Exists(latest))
        {
            var text = File.ReadAllText(latest).Trim();
            if (text == "release") return (Path.Combine(full, "release"), 0);
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var step))
                throw new UserError($"{latest}: '{text}' is not an iteration number");
            var named = Path.Combine(full, $"iter_{step:D7}");
            if (!Directory.Exists(named)) throw new UserError($"{latest} names iteration {step}, but {named} is missing");
            return (named, step);
        }
        var folders = Iterations(full);
        if (folders.Count == 0) throw new UserError($"{folder}: no iter_NNNNNNN folders and no {LatestFile} (not a Megatron-LM checkpoint folder)");
        return folders[^1];
    }

    static List<(string Folder, long Iteration)> Iterations(string folder) =>
        Directory.EnumerateDirectories(folder, "iter_*")
            .Select(d => (d, m: IterationName().Match(Path.GetFileName(d))))
            .Where(x => x.m.Success)
            .Select(x => (x.d, long.Parse(x.m.Groups[1].Value, CultureInfo.InvariantCulture)))
            .OrderBy(x => x.Item2).ToList();

    static string Present(string folder)
    {
        var steps = Iterations(folder).Select(x => x.Iteration.ToString(CultureInfo.InvariantCulture)).ToList();
        return steps.Count == 0 ? "none" : string.Join(", ", steps);
    }

    [GeneratedRegex(@"^iter_(\d+)$")]
    private static partial Regex IterationName();
}
