package dev.kiln.tests.differential;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.eager.optim.SGD;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;

/**
 * The work whose bits must not depend on the thread count or on how far the JIT has come: LeNet
 * at batch 64 (forward, backward and two SGD steps with momentum), every transcendental row loop
 * over 10,000 values, softmax and layer norm, the fused attention and its gradients, inference
 * max pooling, batched matmuls, the traced LeNet compiled at O2 and run at batch 65, and a traced LSTM (scan nodes) run compiled. {@link #digest} hashes every resulting bit.
 *
 * <p>{@link ReproducibilityTest} runs {@link #main} in child JVMs with different
 * {@code kiln.threads} and JIT settings: each prints the digest of its first (cold, mostly
 * interpreted) run and of its last (warm, C2-compiled) run.
 */
public final class ReproducibleWorkload {
    private ReproducibleWorkload() {}

    static final class LeNet extends Module {
        private final Conv2d c1 = registerModule("c1", new Conv2d(1, 6, 5, 1, 2));
        private final Conv2d c2 = registerModule("c2", new Conv2d(6, 16, 5));
        private final Linear f1 = registerModule("f1", new Linear(400, 120));
        private final Linear f2 = registerModule("f2", new Linear(120, 84));
        private final Linear f3 = registerModule("f3", new Linear(84, 10));

        @Override
        public Tensor forward(Tensor x) {
            x = F.maxPool2d(c1.call(x).relu(), 2);
            x = F.maxPool2d(c2.call(x).relu(), 2);
            return f3.call(f2.call(f1.call(x.flatten(1)).relu()).relu());
        }
    }

    /** Runs everything once from a fixed seed and returns the SHA-256 of every result's bits. */
    public static String digest() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        Kiln.manualSeed(7);
        LeNet net = new LeNet();
        SGD sgd = SGD.builder(net.parameters()).lr(0.05).momentum(0.9).build();
        Tensor x = Tensor.randn(64, 1, 28, 28), y = Tensor.randint(0, 10, 64);
        for (int step = 0; step < 2; step++) {
            sgd.zeroGrad();
            Tensor logits = net.call(x);
            Tensor loss = F.crossEntropy(logits, y);
            loss.backward();
            add(md, logits, loss);
            for (Tensor p : net.parameters()) add(md, p.grad());
            sgd.step();
        }
        for (Tensor p : net.parameters()) add(md, p.detach());

        Tensor v = Tensor.randn(10_000).mul(6.0);
        add(md, v.exp(), v.tanh(), v.sigmoid(), v.gelu(), v.gelu("tanh"), v.silu(), v.reshape(100, 100).softmax(1),
                F.layerNorm(v.reshape(100, 100), new int[] {100}, null, null, 1e-5), v.sum(), v.reshape(100, 100).mean(0));

        // a transformer block's fused pieces at sizes that split over the pool: layer_norm and its
        // x and weight gradients (per-chunk weight sums reduced in chunk order), gelu_backward,
        // a split whose pieces' gradients join into one cat, a broadcast bias add and softmax rows
        // (their gradient one softmax_backward op)
        Tensor h = Tensor.randn(4, 1100, 96).mul(2.0).add(0.5).requiresGrad(true);
        Tensor lw = Tensor.randn(96).requiresGrad(true), lb = Tensor.randn(96).requiresGrad(true), bias = Tensor.randn(32).requiresGrad(true);
        List<Tensor> parts = F.layerNorm(h, new int[] {96}, lw, lb, 1e-5).split(32, 2);
        Tensor block = parts.get(0).gelu().add(bias).mul(parts.get(1)).softmax(-1).add(parts.get(2).amax(new int[] {2}, true));
        block.backward(Tensor.randn(4, 1100, 32)); // 140k elements: the elementwise walks split too
        add(md, block, h.grad(), lw.grad(), lb.grad(), bias.grad());

        // the fused attention across its 64-row tiles (causal, a bool mask), its three gradient ops,
        // and inference max pooling: work split over (head, tile) tasks and pooled planes
        Tensor q = Tensor.randn(2, 3, 130, 16).requiresGrad(true), k = Tensor.randn(2, 3, 130, 16).requiresGrad(true);
        Tensor val = Tensor.randn(2, 3, 130, 8).requiresGrad(true), keep = Tensor.rand(130, 130).gt(0.2);
        Tensor att = F.scaledDotProductAttention(q, k, val, keep, 0, true, null);
        att.backward(Tensor.randn(2, 3, 130, 8));
        add(md, att, q.grad(), k.grad(), val.grad());
        // the tiled kernels (past the whole-row limit, lowered here to reach them at 130 keys):
        // forward and the three per-input gradient ops over (head, tile) tasks
        String wholeRowKeys = System.getProperty("kiln.attention.wholeRowKeys");
        System.setProperty("kiln.attention.wholeRowKeys", "64");
        try {
            Tensor tiled = F.scaledDotProductAttention(q, k, val, keep, 0, true, null);
            q.setGrad(null);
            k.setGrad(null);
            val.setGrad(null);
            tiled.backward(Tensor.randn(2, 3, 130, 8));
            add(md, tiled, q.grad(), k.grad(), val.grad());
        } finally {
            if (wholeRowKeys == null) System.clearProperty("kiln.attention.wholeRowKeys");
            else System.setProperty("kiln.attention.wholeRowKeys", wholeRowKeys);
        }
        // a self-attention's one-pass gradient op (q, k and v of one shape, read in place from one
        // projection), split over heads
        Tensor qkv = Tensor.randn(2, 130, 48).requiresGrad(true);
        List<Tensor> qkvs = qkv.split(16, 2);
        Tensor self = F.scaledDotProductAttention(qkvs.get(0).view(2, 130, 2, 8).transpose(1, 2), qkvs.get(1).view(2, 130, 2, 8).transpose(1, 2),
                qkvs.get(2).view(2, 130, 2, 8).transpose(1, 2), keep, 0, true, null);
        self.backward(Tensor.randn(2, 2, 130, 8));
        add(md, self, qkv.grad());
        // batched products of 6 GEMMs of 5.8 MFLOP: each whole on the caller (1 thread), whole on
        // either thread of the pool (2 threads), each split four ways (4 threads); the same bits
        add(md, q.detach().matmul(k.detach().transpose(-2, -1)), Tensor.randn(6, 200, 96).matmul(Tensor.randn(6, 96, 150)));
        try (var ng = dev.kiln.eager.autograd.Autograd.noGrad()) {
            add(md, F.maxPool2d(x, 2), F.maxPool2d(x, new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, true));
        }

        net.eval();
        Graph g = Tracer.trace(net, new Tensor[] {x}, TraceOptions.builder().name("lenet").dynamic(0, 0, "N").build());
        CompiledGraph compiled = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        Tensor x65 = Tensor.randn(65, 1, 28, 28);
        List<Strided> out = compiled.run(List.of(x65.data()));
        add(md, Tensor.wrap(out.get(0)));

        // a bidirectional 2-layer LSTM traced with a symbolic length: its scans' bodies run as
        // cached plans per step (their GEMMs split over the pool) at a length it was not traced at
        dev.kiln.eager.nn.LSTM lstm = new dev.kiln.eager.nn.LSTM(24, 40, 2, true, true, 0.0, true);
        Graph lg = Tracer.trace(lstm, new Tensor[] {Tensor.randn(3, 5, 24)},
                TraceOptions.builder().name("lstm").dynamic(0, 0, "N").dynamic(0, 1, "T").build());
        Tensor seq = Tensor.randn(65, 9, 24);
        add(md, Tensor.wrap(CompiledGraph.compile(lg, CompileOptions.of(OptLevel.O2)).run(List.of(seq.data())).get(0)));
        return HexFormat.of().formatHex(md.digest());
    }

    private static void add(MessageDigest md, Tensor... ts) {
        for (Tensor t : ts) {
            float[] f = t.detach().contiguous().toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * f.length);
            // every NaN as one: Java leaves NaN payloads unspecified (floatToIntBits collapses
            // them), and x86 keeps the first NaN operand's sign, an order the JIT tiers choose
            // differently once two NaNs meet (a NaN score in attention's gradients)
            for (float v : f) b.putInt(Float.floatToIntBits(v));
            md.update(b.array());
        }
    }

    /** Prints "cold=DIGEST warm=DIGEST" after {@code args[0]} runs (default 4). */
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 4;
        String cold = digest(), warm = cold;
        for (int i = 1; i < runs; i++) warm = digest();
        System.out.println("cold=" + cold + " warm=" + warm);
    }
}
