using Flame.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Flame.Benchmarking;

/// <summary>
/// Attributes a training step's time to <see cref="StepPhase"/>s. Forward: each mark starts a phase. Backward:
/// each marked tensor is wrapped in an identity autograd node whose backward marks the phase that preceded it in
/// the forward pass, because autograd runs those ops next (it runs ready nodes latest-created first, so the
/// backward visits the phases in reverse). Time between two consecutive boundaries goes to the phase the
/// earlier one started; the optimizer is marked by the caller.
/// </summary>
public sealed class PhaseTimeline(IPhaseClock clock) : IPhaseProbe
{
    readonly List<(StepPhase Phase, int Stamp)> _boundaries = [];
    StepPhase _current = StepPhase.Other;

    public string ClockName => clock.Name;

    /// <summary>The phases the boundaries of the current step started, in the order they were taken.</summary>
    public IReadOnlyList<StepPhase> BoundaryPhases => _boundaries.Select(b => b.Phase).ToList();

    public void BeginStep()
    {
        clock.Reset();
        _boundaries.Clear();
        _current = StepPhase.Other;
        Boundary(StepPhase.Other);
    }

    public Tensor Enter(Tensor x, StepPhase phase)
    {
        var before = _current;
        _current = phase;
        Boundary(phase);
        return x.requires_grad ? BackwardMark.apply(x, this, before) : x;
    }

    /// <summary>A boundary outside the model (the optimizer).</summary>
    public void Begin(StepPhase phase)
    {
        _current = phase;
        Boundary(phase);
    }

    void Boundary(StepPhase phase) => _boundaries.Add((phase, clock.Stamp()));

    /// <summary>Ends the step: waits for the device and returns seconds per phase (every phase present, maybe 0).</summary>
    public Dictionary<StepPhase, double> EndStep()
    {
        Boundary(StepPhase.Other);
        clock.Finish();
        var seconds = Enum.GetValues<StepPhase>().ToDictionary(p => p, _ => 0.0);
        for (int i = 0; i + 1 < _boundaries.Count; i++)
            seconds[_boundaries[i].Phase] += clock.Seconds(_boundaries[i].Stamp, _boundaries[i + 1].Stamp);
        return seconds;
    }

    /// <summary>Identity forward; its backward marks a boundary and passes the gradient through.</summary>
    sealed class BackwardMark : autograd.SingleTensorFunction<BackwardMark>
    {
        public override string Name => "PhaseMark";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            ctx.save_data("timeline", vars[1]);
            ctx.save_data("phase", vars[2]);
            return ((Tensor)vars[0]).alias();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            ((PhaseTimeline)ctx.get_data("timeline")).Boundary((StepPhase)ctx.get_data("phase"));
            return [grad_output, null!, null!];
        }
    }
}
