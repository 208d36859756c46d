using System.IO.Compression;
using System.Text.Json.Nodes;
using Flame.Checkpointing;
using Flame.Cli.Commands;
using Flame.Interop.Megatron;
using Flame.Interop;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Training;
using Razorvine.Pickle.Objects;
using static TorchSharp.torch;

namespace Flame.Tests.Interop;

/// <summary>
/// Megatron-LM checkpoints written by PyTorch (scripts/make-megatron-checkpoint.py, fixtures in Interop/Fixtures/megatron)
/// imported back: the logits must be the source checkpoint's (parity/logits.safetensors, computed by Flame before
/// the conversion) in every format, and each bad input is one line with nothing written.
/// </summary>
public class MegatronImportTests
{
    static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Interop", "Fixtures", "megatron", name);

    /// <summary>Same shape and every element equal.</summary>
    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static string CopyFixture(TempFolder dir, string name)
    {
        var target = dir.File(name);
        foreach (var file in Directory.EnumerateFiles(Fixture(name), "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(Fixture(name), file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }
        return target;
    }

    [Theory]
    [InlineData("legacy")]
    [InlineData("legacy-bf16")]
    [InlineData("torch_dist")]
    public void EveryFormatGivesTheSourceLogits(string format)
    {
        using var dir = new TempFolder();
        var result = MegatronImport.Run(Fixture(format), dir.File("run"));
        Assert.Equal(5, result.Iteration);
        Assert.Equal(dir.File("run/checkpoints/iter_0000005"), result.Checkpoint);
        var c = result.Config;
        // The numbers come from the saved args: 3 layers, dense first (moe_layer_freq [0, 1, 1]), 4 experts top-2.
        Assert.Equal((3, 16, 2, 64, 32, 4, 2, 8, 16), (c.Layers, c.Hidden, c.Heads, c.PaddedVocab, c.DenseFfn, c.Experts, c.TopK, c.ExpertFfn, c.SharedExpertFfn));
        Assert.Equal([0], c.DenseLayers);

        using var checkpoint = TrainedCheckpoint.Load(dir.File("run"));
        var ids = JsonNode.Parse(File.ReadAllText(Fixture("parity/tokens.json")))!["input_ids"]!.AsArray()
            .Select(r => r!.AsArray().Select(n => n!.GetValue<long>()).ToArray()).ToArray();
        using var expected = SafetensorsFile.Open(Fixture("parity/logits.safetensors"));
        using var _ = no_grad();
        var logits = checkpoint.Model.forward(tensor(ids.SelectMany(r => r).ToArray(), [ids.Length, ids[0].Length])).Logits;
        var difference = (logits - expected.Read("logits")).abs().max().item<float>();
        Assert.True(difference <= 1e-6, $"{format}: max |logit difference| {difference}");
    }

    [Fact]
    public void SavedArgsAndTorchObjectsAreRead()
    {
        using var archive = TorchArchive.Open(Fixture("legacy/iter_0000005/mp_rank_00_001/model_optim_rng.pt"));
        var root = (System.Collections.Hashtable)archive.Root!;
        var args = (ClassDict)root["args"]!;
        Assert.Equal("argparse.Namespace", args.ClassName);
        Assert.Equal(2, Convert.ToInt32(args["expert_model_parallel_size"]));
        // An enum in the args (Megatron's AttnBackend, pickled by Python 3.11 as getattr(AttnBackend, 'auto'))
        // does not stop the read: the value is kept as whatever object the unpickler built.
        Assert.NotNull(args["attention_backend"]);
        var model = (System.Collections.Hashtable)root["model"]!;
        // Rank 1 of EP 2 holds experts 2 and 3 as local_experts 0 and 1.
        var fc1 = Assert.IsType<TorchTensorRef>(model["decoder.layers.1.mlp.experts.local_experts.1.linear_fc1.weight"]);
        Assert.Equal([16L, 16], fc1.Shape);
        Assert.Equal(ScalarType.Float32, fc1.Storage.DType);
        Assert.False(model.ContainsKey("decoder.layers.1.mlp.experts.local_experts.2.linear_fc1.weight"));
    }

    [Fact]
    public void LegacyExpertShardsAreNumberedGlobally()
    {
        using var checkpoint = new LegacyCheckpoint(Fixture("legacy/iter_0000005"), 5);
        using var dist = new TorchDistCheckpoint(Fixture("torch_dist/iter_0000005"), 5);
        Assert.Equal(checkpoint.Names.Order(), dist.Names.Order());
        foreach (var name in new[] { "decoder.layers.2.mlp.experts.local_experts.3.linear_fc2.weight", "decoder.layers.1.mlp.experts.local_experts.0.linear_fc1.weight",
                     "decoder.layers.0.self_attention.linear_qkv.weight" })
        {
            using var a = checkpoint.Read(name);
            using var b = dist.Read(name);
            Assert.True(Same(a, b), name);
        }
    }

    [Fact]
    public void TheBf16FlatBufferHoldsTheSameWeightsRounded()
    {
        // legacy-bf16 stores every weight as a view into one bf16 buffer and the router strided (transposed).
        using var bf16 = new LegacyCheckpoint(Fixture("legacy-bf16/iter_0000005"), 5);
        using var fp32 = new LegacyCheckpoint(Fixture("legacy/iter_0000005"), 5);
        foreach (var name in fp32.Names)
        {
            using var a = fp32.Read(name);
            using var b = bf16.Read(name);
            using var rounded = a.to(ScalarType.BFloat16).to(ScalarType.Float32);
            Assert.True(Same(rounded, b), name);
        }
    }

    [Fact]
    public void QkvIsInterleavedPerHeadAsMegatronDoes()
    {
        using var dir = new TempFolder();
        MegatronImport.Run(Fixture("legacy"), dir.File("run"));
        using var imported = TrainedCheckpoint.Load(dir.File("run"));
        using var source = new LegacyCheckpoint(Fixture("legacy/iter_0000005"), 5);
        using var megatron = source.Read("decoder.layers.1.self_attention.linear_qkv.weight"); // [3h, h]
        var qkv = imported.Model.blocks[1].attention.qkv;                                      // [q; k; v]
        long d = 8, h = 16;
        // Megatron rows of head g: [q_g; k_g; v_g] (attention.py get_query_key_value_tensors).
        for (int g = 0; g < 2; g++)
            for (int j = 0; j < 3; j++)
                Assert.True(Same(megatron.narrow(0, (g * 3 + j) * d, d), qkv.narrow(0, j * h + g * d, d)), $"head {g}, part {j}");
    }

    static string CliError(params string[] args)
    {
        var (code, _, err) = CliHarness.Run([ImportCommands.Create()], ["import", .. args]);
        Assert.Equal(2, code);
        var line = err.Trim();
        Assert.DoesNotContain('\n', line);
        return line;
    }

    static void AssertNothingWritten(TempFolder dir, string output)
    {
        Assert.False(Directory.Exists(dir.File(output)));
        Assert.DoesNotContain(dir.Entries(), e => e.Contains(".tmp"));
    }

    [Fact]
    public void AMissingExpertShardIsOneLine()
    {
        using var dir = new TempFolder();
        var legacy = CopyFixture(dir, "legacy");
        Directory.Delete(Path.Combine(legacy, "iter_0000005/mp_rank_00_001"), recursive: true);
        Assert.Contains("missing shard mp_rank_00_001/model_optim_rng.pt", CliError("megatron", "--checkpoint", legacy, "--out", dir.File("out")));
        AssertNothingWritten(dir, "out");
    }

    [Fact]
    public void AMissingDistcpFileIsOneLine()
    {
        using var dir = new TempFolder();
        var dist = CopyFixture(dir, "torch_dist");
        File.Delete(Path.Combine(dist, "iter_0000005/__0_0.distcp"));
        Assert.Contains("missing shard __0_0.distcp", CliError("megatron", "--checkpoint", dist, "--out", dir.File("out")));
        AssertNothingWritten(dir, "out");
    }

    [Fact]
    public void ATruncatedFileIsOneLine()
    {
        using var dir = new TempFolder();
        var legacy = CopyFixture(dir, "legacy");
        var file = Path.Combine(legacy, "iter_0000005/mp_rank_00_000/model_optim_rng.pt");
        var bytes = File.ReadAllBytes(file);
        File.WriteAllBytes(file, bytes[..(bytes.Length / 2)]);
        Assert.Contains("model_optim_rng.pt: not a torch.save file", CliError("megatron", "--checkpoint", legacy, "--out", dir.File("out")));
        AssertNothingWritten(dir, "out");
    }

    [Fact]
    public void ATruncatedPickleIsOneLine()
    {
        using var dir = new TempFolder();
        var legacy = CopyFixture(dir, "legacy");
        var file = Path.Combine(legacy, "iter_0000005/mp_rank_00_001/model_optim_rng.pt");
        using (var zip = ZipFile.Open(file, ZipArchiveMode.Update))
        {
            var entry = zip.Entries.Single(e => e.FullName.EndsWith("data.pkl"));
            byte[] pickle;
            using (var stream = entry.Open()) { using var copy = new MemoryStream(); stream.CopyTo(copy); pickle = copy.ToArray(); }
            var name = entry.FullName;
            entry.Delete();
            using var rewritten = zip.CreateEntry(name).Open();
            rewritten.Write(pickle, 0, pickle.Length / 2);
        }
        var message = CliError("megatron", "--checkpoint", legacy, "--out", dir.File("out"));
        Assert.Contains("mp_rank_00_001/model_optim_rng.pt: damaged pickle", message);
        AssertNothingWritten(dir, "out");
    }

    /// <summary>A checkpoint with one more stored tensor than Flame's model has.</summary>
    sealed class WithExtraTensor(IMegatronCheckpoint inner, string extra) : IMegatronCheckpoint
    {
        public string Source => inner.Source;
        public MegatronArgs Args => inner.Args;
        public long Iteration => inner.Iteration;
        public IReadOnlyCollection<string> Names => [.. inner.Names, extra];
        public long[] Shape(string name) => name == extra ? [3] : inner.Shape(name);
        public Tensor Read(string name) => name == extra ? ones(3) : inner.Read(name);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void AnUnexpectedTensorIsNamed()
    {
        using var checkpoint = new WithExtraTensor(new LegacyCheckpoint(Fixture("legacy/iter_0000005"), 5), "decoder.layers.1.self_attention.q_layernorm.weight");
        using var model = new FlameModel(checkpoint.Args.ToModelConfig("x"));
        var message = Assert.Throws<UserError>(() => MegatronImport.LoadWeights(model, checkpoint)).Message;
        Assert.Contains("unexpected tensor 'decoder.layers.1.self_attention.q_layernorm.weight'", message);
    }

    static MegatronArgs EditedArgs(Action<ClassDict> edit)
    {
        using var archive = TorchArchive.Open(Fixture("torch_dist/iter_0000005/common.pt"));
        var args = (ClassDict)((System.Collections.Hashtable)archive.Root!)["args"]!;
        edit(args);
        return new MegatronArgs(args, "common.pt");
    }

    [Theory]
    [InlineData("swiglu", false, "swiglu is off")]
    [InlineData("qk_layernorm", true, "qk_layernorm is on")]
    [InlineData("moe_router_num_groups", 4, "group-limited routing")]
    [InlineData("moe_router_pre_softmax", false, "moe_router_pre_softmax is off")]
    [InlineData("normalization", "LayerNorm", "normalization LayerNorm")]
    [InlineData("untie_embeddings_and_output_weights", false, "shares the embedding")]
    [InlineData("moe_expert_capacity_factor", 1.25, "moe_expert_capacity_factor 1.25")]
    public void ASettingFlameCannotRepresentIsNamed(string key, object value, string expected)
    {
        var args = EditedArgs(a => a[key] = value);
        var message = Assert.Throws<UserError>(() => args.ToModelConfig("x")).Message;
        Assert.Contains(expected, message);
        Assert.DoesNotContain('\n', message);
    }

    [Fact]
    public void ANonGptCheckpointIsOneLine()
    {
        var args = EditedArgs(a => a.Remove("num_layers"));
        Assert.Contains("no num_layers", Assert.Throws<UserError>(() => args.ToModelConfig("x")).Message);
    }

    [Fact]
    public void TheOutputFolderMustBeNewOrEmpty()
    {
        using var dir = new TempFolder();
        Directory.CreateDirectory(dir.File("out"));
        File.WriteAllText(dir.File("out/keep.txt"), "mine");
        Assert.Contains("not empty", CliError("megatron", "--checkpoint", Fixture("legacy"), "--out", dir.File("out")));
        Assert.Equal(["keep.txt"], Directory.GetFileSystemEntries(dir.File("out")).Select(Path.GetFileName));
        // An empty folder is fine.
        Directory.CreateDirectory(dir.File("empty"));
        MegatronImport.Run(Fixture("legacy"), dir.File("empty"));
        Assert.True(File.Exists(dir.File("empty/checkpoints/iter_0000005/model.json")));
    }

    [Fact]
    public void AnIterationIsChosenByNumber()
    {
        using var dir = new TempFolder();
        Assert.Contains("no iteration 7 (no folder iter_0000007); present: 5",
            CliError("megatron", "--checkpoint", Fixture("torch_dist"), "--out", dir.File("out"), "--iteration", "7"));
        var (code, output, _) = CliHarness.Run([ImportCommands.Create()], "import", "megatron", "--checkpoint", Fixture("torch_dist"), "--out", dir.File("out"), "--iteration", "5");
        Assert.Equal(0, code);
        Assert.Contains("torch_dist iteration 5", output);
    }
}
