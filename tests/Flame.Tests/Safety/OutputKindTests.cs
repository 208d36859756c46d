using Flame.Checkpointing;
using Flame.Evaluation.Tasks;
using Flame.Evaluation;
using Flame.Output;

namespace Flame.Tests.Safety;

/// <summary>Output names what other parts write without depending on them; these checks keep the names in step.</summary>
public class OutputKindTests
{
    [Fact]
    public void AnEvalFolderOwnsTheFilesOfEveryHarnessTask()
    {
        Assert.Equal(HarnessTasks.Names, OutputKind.EvalTasks);
        foreach (var task in HarnessTasks.Names)
        {
            Assert.Contains($"{task}.json", OutputKind.Eval.Owns);
            Assert.Contains($"samples_{task}.jsonl", OutputKind.Eval.Owns);
        }
        Assert.Contains(Evaluator.SummaryFile, OutputKind.Eval.Owns);
        Assert.Contains(Evaluator.PerplexityFile, OutputKind.Eval.Owns);
    }

    [Fact]
    public void ARunFolderOwnsEveryNameItsWritersUse()
    {
        Assert.Equal(RunFiles.Name.Metrics, Flame.Training.MetricsSink.FileName);
        Assert.Equal(RunFiles.Name.TokenizerJson, Flame.Checkpointing.TrainedCheckpoint.TokenizerFile);
        Assert.Equal(RunFiles.Name.CheckpointState, Flame.Checkpointing.CheckpointStore.StateFile);
        Assert.Equal(RunFiles.Name.Eval, Evaluator.FolderName);
        Assert.Equal(RunFiles.Name.ConfigToml, Flame.Experiments.ExperimentConfigFile.ResolvedFileName);
        foreach (var name in new[] { RunFiles.Name.Checkpoints, RunFiles.Name.ConfigJson, RunFiles.Name.ConfigToml, RunFiles.Name.Metrics,
                     RunFiles.Name.TensorBoard, RunFiles.Name.TokenizerJson, RunFiles.Name.TokenizerText, RunFiles.Name.Eval,
                     RunFiles.Name.Traces, RunFiles.Name.Analysis, RunFiles.Name.Report })
            Assert.Contains(name, OutputKind.Run.Owns);
    }
}
