namespace Flame.Distributed;

/// <summary>
/// Where this process sits in a job, as the launcher tells it through the environment: OpenMPI's mpirun
/// (OMPI_COMM_WORLD_*), PMI launchers such as MPICH's or srun --mpi=pmi2 (PMI_*), or SLURM's srun (SLURM_*).
/// A process started without a launcher is rank 0 of 1.
/// </summary>
public sealed record LaunchEnvironment(int Rank, int Size, int LocalRank, string Launcher)
{
    public static readonly LaunchEnvironment Single = new(0, 1, 0, "none");

    public static LaunchEnvironment Detect() => Detect(Environment.GetEnvironmentVariable);

    public static LaunchEnvironment Detect(Func<string, string?> variable)
    {
        foreach (var (launcher, rank, size, local) in new[]
                 {
                     ("mpirun", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
                     ("pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
                     ("slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"),
                 })
        {
            if (variable(rank) is not { } r || variable(size) is not { } s) continue;
            if (!int.TryParse(r, out int rankValue) || !int.TryParse(s, out int sizeValue) || sizeValue < 1 || rankValue < 0 || rankValue >= sizeValue)
                throw new UserError($"the launcher's {rank}={r} / {size}={s} are not a rank below a positive world size");
            int localValue = int.TryParse(variable(local), out int l) ? l : 0;
            return new LaunchEnvironment(rankValue, sizeValue, localValue, launcher);
        }
        return Single;
    }
}
