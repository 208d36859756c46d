using Flame.Distributed;

namespace Flame.Tests.Distributed;

public class LaunchAndLayoutTests
{
    static Func<string, string?> Env(params (string Key, string Value)[] pairs) =>
        name => pairs.FirstOrDefault(p => p.Key == name).Value;

    [Fact]
    public void EachLauncherEnvironmentIsRead()
    {
        Assert.Equal(new LaunchEnvironment(1, 4, 1, "mpirun"),
            LaunchEnvironment.Detect(Env(("OMPI_COMM_WORLD_RANK", "1"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "1"))));
        Assert.Equal(new LaunchEnvironment(3, 8, 0, "pmi"), LaunchEnvironment.Detect(Env(("PMI_RANK", "3"), ("PMI_SIZE", "8"))));
        Assert.Equal(new LaunchEnvironment(9, 32, 1, "slurm"),
            LaunchEnvironment.Detect(Env(("SLURM_PROCID", "9"), ("SLURM_NTASKS", "32"), ("SLURM_LOCALID", "1"))));
        Assert.Equal(LaunchEnvironment.Single, LaunchEnvironment.Detect(Env()));
        // OpenMPI's variables win over a surrounding SLURM allocation's.
        Assert.Equal("mpirun", LaunchEnvironment.Detect(Env(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "1"),
            ("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "2"))).Launcher);
        var bad = Assert.Throws<UserError>(() => LaunchEnvironment.Detect(Env(("PMI_RANK", "4"), ("PMI_SIZE", "4"))));
        Assert.Contains("PMI_RANK=4", bad.Message);
    }

    [Fact]
    public void LayoutSplitsTheWorldIntoDataAndExpertRanks()
    {
        var layout = ParallelLayout.Resolve(8, new ParallelSettings { Expert = 4 }, experts: 64, microBatch: 2, globalBatch: 32);
        Assert.Equal(new ParallelLayout(8, 2, 4), layout);
        Assert.Equal("8 ranks: data 2 x expert 4", layout.Describe());
        Assert.Equal("2 ranks: data 2 x expert 1", ParallelLayout.Resolve(2, new ParallelSettings(), 64, 2, 4).Describe());
        // Rank 6 holds expert slice 2 and is the second replica of it.
        Assert.Equal(2, layout.ExpertRank(6));
        Assert.Equal(1, layout.DataRank(6));
        Assert.Equal(new ParallelSettings { Expert = 4, World = 8, Data = 2 }, layout.Record(new ParallelSettings { Expert = 4 }));
    }

    [Theory]
    [InlineData(4, 3, 64, 2, 8, "parallel.expert 3 does not divide the 4 ranks")]
    [InlineData(4, 4, 6, 2, 8, "parallel.expert 4 does not divide the model's 6 experts")]
    [InlineData(2, 1, 64, 4, 12, "training.global_batch 12 is not a multiple of training.micro_batch 4 x 2 ranks")]
    [InlineData(1, 0, 64, 1, 1, "parallel.expert must be at least 1 (got 0)")]
    public void ImpossibleLayoutsAreOneLineNamingTheNumbers(int world, int expert, int experts, int micro, int global, string message)
    {
        var error = Assert.Throws<UserError>(() => ParallelLayout.Resolve(world, new ParallelSettings { Expert = expert }, experts, micro, global));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void OneProcessNeverLoadsMpi()
    {
        // The test host has no launcher: the world is the local group of one, whatever is installed.
        Assert.Equal(LaunchEnvironment.Single, ProcessWorld.Launch);
        Assert.IsType<LocalCommunicator>(ProcessWorld.Communicator);
        Assert.DoesNotContain(System.Diagnostics.Process.GetCurrentProcess().Modules.Cast<System.Diagnostics.ProcessModule>(),
            m => m.ModuleName.StartsWith("libmpi", StringComparison.Ordinal));
    }
}
