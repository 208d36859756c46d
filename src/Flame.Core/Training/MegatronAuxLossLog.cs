using Flame.Model;

namespace Flame.Training;

/// <summary>
/// The load-balancing loss as the original's logs show it, so Flame's curves can be laid over FLAME-MoE's published
/// W&amp;B/TensorBoard `load_balancing_loss`. Megatron (FLAME-MoE's fork cbaf684c) records each MoE layer's aux loss
/// divided by its coefficient (transformer/moe/router.py apply_load_balancing_loss, 251-257:
/// save_to_aux_losses_tracker("load_balancing_loss", aux_loss / moe_aux_loss_coeff, layer_number, num_layers)), adds
/// the micro-batches of a step into a vector of num_layers slots (moe_utils.py save_to_aux_losses_tracker, 546-573; the dense first layer's slot
/// stays 0), and logs that vector's mean times 1/num_microbatches (moe_utils.py track_moe_metrics, 603-642,
/// training.py 1118-1120). So the logged value is (1 / layers) x sum over MoE layers of loss/coeff, averaged over
/// the step's micro-batches. Flame's own `load_balancing_loss` is what enters the training loss, sum over MoE
/// layers of coeff x loss (micro-batch mean): the two differ by the factor coeff x layers.
/// Two details of Megatron's logging that Flame does not copy: it logs the tracker of its last rank alone (not
/// reduced over data-parallel ranks, where Flame averages the ranks: the same expectation), and it logs nothing when
/// the coefficient is 0. Newer Megatron-LM divides by the number of MoE layers instead of all layers.
/// </summary>
public static class MegatronAuxLossLog
{
    /// <summary>The metrics.jsonl field and TensorBoard scalar.</summary>
    public const string Field = "megatron_load_balancing_loss";

    /// <param name="loadBalancingLoss">Flame's logged load_balancing_loss: sum over MoE layers of coeff x loss, mean over micro-batches and steps.</param>
    /// <returns>Megatron's logged value, or null where Megatron logs none (no MoE layer, coefficient 0).</returns>
    public static double? LoadBalancing(double loadBalancingLoss, ModelConfig model) =>
        model.IsMoe && model.AuxLossCoeff > 0 ? loadBalancingLoss / model.AuxLossCoeff / model.Layers : null;
}
