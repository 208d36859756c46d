using System.Collections;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace Flame.Interop.Megatron;

/// <summary>
/// Megatron-LM's `torch_dist` checkpoint (megatron/core/dist_checkpointing): an iteration folder with
/// `metadata.json` ({"sharded_backend": "torch_dist", ...}), `common.pt` (torch.save of everything not sharded,
/// `args` included) and a PyTorch Distributed Checkpoint of the sharded tensors. Keys are global: with a
/// non-homogeneous layer pattern (FLAME-MoE's dense first layer) each layer is `decoder.layers.N.` (a uniform
/// stack has one `decoder.layers.` tensor with the layer axis first; transformer_block.py sharded_state_dict), and
/// SequentialMLP's experts are one tensor per weight with the global expert axis first,
/// `...mlp.experts.experts.linear_fc1.weight` [E, 2F, h] (moe/experts.py sharded_state_dict). Gated fc1 keeps
/// [gate; up] along its rows across tensor-parallel ranks (mlp.py apply_swiglu_sharded_factory). Optimizer
/// entries (`optimizer.*`) are ignored.
/// </summary>
public sealed partial class TorchDistCheckpoint : IMegatronCheckpoint
{
    public const string CommonFile = "common.pt";
    public const string MegatronMetadataFile = "metadata.json";

    readonly DistCheckpoint _dist;
    readonly Dictionary<string, (string Key, long[] Index, long[] Shape)> _names = new(StringComparer.Ordinal);
    readonly Dictionary<string, Tensor> _cache = new(StringComparer.Ordinal);

    public string Source { get; }
    public MegatronArgs Args { get; }
    public long Iteration { get; }
    public IReadOnlyCollection<string> Names => _names.Keys;

    public static bool IsTorchDist(string iterationFolder) =>
        File.Exists(Path.Combine(iterationFolder, MegatronMetadataFile)) || File.Exists(Path.Combine(iterationFolder, DistCheckpoint.MetadataFile));

    public TorchDistCheckpoint(string iterationFolder, long iteration)
    {
        Source = iterationFolder;
        Iteration = iteration;
        var json = Path.Combine(iterationFolder, MegatronMetadataFile);
        if (File.Exists(json))
        {
            var backend = (JsonNode.Parse(File.ReadAllText(json)) as JsonObject)?["sharded_backend"]?.GetValue<string>();
            if (backend != "torch_dist") throw new UserError($"{json}: sharded_backend '{backend}': Flame reads torch_dist (and the legacy torch format)");
        }
        var commonPath = Path.Combine(iterationFolder, CommonFile);
        if (!File.Exists(commonPath)) throw new UserError($"{iterationFolder}: missing {CommonFile} (it holds the saved arguments)");
        using (var common = TorchArchive.Open(commonPath))
            Args = new MegatronArgs((common.Root as Hashtable)?["args"], commonPath);
        var config = Args.ToModelConfig("check");
        _dist = new DistCheckpoint(iterationFolder);
        foreach (var (key, size) in _dist.Tensors)
            foreach (var (name, index) in Expand(key, size, config.Layers, config.Experts))
                _names[name] = (key, index, size[index.Length..]);
    }

    /// <summary>The legacy names a stored key holds, with the leading indices that select each.</summary>
    static IEnumerable<(string Name, long[] Index)> Expand(string key, long[] size, int layers, int experts)
    {
        if (key.StartsWith("optimizer.", StringComparison.Ordinal) || key.EndsWith("_extra_state", StringComparison.Ordinal)) yield break;
        var perLayer = new List<(string Prefix, string Tail, long[] Index)>();
        if (NumberedLayer().Match(key) is { Success: true } numbered)
            perLayer.Add(($"decoder.layers.{numbered.Groups[1].Value}.", numbered.Groups[2].Value, []));
        else if (StackedLayers().Match(key) is { Success: true } stacked && size.Length > 0 && size[0] == layers)
            for (int l = 0; l < layers; l++) perLayer.Add(($"decoder.layers.{l}.", stacked.Groups[1].Value, [l]));
        else
        {
            yield return (key, []);
            yield break;
        }
        foreach (var (prefix, tail, index) in perLayer)
        {
            if (StackedExperts().Match(tail) is { Success: true } expertKey && size.Length > index.Length && size[index.Length] == experts)
                for (int e = 0; e < experts; e++)
                    yield return ($"{prefix}{expertKey.Groups[1].Value}local_experts.{e}.{expertKey.Groups[2].Value}", [.. index, e]);
            else yield return (prefix + tail, index);
        }
    }

    public long[] Shape(string name) => _names[name].Shape;

    public Tensor Read(string name)
    {
        var (key, index, _) = _names[name];
        if (!_cache.TryGetValue(key, out var global))
        {
            // Keep only the stored tensors of one layer: the weight map reads a layer's names together.
            var layer = LayerOf(key);
            foreach (var stale in _cache.Keys.Where(k => LayerOf(k) != layer).ToList())
            {
                _cache[stale].Dispose();
                _cache.Remove(stale);
            }
            global = _dist.Read(key).DetachFromDisposeScope(); // cached beyond the caller's dispose scope
            _cache[key] = global;
        }
        var view = global.alias();
        foreach (var i in index)
        {
            var next = view[i];
            view.Dispose();
            view = next;
        }
        using (view) return view.to(ScalarType.Float32, copy: true).contiguous();
    }

    static string LayerOf(string key) => NumberedLayer().Match(key) is { Success: true } m ? m.Groups[1].Value : key;

    public void Dispose()
    {
        foreach (var tensor in _cache.Values) tensor.Dispose();
        _cache.Clear();
    }

    [GeneratedRegex(@"^decoder\.layers\.(\d+)\.(.*)$")]
    private static partial Regex NumberedLayer();

    [GeneratedRegex(@"^decoder\.layers\.(\D.*)$")]
    private static partial Regex StackedLayers();

    [GeneratedRegex(@"^(mlp\.experts\.)experts\.(.*)$")]
    private static partial Regex StackedExperts();
}
