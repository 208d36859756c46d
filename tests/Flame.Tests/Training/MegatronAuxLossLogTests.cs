using System.Text.Json;
using Flame.Data.Samples;
using Flame.Model;
using Flame.Tests.Data;
using Flame.Tests.Model;
using Flame.Training;
using static TorchSharp.torch;

namespace Flame.Tests.Training;

public class MegatronAuxLossLogTests
{
    [Fact]
    public void OneLayerByHand()
    {
        // T = 2 tokens, E = 2 experts, k = 1: P = [1.25, 0.75], f = [2, 0]; loss/coeff = E / (T^2 k) x sum P f = 2/4 x 2.5
        // = 1.25. A model of 2 layers (one dense) logs 1.25 / 2 = 0.625 the way Megatron does.
        var probs = tensor(new float[] { 0.75f, 0.25f, 0.5f, 0.5f }).view(2, 2);
        var indices = tensor(new long[] { 0, 0 }).view(2, 1);
        var coeffLoss = RoutingLosses.LoadBalancing(probs, indices, 0.01).item<float>();
        Assert.Equal(0.0125, coeffLoss, 1e-6);
        var model = TinyModels.Moe with { Layers = 2, Experts = 2, TopK = 1 };
        Assert.Equal(0.625, MegatronAuxLossLog.LoadBalancing(coeffLoss, model)!.Value, 1e-5);
        Assert.Null(MegatronAuxLossLog.LoadBalancing(coeffLoss, model with { AuxLossCoeff = 0 }));   // Megatron logs none
    }

    [Fact]
    public void TheTrainerLogsTheMeanOverAllLayersOfLossOverCoeffAveragedOverMicroBatches()
    {
        using var dir = new TempFolder();
        var prefix = TrainerTests.WriteCorpus(dir);
        // 3 layers: dense, MoE, MoE; one step of 2 micro-batches of 2 samples.
        var config = TrainerTests.TinyRun(prefix) with
        {
            ModelOverrides = ["layers=3", "hidden=32", "heads=4", "dense_ffn=48", "experts=4", "top_k=2", "expert_ffn=16",
                "shared_expert_ffn=32", "vocab_size=8192", "max_positions=32", "aux_loss_coeff=0.02"],
            Iterations = 1, Checkpoints = 1, LogEvery = 1,
        };
        var trainer = new Trainer(config, dir.File("run"));
        trainer.Run(resume: false);
        var line = File.ReadAllLines(trainer.MetricsPath).Select(l => JsonDocument.Parse(l).RootElement)
            .First(l => l.TryGetProperty("lm_loss", out _));
        double logged = line.GetProperty(MegatronAuxLossLog.Field).GetDouble();

        // The same initial model and the same samples (step 0: samples 0..3, two micro-batches), and the switch loss
        // recomputed from the routing by hand: E / (T^2 k) x sum_e (sum_t P_te) x (tokens whose top-k holds e).
        var modelConfig = config.ResolveModel();
        manual_seed(config.Seed);
        using var model = new FlameModel(modelConfig);
        using var train = DataPath.Parse(config.Data).Open(new GptSampleOptions(config.Sequence, SplitName.Train, Seed: config.Seed,
            Samples: config.Iterations * config.GlobalBatch));
        using var noGrad = no_grad();
        double sum = 0;
        for (int micro = 0; micro < 2; micro++)
        {
            var tokens = SampleBatch.ToTensor(train, [2L * micro, 2L * micro + 1], modelConfig.VocabSize);
            var output = model.forward(tokens[.., ..^1]);
            Assert.Equal(2, output.Moe.Count);
            foreach (var layer in output.Moe)
            {
                var p = layer.Routing.Probs.data<float>().ToArray();
                var ids = layer.Routing.Indices.data<long>().ToArray();
                int t = (int)layer.Routing.Probs.shape[0], e = 4, k = 2;
                var mass = new double[e];
                var hits = new double[e];
                for (int i = 0; i < t; i++)
                {
                    for (int j = 0; j < e; j++) mass[j] += p[i * e + j];
                    for (int s = 0; s < k; s++) hits[ids[i * k + s]]++;
                }
                sum += (double)e / ((double)t * t * k) * Enumerable.Range(0, e).Sum(j => mass[j] * hits[j]);
            }
        }
        double expected = sum / 2 / 3;                  // mean over the 2 micro-batches, over all 3 layers' slots
        Assert.Equal(expected, logged, 1e-5); // recomputed in double from fp32 probabilities of another forward: ~1e-6 of a value near 1
        Assert.True(expected > 0.5, $"{expected}");     // near 1 for a balanced router: a value, not a zero
        // Flame's own field is what enters the loss: coeff x the sum over MoE layers.
        Assert.Equal(0.02 * 3 * logged, line.GetProperty("load_balancing_loss").GetDouble(), 1e-6);
    }
}
