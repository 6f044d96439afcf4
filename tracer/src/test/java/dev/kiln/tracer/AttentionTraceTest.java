package dev.kiln.tracer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Multi-head self-attention written with unflatten / transpose / flatten traces with the batch
 * and the sequence length both dynamic (the second reproducer: unflatten used to be a
 * reshape with concrete sizes, which cannot keep two dynamic dims), and the one graph equals
 * eager at (B, T) = (1, 1), (3, 17) and (8, 128).
 */
class AttentionTraceTest {
    static final int C = 16, H = 4, D = C / H;

    @Test
    void unflattenSplitsOneOfTwoDynamicDims() {
        Graph g = Tracer.trace(in -> in[0].unflatten(2, 2, 4), new Tensor[] {Tensor.randn(3, 5, 8)},
                TraceOptions.builder().dynamic(0, 0, "B").dynamic(0, 1, "T").build());
        assertEquals("f32[B,T,2,4]", g.typeOf(g.outputs().get(0)).toString());
    }

    @Test
    void selfAttentionTracesWithDynamicBatchAndSequenceLength() {
        Kiln.manualSeed(9);
        Tensor wqkv = Tensor.randn(3 * C, C).mul(0.25), wo = Tensor.randn(C, C).mul(0.25);
        Function<Tensor[], Tensor> attention = in -> {
            Tensor x = in[0];                                               // [B, T, C]
            Tensor qkv = F.linear(x, wqkv, null);                           // [B, T, 3C]
            Tensor q = heads(qkv.narrow(2, 0, C)), k = heads(qkv.narrow(2, C, C)), v = heads(qkv.narrow(2, 2 * C, C));
            Tensor att = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.sqrt(D)).softmax(-1);   // [B, H, T, T]
            Tensor y = att.matmul(v).transpose(1, 2).flatten(2);             // [B, T, C]
            return F.linear(y, wo, null);
        };
        Graph g = Tracer.trace(attention, new Tensor[] {Tensor.randn(2, 5, C)},
                TraceOptions.builder().name("attention").dynamic(0, 0, "B").dynamic(0, 1, "T").params(Map.of("wqkv", wqkv, "wo", wo)).build());
        assertEquals("f32[B,T,16]", g.typeOf(g.outputs().get(0)).toString());
        assertEquals(0, g.guards().size(), g.toString());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {8, 128}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], C);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = attention.apply(new Tensor[] {x}).toFloatArray();
            }
            assertArrayEquals(eager, Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), 2e-5f, "B=" + bt[0] + " T=" + bt[1]);
        }
    }

    @Test
    void aPreNormEncoderBlockTracesWithDynamicBatchAndSequenceLength() {
        Kiln.manualSeed(10);
        Tensor wqkv = Tensor.randn(3 * C, C).mul(0.25), wo = Tensor.randn(C, C).mul(0.25);
        Tensor w1 = Tensor.randn(4 * C, C).mul(0.25), b1 = Tensor.randn(4 * C).mul(0.1), w2 = Tensor.randn(C, 4 * C).mul(0.125);
        Tensor g1 = Tensor.ones(C), be1 = Tensor.zeros(C), g2 = Tensor.ones(C).mul(1.5), be2 = Tensor.randn(C).mul(0.1);
        Function<Tensor[], Tensor> block = in -> {
            Tensor x = in[0];
            Tensor h = F.layerNorm(x, new int[] {C}, g1, be1, 1e-5);
            Tensor qkv = F.linear(h, wqkv, null);
            Tensor q = heads(qkv.narrow(2, 0, C)), k = heads(qkv.narrow(2, C, C)), v = heads(qkv.narrow(2, 2 * C, C));
            Tensor att = q.matmul(k.transpose(-2, -1)).mul(1.0 / Math.sqrt(D)).softmax(-1);
            x = x.add(F.linear(att.matmul(v).transpose(1, 2).flatten(2), wo, null));
            Tensor m = F.linear(F.linear(F.layerNorm(x, new int[] {C}, g2, be2, 1e-5), w1, b1).gelu(), w2, null);
            return x.add(m);
        };
        Map<String, Tensor> params = Map.of("wqkv", wqkv, "wo", wo, "w1", w1, "b1", b1, "w2", w2, "g1", g1, "be1", be1, "g2", g2, "be2", be2);
        Graph g = Tracer.trace(block, new Tensor[] {Tensor.randn(2, 5, C)},
                TraceOptions.builder().name("encoder").dynamic(0, 0, "B").dynamic(0, 1, "T").params(params).build());
        assertEquals("f32[B,T,16]", g.typeOf(g.outputs().get(0)).toString());
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {8, 128}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], C);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = block.apply(new Tensor[] {x}).toFloatArray();
            }
            assertArrayEquals(eager, Tensor.wrap(c.run(List.of(x.data())).get(0)).toFloatArray(), 1e-4f, "B=" + bt[0] + " T=" + bt[1]);
        }
    }

    /** [B, T, C] -> [B, H, T, D] */
    static Tensor heads(Tensor x) { return x.unflatten(-1, H, D).transpose(1, 2); }
}
