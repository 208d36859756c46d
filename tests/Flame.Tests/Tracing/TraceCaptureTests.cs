using Flame.Checkpointing;
using Flame.Data.Indexed;
using Flame.Data.Samples;
using Flame.Tests.Data;
using Flame.Tracing.Parquet;
using Flame.Tracing;
using Flame.Training;

namespace Flame.Tests.Tracing;

public class TraceCaptureTests
{
    static string TinyRun(TempFolder dir)
    {
        var prefix = dir.File("corpus");
        var random = new Random(5);
        using (var writer = new IndexedDatasetWriter(prefix, IndexedDType.UInt16))
        {
            for (int d = 0; d < 80; d++)
                writer.AddDocument(Enumerable.Range(0, 40).Select(_ => random.Next(1, 200)).Append(0).ToArray());
            writer.Complete();
        }
        var run = dir.File("run");
        new Trainer(new TrainingConfig
        {
            ModelOverrides = ["layers=2", "hidden=32", "heads=4", "dense_ffn=48", "experts=8", "top_k=3", "expert_ffn=16",
                "shared_expert_ffn=32", "vocab_size=8192", "max_positions=32"],
            Data = [prefix], Sequence = 16, MicroBatch = 2, GlobalBatch = 2, Iterations = 4, Checkpoints = 2, SaveInterval = 2,
            LogEvery = 2, EvalIters = 1, Device = "cpu",
        }, run).Run(resume: false);
        return run;
    }

    static TraceOptions Options(string output) => new() { Tokens = 50, BatchSize = 2, Device = "cpu", Output = output };

    [Fact]
    public void TwoCapturesOfTheSameCheckpointsAreIdenticalAndAligned()
    {
        using var dir = new TempFolder();
        var run = TinyRun(dir);
        var first = TraceCapture.Run(run, Options(dir.File("a")));
        var second = TraceCapture.Run(run, Options(dir.File("b")));
        Assert.Equal([2L, 4L], first.Checkpoints);
        Assert.Equal(48, first.Tokens);                         // 3 whole samples of 16

        var files = Directory.GetFiles(dir.File("a"), "*", SearchOption.AllDirectories)
            .Where(f => !Flame.Output.OutputFolder.IsBookkeeping(Path.GetFileName(f))).Select(f => Path.GetRelativePath(dir.File("a"), f)).Order().ToList();
        Assert.Equal(["actives/iter_0002/layer_02.parquet", "actives/iter_0004/layer_02.parquet", "manifest.json", "samples/000.parquet"], files);
        foreach (var file in files)
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), file)), File.ReadAllBytes(Path.Combine(dir.File("b"), file)));

        var manifest = TraceManifest.Read(dir.File("a"))!;
        Assert.Equal((8, 3, 48L, 3, 16), (manifest.Experts, manifest.TopK, manifest.Tokens, manifest.Samples, manifest.Sequence));
        Assert.Equal([2], manifest.Layers);
        Assert.Equal([2L, 4L], manifest.Checkpoints);

        // samples/: the test split's first samples (as FLAME-MoE traced), with explicit (sample, position).
        Assert.Equal("test", manifest.Split);
        using var valid = DataPath.Parse([dir.File("corpus")]).Open(new GptSampleOptions(16, SplitName.Test, Seed: 1234));
        using var samples = TraceParquetReader.Open(dir.File("a/samples/000.parquet"));
        var tokens = samples.Read(0, samples.Column("token_id")!).IntValues.ToArray();
        Assert.Equal(Enumerable.Range(0, 3).SelectMany(s => valid.GetSample(s)[..16]), tokens);
        Assert.Equal(Enumerable.Range(0, 48).Select(i => i / 16), samples.Read(0, samples.Column("sample")!).IntValues.ToArray());
        Assert.Equal(Enumerable.Range(0, 48).Select(i => i % 16), samples.Read(0, samples.Column("position")!).IntValues.ToArray());

        // Row i is token i: sample 2 alone through the final checkpoint routes as rows 32..47 say (batch of 2 + 1).
        using var checkpoint = TrainedCheckpoint.Load(run);
        using var noGrad = TorchSharp.torch.no_grad();
        var alone = checkpoint.Model.forward(SampleBatch.ToTensor(valid, [2], checkpoint.Config.VocabSize)[.., ..16]).Moe[0].Routing;
        using var layer = TraceParquetReader.Open(dir.File("a/actives/iter_0004/layer_02.parquet"));
        var ids = layer.Read(0, layer.Column("indices")!).IntValues.ToArray();
        var scores = layer.Read(0, layer.Column("scores")!).FloatValues.ToArray();
        Assert.Equal(alone.Indices.data<long>().ToArray().Select(i => (int)i), ids[(32 * 3)..]);
        var gates = alone.Gates.data<float>().ToArray();
        for (int i = 0; i < gates.Length; i++) Assert.Equal((float)(Half)gates[i], scores[32 * 3 + i], 2);
        for (int r = 0; r < 48; r++) Assert.True(scores[r * 3] >= scores[r * 3 + 1] && scores[r * 3 + 1] >= scores[r * 3 + 2]);

        // Sample 1 was the second row of the first forward (batch of 2): its routing is rows 16..31, batch-major as the
        // token ids. The original's capture writes routing rows seq-major ([seq, batch] flattened), where rows 16..31
        // would hold positions 8..15 of samples 0 and 1 interleaved.
        var sampleOne = checkpoint.Model.forward(SampleBatch.ToTensor(valid, [1], checkpoint.Config.VocabSize)[.., ..16]).Moe[0].Routing;
        AssertSameRouting(sampleOne, ids[(16 * 3)..(32 * 3)]);
        var pair = checkpoint.Model.forward(SampleBatch.ToTensor(valid, [0, 1], checkpoint.Config.VocabSize)[.., ..16]).Moe[0].Routing;
        var seqMajor = pair.Indices.view(2, 16, 3).transpose(0, 1).contiguous().data<long>().ToArray().Select(i => (int)i).ToArray();
        Assert.NotEqual(seqMajor[(16 * 3)..(32 * 3)], ids[(16 * 3)..(32 * 3)]);
    }

    /// <summary>
    /// The capture's expert ids against a forward of another batch layout (sample 1 alone vs in a batch of 2): another GEMM
    /// shape, so the router's probabilities agree only to fp32 rounding (~1e-7) and two experts whose probabilities tie within
    /// it may trade places. Each slot holds the expected expert, or one whose expected probability is within 1e-5 (100 x that
    /// rounding, far below the 1/8 average gap between 8 experts' probabilities) of the expected expert's.
    /// </summary>
    static void AssertSameRouting(Flame.Model.RouterOutput expected, int[] actualIds)
    {
        var ids = expected.Indices.data<long>().ToArray();
        var probs = expected.Probs.data<float>().ToArray();
        int k = (int)expected.Indices.shape[1], experts = (int)expected.Probs.shape[1];
        Assert.Equal(ids.Length, actualIds.Length);
        for (int slot = 0; slot < ids.Length; slot++)
        {
            if (ids[slot] == actualIds[slot]) continue;
            int row = slot / k;
            double gap = Math.Abs(probs[row * experts + ids[slot]] - probs[row * experts + actualIds[slot]]);
            Assert.True(gap <= 1e-5, $"token {row}, slot {slot % k}: expert {actualIds[slot]} captured, {ids[slot]} expected (probabilities {gap:E2} apart)");
        }
    }

    [Fact]
    public void ACaptureResumesWithTheCheckpointsItLacks()
    {
        using var dir = new TempFolder();
        var run = TinyRun(dir);
        var output = dir.File("traces");
        TraceCapture.Run(run, Options(output));
        Directory.Delete(Path.Combine(output, "actives", "iter_0004"), recursive: true);
        var again = TraceCapture.Run(run, Options(output));
        Assert.Equal([4L], again.Checkpoints);
        Assert.Equal([2L], again.Skipped);
        var other = TraceCapture.Run(run, Options(output) with { Tokens = 32 });       // a different token set starts over
        Assert.Equal([2L, 4L], other.Checkpoints);
    }

    [Fact]
    public void ARunWithoutCheckpointsIsAUserError()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("empty"));
        var e = Assert.Throws<UserError>(() => TraceCapture.Run(dir.File("empty"), new TraceOptions()));
        Assert.Contains("no valid checkpoint", e.Message);
    }
}
