using Flame.Model;

namespace Flame.Interop;

/// <summary>
/// Checks, before any tensor is allocated, that config.json describes a model the safetensors can fill: a
/// config claiming far more parameters than the files hold (num_experts=1e9) would otherwise allocate until
/// the machine runs out of memory. Per-tensor shapes are checked afterwards, tensor by tensor.
/// </summary>
public static class HfImportSize
{
    public static void RequireWeightsFor(ModelConfig config, SafetensorsFolder weights, string source)
    {
        long stored = weights.Names.Sum(n => weights.Entry(n).ElementCount);
        long needed = ModelAccounting.Of(config).TotalParams;
        if (needed <= 0 || config.Experts > 0 && needed < config.Experts) needed = long.MaxValue; // wrapped around: absurdly large
        // A tied output layer is not in the files; everything else is.
        long tiedHead = (long)config.VocabSize * config.Hidden;
        if (needed > stored + tiedHead)
            throw new UserError($"{source}: describes {needed:N0} parameters (num_experts {config.Experts}, {config.Layers} layers, hidden {config.Hidden}), " +
                $"but the safetensors in {weights.Folder} hold {stored:N0} values; config.json does not match the weights");
    }
}
