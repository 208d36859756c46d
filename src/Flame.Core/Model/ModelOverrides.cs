using System.Globalization;

namespace Flame.Model;

/// <summary>
/// Applies `key=value` overrides to a model config, so every number of a preset can be changed from the
/// command line (`--set experts=8 --set top_k=2 --set dense_layers=0,1`). Keys are the snake_case names
/// that `flame model info --json` prints.
/// </summary>
public static class ModelOverrides
{
    public static readonly IReadOnlyList<string> Keys =
    [
        "layers", "hidden", "heads", "dense_ffn", "experts", "top_k", "expert_ffn", "shared_expert_ffn",
        "dense_layers", "vocab_size", "vocab_multiple", "max_positions", "rope_base", "norm_eps", "init_std",
        "aux_loss_coeff", "z_loss_coeff",
    ];

    public static ModelConfig Apply(ModelConfig config, IEnumerable<string> assignments)
    {
        foreach (var assignment in assignments)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new UserError($"override '{assignment}' is not key=value; valid keys: {string.Join(", ", Keys)}");
            config = Apply(config, assignment[..eq].Trim().ToLowerInvariant(), assignment[(eq + 1)..].Trim());
        }
        return config;
    }

    static ModelConfig Apply(ModelConfig c, string key, string value)
    {
        int Int() => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new UserError($"override {key}={value}: expected an integer");
        double Real() => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new UserError($"override {key}={value}: expected a number");
        int[] IntList() => value.Length == 0 ? [] : value.Split(',').Select(part =>
            int.TryParse(part.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : throw new UserError($"override {key}={value}: expected comma-separated integers")).ToArray();

        return key switch
        {
            "layers" => c with { Layers = Int() },
            "hidden" => c with { Hidden = Int() },
            "heads" => c with { Heads = Int() },
            "dense_ffn" => c with { DenseFfn = Int() },
            "experts" => c with { Experts = Int() },
            "top_k" => c with { TopK = Int() },
            "expert_ffn" => c with { ExpertFfn = Int() },
            "shared_expert_ffn" => c with { SharedExpertFfn = Int() },
            "dense_layers" => c with { DenseLayers = IntList() },
            "vocab_size" => c with { VocabSize = Int() },
            "vocab_multiple" => c with { VocabMultiple = Int() },
            "max_positions" => c with { MaxPositions = Int() },
            "rope_base" => c with { RopeBase = Real() },
            "norm_eps" => c with { NormEps = Real() },
            "init_std" => c with { InitStd = Real() },
            "aux_loss_coeff" => c with { AuxLossCoeff = Real() },
            "z_loss_coeff" => c with { ZLossCoeff = Real() },
            _ => throw new UserError($"unknown model key '{key}'; valid keys: {string.Join(", ", Keys)}"),
        };
    }
}
