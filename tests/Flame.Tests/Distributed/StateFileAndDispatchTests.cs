using Flame.Distributed;
using Flame.Model;
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
}
