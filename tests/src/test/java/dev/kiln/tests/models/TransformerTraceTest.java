package dev.kiln.tests.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.Kiln;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.LayerNorm;
import dev.kiln.eager.nn.TransformerDecoder;
import dev.kiln.eager.nn.TransformerDecoderLayer;
import dev.kiln.eager.nn.TransformerEncoder;
import dev.kiln.eager.nn.TransformerEncoderLayer;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.serialization.KilnReader;
import dev.kiln.serialization.KilnWriter;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A TransformerEncoder (2 pre-norm GELU layers and a final norm, PyTorch's module and names)
 * traced with the batch and the sequence length dynamic, with a key padding mask as a second
 * input, exported to JSON, reloaded without the model code, compiled, and equal to eager at
 * (B, T) = (1, 1), (3, 17) and (8, 128).
 */
class TransformerTraceTest {
    @Test
    void anEncoderStackTracesExportsReloadsAndEqualsEager() {
        Kiln.manualSeed(12);
        TransformerEncoder encoder = new TransformerEncoder(() -> new TransformerEncoderLayer(16, 4, 32, 0.1, "gelu", 1e-5, true, true), 2,
                new LayerNorm(16));
        encoder.eval(); // dropout off: a deployed encoder
        Tensor exampleX = Tensor.randn(2, 5, 16), exampleMask = Tensor.zeros(2, 5).gt(0.5);
        Graph g = Tracer.trace(in -> encoder.forward(in[0], null, in[1]), new Tensor[] {exampleX, exampleMask},
                TraceOptions.builder().name("encoder").dynamic(0, 0, "B").dynamic(0, 1, "T").dynamic(1, 0, "B").dynamic(1, 1, "T")
                        .params(encoder.namedParameters()).build());
        assertEquals("f32[B,T,16]", g.typeOf(g.outputs().get(0)).toString());
        Graph reloaded = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        CompiledGraph c = CompiledGraph.compile(reloaded, CompileOptions.of(OptLevel.O2));
        for (int[] bt : new int[][] {{1, 1}, {3, 17}, {8, 128}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], 16);
            // the last key of every sequence but the first is padding
            boolean[] pad = new boolean[bt[0] * bt[1]];
            for (int b = 1; b < bt[0]; b++) if (bt[1] > 1) pad[b * bt[1] + bt[1] - 1] = true;
            Tensor mask = Tensor.of(pad, bt[0], bt[1]);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = encoder.forward(x, null, mask).toFloatArray();
            }
            float[] got = Tensor.wrap(c.run(List.of(x.data(), mask.data())).get(0)).toFloatArray();
            assertArrayEquals(eager, got, 1e-4f, "B=" + bt[0] + " T=" + bt[1]);
        }
        // a sequence that is all padding: its queries see no key, so their attention is 0 (PyTorch
        // 2.5 on), finite through the layers, eager and reloaded alike
        Tensor x = Tensor.randn(3, 9, 16);
        boolean[] pad = new boolean[27];
        java.util.Arrays.fill(pad, 18, 27, true); // sequence 2
        Tensor mask = Tensor.of(pad, 3, 9);
        float[] eager;
        try (var ng = Autograd.noGrad()) {
            eager = encoder.forward(x, null, mask).toFloatArray();
        }
        for (float e : eager) org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(e), "a fully padded sequence stays finite");
        assertArrayEquals(eager, Tensor.wrap(c.run(List.of(x.data(), mask.data())).get(0)).toFloatArray(), 1e-4f, "a fully padded sequence, reloaded");
    }

    /** PyTorch's Transformer.generate_square_subsequent_mask(t): -inf above the diagonal, 0 elsewhere. */
    static Tensor causalMask(int t) {
        float[] m = new float[t * t];
        for (int i = 0; i < t; i++) for (int j = i + 1; j < t; j++) m[i * t + j] = Float.NEGATIVE_INFINITY;
        return Tensor.of(m, t, t);
    }

    @Test
    void aCausalDecoderStackTracesWithItsTargetMaskAsAnInputOfDynamicLength() {
        // a decoder as it is trained and run: the causal target mask [T, T] is an input whose two
        // dims are the target length, with padded memory keys; eager equals the reloaded artifact
        Kiln.manualSeed(14);
        TransformerDecoder decoder = new TransformerDecoder(() -> new TransformerDecoderLayer(16, 4, 32, 0.1, "gelu", 1e-5, true, true), 2, new LayerNorm(16));
        decoder.eval();
        Tensor[] example = {Tensor.randn(2, 5, 16), Tensor.randn(2, 7, 16), causalMask(5), Tensor.zeros(2, 7).gt(0.5)};
        Graph g = Tracer.trace(in -> decoder.forward(in[0], in[1], in[2], null, null, in[3]), example,
                TraceOptions.builder().name("causal_decoder").dynamic(0, 0, "B").dynamic(0, 1, "T").dynamic(1, 0, "B").dynamic(1, 1, "S")
                        .dynamic(2, 0, "T").dynamic(2, 1, "T").dynamic(3, 0, "B").dynamic(3, 1, "S").params(decoder.namedParameters()).build());
        assertEquals("f32[B,T,16]", g.typeOf(g.outputs().get(0)).toString());
        CompiledGraph c = CompiledGraph.compile(KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph(), CompileOptions.of(OptLevel.O2));
        for (int[] bts : new int[][] {{1, 1, 1}, {3, 17, 4}, {4, 65, 33}}) {
            Tensor tgt = Tensor.randn(bts[0], bts[1], 16), memory = Tensor.randn(bts[0], bts[2], 16), mask = causalMask(bts[1]);
            boolean[] pad = new boolean[bts[0] * bts[2]];
            for (int b = 1; b < bts[0]; b++) if (bts[2] > 1) pad[b * bts[2] + bts[2] - 1] = true; // the last memory key of all but the first
            Tensor memoryPad = Tensor.of(pad, bts[0], bts[2]);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = decoder.forward(tgt, memory, mask, null, null, memoryPad).toFloatArray();
            }
            float[] got = Tensor.wrap(c.run(List.of(tgt.data(), memory.data(), mask.data(), memoryPad.data())).get(0)).toFloatArray();
            assertArrayEquals(eager, got, 1e-4f, "B=" + bts[0] + " T=" + bts[1] + " S=" + bts[2]);
            // the causal mask holds: the first position's output does not depend on later targets
            Tensor changed = tgt.clone();
            if (bts[1] > 1) {
                float[] tv = changed.toFloatArray();
                for (int i = 16; i < tv.length / bts[0]; i++) tv[i] += 1f; // batch 0, positions 1..T-1
                float[] again = Tensor.wrap(c.run(List.of(Tensor.of(tv, bts[0], bts[1], 16).data(), memory.data(), mask.data(), memoryPad.data())).get(0)).toFloatArray();
                for (int i = 0; i < 16; i++) assertEquals(got[i], again[i], 1e-5f, "position 0 ignores later targets, B=" + bts[0] + " T=" + bts[1]);
            }
        }
    }

    @Test
    void aDecoderStackTracesWithDynamicBatchTargetAndMemoryLengths() {
        Kiln.manualSeed(13);
        TransformerDecoder decoder = new TransformerDecoder(() -> new TransformerDecoderLayer(16, 4, 32, 0.1, "relu", 1e-5, true, false), 2, null);
        decoder.eval();
        Graph g = Tracer.trace(in -> decoder.forward(in[0], in[1], null, null, null, null), new Tensor[] {Tensor.randn(2, 5, 16), Tensor.randn(2, 7, 16)},
                TraceOptions.builder().name("decoder").dynamic(0, 0, "B").dynamic(0, 1, "T").dynamic(1, 0, "B").dynamic(1, 1, "S")
                        .params(decoder.namedParameters()).build());
        assertEquals("f32[B,T,16]", g.typeOf(g.outputs().get(0)).toString());
        CompiledGraph c = CompiledGraph.compile(KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph(), CompileOptions.of(OptLevel.O2));
        for (int[] bts : new int[][] {{1, 1, 1}, {3, 17, 4}, {4, 33, 65}}) {
            Tensor tgt = Tensor.randn(bts[0], bts[1], 16), memory = Tensor.randn(bts[0], bts[2], 16);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = decoder.forward(tgt, memory, null, null, null, null).toFloatArray();
            }
            float[] got = Tensor.wrap(c.run(List.of(tgt.data(), memory.data())).get(0)).toFloatArray();
            assertArrayEquals(eager, got, 1e-4f, "B=" + bts[0] + " T=" + bts[1] + " S=" + bts[2]);
        }
    }
}
