using Flame.Model;

namespace Flame.Memory;

/// <summary>
/// Predicts the peak bytes of one rank's training step (<see cref="Training.TrainingStep.Run"/>) from the shapes alone.
/// The peak is taken as: state (fp32 masters, the step's bf16 weight copies, fp32 gradients, which stay allocated
/// between steps, and the optimizer's state) + every activation the forward keeps for the backward (what autograd
/// saves, and what the micro-batch's dispose scope holds until it ends) + the largest transient buffer of the step.
/// T = micro-batch x seq tokens, c = bytes of the compute dtype (bf16 2, fp32 4), h hidden, V padded vocab, k top-k,
/// F, F_exp, F_sh the dense, expert and shared-expert widths. Parameter counts come from <see cref="ModelAccounting"/>.
/// Recompute and loss chunking follow Megatron: full keeps each block's input only and rebuilds one block at a time in
/// the backward; selective drops the attention core, the SwiGLU intermediates and the norms; a loss chunk of N tokens
/// keeps logits [N, V] instead of [T, V].
/// </summary>
public static class MemoryPlanner
{
    /// <summary>The CPU process overhead (measured): see the item of that name in <see cref="Plan"/>.</summary>
    public const long CpuProcessOverheadBytes = 61_000_000;

    /// <summary>The most elements of one parameter tensor on this rank: the embedding or output layer [V, h], a layer's
    /// routed experts' gate_up [E/ep, h, 2F_exp], or a dense FFN's gate_up [h, 2F] (each one tensor in Model/).</summary>
    public static long LargestParameter(MemoryRequest r)
    {
        var m = r.Model;
        long largest = (long)m.PaddedVocab * m.Hidden;
        if (m.MoeLayerCount > 0) largest = Math.Max(largest, (long)(m.Experts / r.Layout.Expert) * m.Hidden * 2 * m.ExpertFfn);
        if (m.DenseLayerCount > 0) largest = Math.Max(largest, (long)m.Hidden * 2 * m.DenseFfn);
        return largest;
    }

    public static MemoryPlan Plan(MemoryRequest r)
    {
        var m = r.Model;
        var items = new List<MemoryItem>();
        items.AddRange(State(r));

        long t = r.Tokens, h = m.Hidden, c = r.ComputeBytes, v = m.PaddedVocab, rows = r.LogitRows;
        int layers = m.Layers, moe = m.MoeLayerCount, dense = m.DenseLayerCount;
        bool full = r.Recompute == RecomputeMode.Full;
        var perLayer = LayerActivations(r);
        void Act(string name, long bytes, string counts) { if (bytes > 0) items.Add(new(name, MemoryKind.Activation, bytes, counts)); }

        // Embedding: index_select of [T] rows of [V, h] gives fp32 [T, h]; in bf16 its cast is block 0's input (counted
        // below), and the fp32 rows stay held by the step's scope. In fp32 the rows are block 0's input themselves.
        Act("embedding: fp32 rows", r.Bf16 ? 4 * t * h : 0, "[T, h] fp32 (bf16 runs only; cast to block 0's input)");
        if (full)
        {
            // Full recompute: each block's input [B, S, h] only; the block is rebuilt in the backward (transient below).
            Act("residual stream: block inputs", layers * t * h * c + t * h * c, "L x [T, h] block inputs + the last block's output");
        }
        else
        {
            foreach (var (name, perBlock, counts) in perLayer)
            {
                Act(name, (IsDense(name) ? dense : IsMoe(name) ? moe : layers) * perBlock, counts);
            }
            // The last block's output is the final norm's input.
            Act("residual stream: final block output", t * h * c, "[T, h]");
        }
        // Final RMSNorm (TransformerBlock-less, never recomputed): as a block's norm.
        Act("final norm", NormBytes(t, h, c, r.Bf16), "fp32 [T, h] normalised (+ fp32 input copy in bf16), rsqrt [T, 1], output [T, h]");
        // Output layer and loss: logits [rows, V] in the compute dtype (held by the step's scope), their fp32 cast
        // (bf16 only; in fp32 .to is the same tensor) and log_softmax's saved output [rows, V] fp32 (cross_entropy).
        Act("logits", rows * v * c, $"[{Rows(r)}, V] compute dtype");
        Act("logits: fp32 cast", r.Bf16 ? rows * v * 4 : 0, $"[{Rows(r)}, V] fp32");
        Act("logits: log-softmax", rows * v * 4, $"[{Rows(r)}, V] fp32, saved by cross_entropy");

        var transient = LargestTransient(r, perLayer);
        items.Add(transient);
        if (r.Cpu)
            // Measured mechanism: Runtime/HostMemory keeps the heap (no mmap, no trim), so the holes one step's largest
            // transient leaves are filled by the next step's forward activations, and that transient is placed again on
            // fresh heap in the next backward. Seen with glibc's mallinfo2 in a demo (vocab 50304, 4 x 512) step: the
            // second backward grew the heap by exactly the loss backward's two [T, V] fp32 gradients (825 MB) while
            // 791 MB lay free in holes; with FLAME_HOST_MEMORY=release the peak was 2,168 MB instead of 2,874-2,879 MB.
            items.Add(new("CPU heap: the largest transient placed again", MemoryKind.Transient, transient.Bytes,
                $"{transient.Counts} (Runtime/HostMemory's kept heap cannot reuse its holes for it)"));
        if (r.Cpu)
            // Measured, not derived: the resident memory a CPU step adds beyond every tensor above, taken from the demo
            // preset at micro-batch 2 x 128 (5 M parameters, so tensors are a small part of it: 205.0-212.2 MB measured - 147.7 MB planned with the item above, fp32, 2026-12-08): libtorch's code pages
            // touched by the first step, the TorchScript units (grouped GEMM, fused AdamW) compiled on first use, OpenMP
            // and autograd thread stacks and kernel scratch, and glibc's free chunks that Runtime/HostMemory keeps
            // (bench/RESULTS.md, "Memory planner against measured peaks"). CUDA plans have no such item.
            items.Add(new("CPU process overhead (measured)", MemoryKind.Transient, CpuProcessOverheadBytes,
                "resident memory of a demo 2 x 128 step beyond its planned tensors (code pages, TorchScript, threads, malloc)"));
        return new MemoryPlan(r, items);
    }

    static string Rows(MemoryRequest r) => r.LossChunk > 0 && r.LogitRows < r.Tokens ? "chunk" : "T";

    /// <summary>RMSNorm (fp32 math): x.to(fp32) (a new [T, h] fp32 copy in bf16 only), the normalised fp32 [T, h], rsqrt [T, 1] fp32, and the output [T, h] in the compute dtype (the next linear's input).</summary>
    static long NormBytes(long t, long h, long c, bool bf16) => (bf16 ? 4 * t * h : 0) + 4 * t * h + 4 * t + t * h * c;

    /// <summary>
    /// One block's kept activations by module, for a layer of each kind (the caller multiplies by the number of
    /// layers of that kind); what the recompute mode leaves out is absent (full recompute keeps none of these).
    /// </summary>
    public static IReadOnlyList<(string Name, long PerBlock, string Counts)> LayerActivations(MemoryRequest r, bool ignoreRecompute = false)
    {
        var m = r.Model;
        long t = r.Tokens, h = m.Hidden, c = r.ComputeBytes, k = m.TopK, e = m.Experts;
        long heads = m.Heads, b = r.MicroBatch, s = r.Sequence;
        bool selective = !ignoreRecompute && r.Recompute == RecomputeMode.Selective;
        var list = new List<(string, long, string)>
        {
            // The block's input x and x + attention (each saved by the norm after it): 2 x [T, h].
            ("residual stream: block inputs", 2 * t * h * c, "2 x [T, h] per block (x, x + attention)"),
            // CausalSelfAttention: packed qkv [T, 3h] (q and v are views of it), RoPE'd q and k [B, heads, S, h/heads].
            ("attention: q/k/v", 5 * t * h * c, "qkv [T, 3h] + RoPE'd q, k [T, h] each"),
        };
        // Scaled dot-product attention (flash kernels): output [B, heads, S, h/heads] and logsumexp [B, heads, S] fp32.
        if (!selective) list.Add(("attention: core", t * h * c + 4 * b * heads * s, "output [T, h] + logsumexp [B, heads, S] fp32"));
        // Output projection: its input (heads merged, a copy [T, h]) and its output [T, h], held by the step's scope.
        list.Add(("attention: projection", 2 * t * h * c, "merged heads [T, h] + output [T, h]"));
        // Two RMSNorms per block (attention_norm, ffn_norm).
        if (!selective) list.Add(("norms", 2 * NormBytes(t, h, c, r.Bf16), "2 x (fp32 [T, h] normalised (+ fp32 input copy in bf16), rsqrt [T, 1], output [T, h])"));
        if (m.DenseLayerCount > 0)
        {
            // SwiGluFfn: gate_up output [T, 2F], silu(gate) [T, F], silu * up [T, F] (down's input); output [T, h].
            if (!selective) list.Add(("dense FFN: SwiGLU intermediates", 4 * t * m.DenseFfn * c, "[T, 2F] + 2 x [T, F]"));
            list.Add(("dense FFN: output", t * h * c, "[T, h]"));
        }
        if (m.MoeLayerCount > 0)
        {
            // TopKRouter in fp32: x.to(fp32) (a copy in bf16), logits and softmax [T, E] fp32 (logits also the z-loss's
            // logsumexp input, its output [T] fp32), top-k gates [T, k] fp32 and indices [T, k] int64.
            list.Add(("MoE router", (r.Bf16 ? 4 * t * h : 0) + 8 * t * e + 12 * t * k + 4 * t,
                "fp32 logits, probs [T, E]; gates [T, k] fp32, indices [T, k] int64; fp32 input copy in bf16"));
            // ExpertSort: rows [T*k, h] sorted by expert (the experts' input, saved by the grouped GEMM), order and inverse [T*k] int64.
            list.Add(("MoE dispatch: top-k rows", t * k * h * c + 16 * t * k, "rows [T*k, h]; order, inverse [T*k] int64"));
            // RoutedExperts.ExpertRows: gate_up output [T*k, 2F_exp], silu(gate) [T*k, F_exp], silu * up [T*k, F_exp].
            if (!selective) list.Add(("routed experts: SwiGLU intermediates", 4 * t * k * m.ExpertFfn * c, "[T*k, 2F_exp] + 2 x [T*k, F_exp]"));
            // RoutedCombine: the per-slot outputs in fp32 [T, k, h], saved by the gate multiply.
            list.Add(("routed experts: combine", 4 * t * k * h, "[T, k, h] fp32"));
            // Shared expert SwiGLU on the same input: [T, 2F_sh] + 2 x [T, F_sh].
            if (!selective && m.SharedExpertFfn > 0) list.Add(("shared expert: SwiGLU intermediates", 4 * t * m.SharedExpertFfn * c, "[T, 2F_sh] + 2 x [T, F_sh]"));
            // MoeLayer's output [T, h], held by the step's scope.
            list.Add(("MoE output", t * h * c, "[T, h]"));
        }
        return list;
    }

    /// <summary>Weights, their bf16 copies, gradients and the optimizer's state on one rank.</summary>
    static IEnumerable<MemoryItem> State(MemoryRequest r)
    {
        var m = r.Model;
        var layout = r.Layout;
        long experts = ModelAccounting.RoutedExpertParameterCount(m);
        long expertsHere = experts / layout.Expert;                       // expert parallelism slices the routed experts
        long local = ModelAccounting.Of(m).TotalParams - experts + expertsHere;
        long replicated = local - expertsHere;
        yield return new("weights: fp32 masters", MemoryKind.State, 4 * local, $"{local:N0} parameters on this rank x 4");
        if (r.Bf16)
        {
            // WeightCasts: one bf16 copy per op weight, made once per step; embedding, norms and routers stay fp32.
            long cast = local - ModelAccounting.Fp32OnlyParameterCount(m);
            yield return new("weights: bf16 copies", MemoryKind.State, 2 * cast, $"{cast:N0} parameters x 2 (all but embedding, norms, routers)");
        }
        yield return new("gradients: fp32", MemoryKind.State, 4 * local, $"{local:N0} x 4 (.grad, kept between steps)");
        if (r.DistributedOptimizer && layout.World > 1)
        {
            // DistributedOptimizer: flat buffers cut into shards, replicated parameters over the world, expert
            // slices over the data group; per shard element an fp32 parameter copy, its reduce-scattered gradient
            // (kept as the shard's .grad) and AdamW's two moments. Padding to equal shards is ignored (< n elements).
            long shard = Ceil(replicated, layout.World) + Ceil(expertsHere, layout.Data);
            yield return new("optimizer: AdamW moments (shard)", MemoryKind.State, 8 * shard, $"2 x {shard:N0} x 4 (1/{layout.World} of the replicated, 1/{layout.Data} of the expert parameters)");
            yield return new("optimizer: fp32 parameter shard", MemoryKind.State, 4 * shard, $"{shard:N0} x 4");
            yield return new("optimizer: gradient shard", MemoryKind.State, 4 * shard, $"{shard:N0} x 4 (reduce-scattered)");
        }
        else
            yield return new("optimizer: AdamW moments", MemoryKind.State, 8 * local, $"2 x {local:N0} x 4");
    }

    static long Ceil(long a, long b) => (a + b - 1) / b;

    /// <summary>The largest buffer that exists for a moment of the step, named by what it is.</summary>
    static MemoryItem LargestTransient(MemoryRequest r, IReadOnlyList<(string Name, long PerBlock, string Counts)> perLayer)
    {
        var m = r.Model;
        long t = r.Tokens, h = m.Hidden, c = r.ComputeBytes, k = m.TopK, v = m.PaddedVocab, rows = r.LogitRows;
        var candidates = new List<(string Name, long Bytes)>
        {
            // cross_entropy's backward: nll's gradient and log_softmax's input gradient, both [rows, V] fp32.
            ("loss backward: gradients of the log-softmax [rows, V] fp32 x 2", 8 * rows * v),
        };
        if (m.MoeLayerCount > 0)
        {
            // ExpertSort's expanded copy [T*k, h] (before index_select sorts it) and the experts' output [T*k, h],
            // both held by the dispatcher's scope; in the backward the SwiGLU gradients [T*k, 3F_exp] and rows' [T*k, h].
            candidates.Add(("MoE forward: expanded and expert-output rows [T*k, h] x 2", 2 * t * k * h * c));
            candidates.Add(("expert backward: SwiGLU and row gradients [T*k, 3F_exp + h]", t * k * (3L * m.ExpertFfn + h) * c));
        }
        long experts = ModelAccounting.RoutedExpertParameterCount(m);
        long local = ModelAccounting.Of(m).TotalParams - experts + experts / r.Layout.Expert;
        // GradientClipping: g.square() of one gradient at a time, freed once summed (fp32): the largest gradient's.
        if (!(r.DistributedOptimizer && r.Layout.World > 1))
            candidates.Add(("gradient clipping: the largest gradient's square fp32", 4 * LargestParameter(r)));
        if (r.DistributedOptimizer && r.Layout.World > 1)
            // DistributedOptimizer: the flattened gradients it reduce-scatters, then the all-gathered parameters, fp32.
            candidates.Add(("distributed optimizer: flattened gradients / gathered parameters fp32", 4 * local));
        else if (r.Layout.World > 1)
            // GradientSync: one cat of the replicated parameters' gradients for the all-reduce, fp32.
            candidates.Add(("gradient all-reduce: flattened gradients fp32", 4 * (local - experts / r.Layout.Expert)));
        if (r.Recompute == RecomputeMode.Full)
        {
            // The backward rebuilds one block at a time: its full activations (the larger kind of block).
            var none = LayerActivations(r, ignoreRecompute: true);
            candidates.Add(("full recompute: one block's activations", OneBlock(m, none)));
        }
        else if (r.Recompute == RecomputeMode.Selective)
        {
            var none = LayerActivations(r, ignoreRecompute: true);
            candidates.Add(("selective recompute: one block's recomputed pieces", OneBlock(m, none) - OneBlock(m, perLayer)));
        }
        var (name, bytes) = candidates.MaxBy(x => x.Bytes);
        return new MemoryItem("largest transient", MemoryKind.Transient, bytes, name);
    }

    /// <summary>The activations of the larger kind of block (dense or MoE).</summary>
    static long OneBlock(ModelConfig m, IReadOnlyList<(string Name, long PerBlock, string Counts)> perLayer)
    {
        long common = perLayer.Where(x => !IsDense(x.Name) && !IsMoe(x.Name)).Sum(x => x.PerBlock);
        long dense = m.DenseLayerCount > 0 ? perLayer.Where(x => IsDense(x.Name)).Sum(x => x.PerBlock) : 0;
        long moe = m.MoeLayerCount > 0 ? perLayer.Where(x => IsMoe(x.Name)).Sum(x => x.PerBlock) : 0;
        return common + Math.Max(dense, moe);
    }

    static bool IsDense(string name) => name.StartsWith("dense FFN", StringComparison.Ordinal);

    static bool IsMoe(string name) => name.StartsWith("MoE", StringComparison.Ordinal) || name.StartsWith("routed", StringComparison.Ordinal)
        || name.StartsWith("shared", StringComparison.Ordinal);
}
