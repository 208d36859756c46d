using Flame.Checkpointing;
using Flame.Distributed;
using Flame.Model;
using Flame.Optimization;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Distributed;

public class StateFileAndDispatchTests
{
    /// <summary>A model and its AdamW after two steps, so the moments are non-trivial.</summary>
    static (FlameModel Model, TorchSharp.Modules.AdamW Adam) Trained()
    {
        manual_seed(3);
        var model = new FlameModel(TinyModels.Moe);
        var adam = OptimizerFactory.Create(model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)), new OptimizerSettings(), 1e-3);
        for (int step = 0; step < 2; step++)
        {
            adam.zero_grad();
            var output = model.forward(randint(0, 100, [2, 8]));
            output.TrainingLoss(output.Logits.square().mean()).backward();
            adam.step();
        }
        return (model, adam);
    }

    [Fact]
    public void StreamedFilesAreTorchSharpsOwnByteForByte()
    {
        using var dir = new TempFolder();
        var (model, adam) = Trained();
        using var _ = model;
        model.save(dir.File("torchsharp-model.bin"));
        adam.save_state_dict(dir.File("torchsharp-optimizer.bin"));

        TorchSharpStateFiles.WriteModule(dir.File("model.bin"),
            model.state_dict().Select(kv => new TorchSharpStateFiles.ModuleEntry(kv.Key, () => kv.Value)).ToList());
        var states = adam.state_dict().State.Cast<TorchSharp.Modules.AdamW.State>().ToList();
        TorchSharpStateFiles.WriteAdamW(dir.File("optimizer.bin"), adam.state_dict().Options,
            states.Select(s => new TorchSharpStateFiles.AdamWEntry(s.step, () => s.exp_avg, () => s.exp_avg_sq)).ToList());

        Assert.Equal(File.ReadAllBytes(dir.File("torchsharp-model.bin")), File.ReadAllBytes(dir.File("model.bin")));
        Assert.Equal(File.ReadAllBytes(dir.File("torchsharp-optimizer.bin")), File.ReadAllBytes(dir.File("optimizer.bin")));

        // Reading back gives every tensor and moment as written.
        var names = new List<string>();
        TorchSharpStateFiles.ReadModule(dir.File("model.bin"), (name, t) =>
        {
            names.Add(name);
            Assert.True(t.eq(model.state_dict()[name]).all().item<bool>(), name);
        });
        Assert.Equal(model.state_dict().Keys, names);
        int seen = 0;
        TorchSharpStateFiles.ReadAdamW(dir.File("optimizer.bin"), adam.state_dict().Options, states.Count, (i, step, m, v) =>
        {
            Assert.Equal(2, step);
            Assert.True(m.eq(states[i].exp_avg).all().item<bool>() && v.eq(states[i].exp_avg_sq).all().item<bool>(), $"state {i}");
            seen++;
        });
        Assert.Equal(states.Count, seen);
    }

    [Fact]
    public void AllToAllDispatcherOnOneRankIsTheGroupedDispatch()
    {
        // The dispatcher's permutations (sort by expert, re-sort by local expert, back) on a group of one must give
        // the local grouped dispatch's output and gradients; across ranks only the exchange is added (MpiTrainingTests).
        (Tensor Output, Tensor[] Grads) Run(bool dispatcher)
        {
            manual_seed(11);
            var experts = new RoutedExperts(16, 6, 8);
            using (no_grad()) foreach (var p in experts.parameters()) p.normal_(0, 0.1);
            if (dispatcher) experts.Dispatcher = new AllToAllTokenDispatcher(new LocalCommunicator(), 6);
            manual_seed(2);
            var x = randn(10, 16).requires_grad_();
            var indices = tensor(new long[] { 1, 0, 1, 2, 3, 1, 1, 0, 2, 1, 0, 3, 1, 2, 3, 0, 1, 3, 2, 1 }).view(10, 2);
            var gates = rand(10, 2).requires_grad_();
            var y = experts.Forward(x, indices, gates, DispatchMode.Grouped);
            (y * y.detach().sin()).sum().backward();
            return (y.detach(), [.. experts.parameters().Select(p => p.grad!), x.grad!, gates.grad!]);
        }
        var (yLocal, gLocal) = Run(dispatcher: false);
        var (yA2a, gA2a) = Run(dispatcher: true);
        Assert.True(yLocal.allclose(yA2a, rtol: 1e-6, atol: 1e-7), "outputs differ");
        for (int i = 0; i < gLocal.Length; i++)
            Assert.True(gLocal[i].allclose(gA2a[i], rtol: 1e-5, atol: 1e-7), $"gradient {i} differs");
    }
    [Fact]
    public void InBf16TheDispatcherCombinesInFp32AsTheGroupedDispatch()
    {
        // Megatron's unpermute multiplies the expert rows by the fp32 gates and sums the k slots in fp32, casting once
        // (RoutedCombine). The expert-parallel path must round the same way: in bf16 its output equals the one-process
        // grouped dispatch bit for bit, and differs from a bf16 combine (gates cast to bf16, slots summed in bf16).
        Tensor Run(bool dispatcher)
        {
            manual_seed(11);
            var experts = new RoutedExperts(16, 6, 8);
            using (no_grad()) foreach (var p in experts.parameters()) p.normal_(0, 0.1);
            if (dispatcher) experts.Dispatcher = new AllToAllTokenDispatcher(new LocalCommunicator(), 6);
            manual_seed(2);
            var x = randn(10, 16).to(ScalarType.BFloat16);
            var indices = tensor(new long[] { 1, 0, 1, 2, 3, 1, 1, 0, 2, 1, 0, 3, 1, 2, 3, 0, 1, 3, 2, 1 }).view(10, 2);
            var gates = rand(10, 2);
            using var _ = no_grad();
            return experts.Forward(x, indices, gates, DispatchMode.Grouped);
        }
        var grouped = Run(dispatcher: false);
        var dispatched = Run(dispatcher: true);
        Assert.Equal(ScalarType.BFloat16, dispatched.dtype);
        Assert.True(Same(grouped, dispatched), "the dispatcher's bf16 combine differs from the grouped dispatch's");

        // By hand from the very rows the dispatcher returned: each slot times its fp32 gate, summed in fp32, cast once.
        var recorder = new RecordingDispatcher(new AllToAllTokenDispatcher(new LocalCommunicator(), 6));
        manual_seed(11);
        var experts = new RoutedExperts(16, 6, 8);
        using (no_grad()) foreach (var p in experts.parameters()) p.normal_(0, 0.1);
        experts.Dispatcher = recorder;
        manual_seed(2);
        var x = randn(10, 16).to(ScalarType.BFloat16);
        var indices = tensor(new long[] { 1, 0, 1, 2, 3, 1, 1, 0, 2, 1, 0, 3, 1, 2, 3, 0, 1, 3, 2, 1 }).view(10, 2);
        var gates = rand(10, 2);
        using var noGrad = no_grad();
        var again = experts.Forward(x, indices, gates, DispatchMode.Grouped);
        Assert.True(Same(again, dispatched));
        var rows = recorder.Rows!.view(10, 2, 16);                                   // bf16, (token, slot) order
        float[] r = rows.to(ScalarType.Float32).data<float>().ToArray(), w = gates.data<float>().ToArray();
        var fp32 = new float[10 * 16];
        var bf16 = new float[10 * 16];
        for (int t = 0; t < 10; t++)
            for (int h = 0; h < 16; h++)
            {
                float a = r[(t * 2) * 16 + h], b = r[(t * 2 + 1) * 16 + h];
                fp32[t * 16 + h] = a * w[t * 2] + b * w[t * 2 + 1];
                // The old combine: gates cast to bf16, each product and the sum rounded to bf16.
                float Round(float v) => (float)tensor(v).to(ScalarType.BFloat16).to(ScalarType.Float32).item<float>();
                bf16[t * 16 + h] = Round(Round(a * Round(w[t * 2])) + Round(b * Round(w[t * 2 + 1])));
            }
        var expected = tensor(fp32).view(10, 16).to(ScalarType.BFloat16);
        Assert.True(Same(dispatched, expected), "the combine is not fp32 products summed in fp32 and cast once");
        Assert.False(Same(dispatched, tensor(bf16).view(10, 16).to(ScalarType.BFloat16)), "this input should tell a bf16 combine apart");
    }

    static bool Same(Tensor a, Tensor b) => a.dtype == b.dtype && a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    /// <summary>Passes the rows through and keeps what came back, so a test can combine them by hand.</summary>
    sealed class RecordingDispatcher(ITokenDispatcher inner) : ITokenDispatcher
    {
        public Tensor? Rows { get; private set; }

        public Tensor Run(Tensor x, Tensor indices, Func<Tensor, Tensor, Tensor> experts)
        {
            var rows = inner.Run(x, indices, experts);
            Rows = rows.detach().clone().DetachFromDisposeScope();     // outlives the forward's scope
            return rows;
        }
    }
}
