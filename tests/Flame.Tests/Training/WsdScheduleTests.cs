using Flame.Training;

namespace Flame.Tests.Training;

public class WsdScheduleTests
{
    // 2121 iterations (flame-moe-38m at 1e18): warmup 21.21 steps (Megatron: 0.01 x 2121 x 1024 samples), decay floor(212.1) = 212 steps.
    static readonly WsdSchedule Flame38m = new(2121);

    [Fact]
    public void PhasesHaveFlameMoeLengths()
    {
        Assert.Equal(21.21, Flame38m.WarmupSteps, 12);
        Assert.Equal(212, Flame38m.DecaySteps);
    }

    [Fact]
    public void WarmupIsLinearFromZero()
    {
        Assert.Equal(0.0, Flame38m.LearningRate(0));
        // Megatron: lr = max * num_steps / lr_warmup_steps in samples = 3e-4 * (7 * 1024) / (0.01 * 2121 * 1024).
        Assert.Equal(3e-4 * 7 * 1024 / (0.01 * 2121 * 1024), Flame38m.LearningRate(7), 15);
        Assert.Equal(3e-4 * 21 / 21.21, Flame38m.LearningRate(21), 15);   // still warming up at step 21
        Assert.Equal(3e-4, Flame38m.LearningRate(22), 15);
    }

    [Fact]
    public void ShortRunsStillStartAtZero()
    {
        // 50 iterations: warmup 0.5 steps (512 samples of 1024 x 50 x 0.01). Megatron: num_steps 0 <= 512 gives lr 0
        // on the first step; after it, 1024 samples > 512, so the second step is already past the warmup.
        var s = new WsdSchedule(50);
        Assert.Equal(0.0, s.LearningRate(0));
        Assert.Equal(3e-4, s.LearningRate(1), 15);
    }

    [Fact]
    public void StableUntilTheDecayStarts()
    {
        Assert.Equal(3e-4, Flame38m.LearningRate(22));
        Assert.Equal(3e-4, Flame38m.LearningRate(2121 - 212));
    }

    [Fact]
    public void DecayFollowsTheExponentialFormula()
    {
        // Halfway through the decay, r = 0.5: 3e-5 + (2 * 0.5^0.5 - 1) * 2.7e-4 = 3e-5 + 0.41421356 * 2.7e-4.
        var s = new WsdSchedule(1000); // decay 100 steps from step 900
        Assert.Equal(3e-5 + (Math.Sqrt(2) - 1) * 2.7e-4, s.LearningRate(950), 12);
        Assert.Equal(1.4183766e-4, s.LearningRate(950), 10);
        Assert.Equal(3e-5, s.LearningRate(1000), 15);   // r = 1 gives min
        Assert.Equal(3e-5, s.LearningRate(1500), 15);   // past the end stays at min
    }

    [Fact]
    public void ImpossibleSchedulesAreRejected()
    {
        Assert.Throws<UserError>(() => new WsdSchedule(0).Validate());
        Assert.Throws<UserError>(() => new WsdSchedule(10, MaxLr: 1e-5, MinLr: 1e-4).Validate());
        Assert.Throws<UserError>(() => new WsdSchedule(10, WarmupFraction: 0.6, DecayFraction: 0.6).Validate());
    }
}
