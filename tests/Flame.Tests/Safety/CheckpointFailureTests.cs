using System.CommandLine;
using System.Text.Json.Nodes;
using Flame.Checkpointing;
using Flame.Cli.Commands;
using Flame.Failures;
using Flame.Interop;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Interop;
using Flame.Tests.Model;
using Flame.Training;

namespace Flame.Tests.Safety;

/// <summary>checkpoints that cannot be written or read end in one line naming the checkpoint, never a stack trace.</summary>
public class CheckpointFailureTests
{
    static int ExitCodeOf(Exception e) => TopLevelHandler.Report(e, new StringWriter(), []);

    [Fact]
    public void DiskFullWhileCheckpointingRemovesThePartialCheckpointAndSaysHowMuchSpaceIsNeeded()
    {
        using var dir = new TempFolder();
        var store = new CheckpointStore(dir.Path);
        var payload = new byte[3 << 20];
        store.Save(2, "{}", folder => File.WriteAllBytes(Path.Combine(folder, "model.bin"), payload));
        var before = FolderSnapshot.Of(dir.Path);

        var e = Assert.Throws<EnvironmentError>(() => store.Save(4, "{}", folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, "model.bin"), payload[..(1 << 20)]);
            // /dev/full fails every write with ENOSPC, the disk-full error a real full disk gives.
            if (File.Exists("/dev/full")) File.WriteAllBytes("/dev/full", payload);
            else throw IoFailure.DiskFull(Path.Combine(folder, "optimizer.bin"));
        }));

        Assert.Contains("disk full while writing checkpoint iter_0000004", e.Message);
        Assert.Contains("removed the partial checkpoint; a checkpoint needs about 3.0 MiB", e.Message);
        Assert.Contains("is free", e.Message);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before)); // no iter_0000004.tmp, iter_0000002 untouched
        Assert.Equal(1, ExitCodeOf(e));
        Assert.Equal(2, store.Latest()!.Value.State.Step);
    }

    [Fact]
    public void ACheckpointWhoseModelJsonDisagreesWithModelBinIsNamed()
    {
        using var dir = new TempFolder();
        using var model = new FlameModel(TinyModels.Moe);
        var folder = new CheckpointStore(dir.Path).Save(3, "{}", f =>
        {
            model.save(Path.Combine(f, Checkpoint.ModelFile));
            ModelConfigJson.Write(f, TinyModels.Moe with { ExpertFfn = 24 }); // hashes match; the shapes do not
        });
        var before = FolderSnapshot.Of(dir.Path);
        var e = Assert.Throws<UserError>(() => TrainedCheckpoint.Load(folder));
        Assert.StartsWith($"{Path.Combine(folder, "model.bin")} does not match model.json", e.Message);
        Assert.Equal(2, ExitCodeOf(e));
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    static string ExportTinyMoe(TempFolder dir, Action<JsonObject> editConfig)
    {
        TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe);
        using (var checkpoint = TrainedCheckpoint.Load(dir.File("run")))
            HfExport.Write(checkpoint, dir.File("hf"), new HfExportOptions(Parity: false));
        var config = HfConfig.Read(dir.File("hf"));
        editConfig(config);
        File.WriteAllText(dir.File("hf/config.json"), config.ToJsonString());
        return dir.File("hf");
    }

    [Fact]
    public void ABillionExpertsInAnImportedConfigIsRefusedBeforeAllocating()
    {
        using var dir = new TempFolder();
        var hf = ExportTinyMoe(dir, c => c["num_experts"] = 1_000_000_000);
        var before = FolderSnapshot.Of(dir.Path);
        var (code, _, err) = CliHarness.Run([ImportCommands.Create()], "import", "hf", "--model", hf, "--out", dir.File("back"));
        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(hf, "config.json")}: describes", err);
        Assert.Contains("num_experts 1000000000", err);
        Assert.Contains("config.json does not match the weights", err);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }

    [Fact]
    public void NumExpertsWrittenAs1e9IsNotAnInteger()
    {
        using var dir = new TempFolder();
        var hf = ExportTinyMoe(dir, c => c["num_experts"] = JsonNode.Parse("1e9"));
        var (code, _, err) = CliHarness.Run([ImportCommands.Create()], "import", "hf", "--model", hf, "--out", dir.File("back"));
        Assert.Equal(2, code);
        Assert.Contains($"{Path.Combine(hf, "config.json")}: num_experts must be an integer", err);
        Assert.False(Directory.Exists(dir.File("back")));
    }

    [Fact]
    public void TraceNamesACheckpointItSkipsBecauseItFailsItsHash()
    {
        using var dir = new TempFolder();
        var run = TinyCheckpoints.Create(dir.File("run"), TinyModels.Moe, step: 2);
        TinyCheckpoints.Create(run, TinyModels.Moe, step: 4);
        var damaged = Path.Combine(run, "checkpoints", "iter_0000002");
        var bytes = File.ReadAllBytes(Path.Combine(damaged, "model.bin"));
        bytes[^1] ^= 0xFF;
        File.WriteAllBytes(Path.Combine(damaged, "model.bin"), bytes);

        Assert.Equal([(damaged, "a file does not match its SHA-256 in state.json (damaged or changed since it was written)")], CheckpointDiagnosis.Invalid(run));
        var before = FolderSnapshot.Of(dir.Path);
        // The run has no config.json, so trace stops after listing checkpoints: the skip is said before that.
        var (code, stdout, err) = CliHarness.Run([TraceCommands.Create()], "trace", "--run", run);
        Assert.Equal(2, code);
        Assert.Contains($"skipped checkpoint {damaged}: a file does not match its SHA-256", stdout.ReplaceLineEndings(""));
        Assert.Contains("give --data PREFIX", err);
        Assert.Empty(FolderSnapshot.Of(dir.Path).ChangesSince(before));
    }
}
