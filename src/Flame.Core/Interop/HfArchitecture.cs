namespace Flame.Interop;

/// <summary>The transformers classes a Flame model maps onto: MoE models as Qwen2MoE, dense ones as Llama.</summary>
public enum HfArchitecture
{
    Qwen2Moe,
    Llama,
}
