package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.kiln.Kiln;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Flatten;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.MaxPool2d;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.Tanh;
import dev.kiln.eager.nn.TransformerEncoderLayer;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.graph.Graph;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kiln graphs exported to ONNX run in ONNX Runtime (Java, from Maven Central) with the same
 * results as Kiln's eager model, at the traced batch and at others: the symbolic dims are
 * dim_params and symbolic reshape sizes are computed in the model.
 */
class OnnxExportTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    /** Runs the ONNX model on Kiln tensors, returning output 0. */
    static float[] ort(byte[] model, Map<String, Tensor> inputs) throws Exception {
        try (OrtSession s = ENV.createSession(model, new OrtSession.SessionOptions())) {
            Map<String, OnnxTensor> in = new HashMap<>();
            try {
                for (var e : inputs.entrySet()) {
                    Tensor t = e.getValue().contiguous();
                    long[] shape = java.util.Arrays.stream(t.shape()).asLongStream().toArray();
                    in.put(e.getKey(), t.dtype() == DType.INT64 ? OnnxTensor.createTensor(ENV, LongBuffer.wrap(t.toLongArray()), shape)
                            : OnnxTensor.createTensor(ENV, FloatBuffer.wrap(t.toFloatArray()), shape));
                }
                try (OrtSession.Result r = s.run(in)) {
                    FloatBuffer fb = ((OnnxTensor) r.get(0)).getFloatBuffer();
                    float[] out = new float[fb.remaining()];
                    fb.get(out);
                    return out;
                }
            } finally {
                for (OnnxTensor t : in.values()) t.close();
            }
        }
    }

    static Tensor eager(Module m, Tensor x) {
        try (var ng = Autograd.noGrad()) {
            return m.call(x);
        }
    }

    static void same(String what, Tensor want, float[] got, float tol) {
        float[] w = want.contiguous().toFloatArray();
        assertEquals(w.length, got.length, what + ": element count");
        for (int i = 0; i < w.length; i++) {
            int k = i;
            assertTrue(Math.abs(w[i] - got[i]) <= tol * (1 + Math.abs(w[i])), () -> what + " element " + k + ": Kiln " + w[k] + ", ONNX Runtime " + got[k]);
        }
    }

    static Graph trace(Module m, Tensor example, TraceOptions o) {
        m.eval();
        try (var ng = Autograd.noGrad()) {
            return Tracer.trace(m, new Tensor[] {example}, o);
        }
    }

    @Test
    void aLeNetRunsInOnnxRuntimeAtAnyBatch() throws Exception {
        Kiln.manualSeed(1);
        Sequential lenet = new Sequential(new Conv2d(1, 6, 5, 1, 2), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2),
                new Flatten(), new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10));
        Graph g = trace(lenet, Tensor.randn(4, 1, 28, 28), TraceOptions.builder().name("lenet").dynamic(0, 0, "N").inputNames("x").build());
        byte[] model = Onnx.toBytes(g);
        for (int n : new int[] {1, 4, 63, 64}) {
            Tensor x = Tensor.randn(n, 1, 28, 28);
            same("lenet batch " + n, eager(lenet, x), ort(model, Map.of("x", x)), 1e-4f);
        }
    }

    @Test
    void theDemosLeNetArtifactExportsAndRunsInOnnxRuntime(@TempDir Path dir) throws Exception {
        Kiln.manualSeed(7);
        dev.kiln.examples.LeNet lenet = new dev.kiln.examples.LeNet();
        Graph traced = trace(lenet, Tensor.randn(64, 1, 28, 28), TraceOptions.builder().name("lenet").dynamic(0, 0, "N").inputNames("x").build());
        // as the demo deploys it: JSON + safetensors sidecar, reloaded without the model code
        Path file = dir.resolve("lenet.kiln.json");
        dev.kiln.serialization.KilnWriter.save(traced, file, dev.kiln.serialization.KilnWriter.Weights.SIDECAR);
        Path onnx = dir.resolve("lenet.onnx");
        Onnx.save(dev.kiln.serialization.KilnReader.load(file), onnx);
        byte[] model = java.nio.file.Files.readAllBytes(onnx);
        for (int n : new int[] {1, 64, 1000}) {
            Tensor x = Tensor.randn(n, 1, 28, 28);
            same("demo lenet batch " + n, eager(lenet, x), ort(model, Map.of("x", x)), 1e-4f);
        }
    }

    @Test
    void ceilModeMaxPoolingKeepsPyTorchsOutputSizeInOnnxRuntime() throws Exception {
        // PyTorch drops a last window that would start in the end padding; the export pins the size with explicit pads
        for (int[] ksp : new int[][] {{2, 2, 1}, {3, 2, 1}, {3, 3, 0}, {2, 2, 0}}) {
            MaxPool2d pool = new MaxPool2d(new int[] {ksp[0], ksp[0]}, new int[] {ksp[1], ksp[1]}, new int[] {ksp[2], ksp[2]}, new int[] {1, 1}, true);
            for (int h : new int[] {5, 6, 7, 8, 9}) {
                Tensor x = Tensor.randn(2, 3, h, h + 1);
                Graph g = trace(pool, x, TraceOptions.builder().name("pool").dynamic(0, 0, "N").inputNames("x").build());
                String what = "maxpool k" + ksp[0] + " s" + ksp[1] + " p" + ksp[2] + " ceil at " + h + "x" + (h + 1);
                same(what, eager(pool, x), ort(Onnx.toBytes(g), Map.of("x", x)), 0f);
            }
        }
    }

    @Test
    void fusedAttentionExportsAsMatMulSoftmaxWithEveryDimSymbolic() throws Exception {
        Kiln.manualSeed(8);
        Function<Tensor[], Tensor> f = in -> {
            Tensor x = in[0]; // [B, H, T, 12]
            Tensor causal = F.scaledDotProductAttention(x, x.mul(0.5), x.tanh(), null, 0, true, null);
            Tensor keep = x.select(3, 0).unsqueeze(2).gt(-5.0); // [B, H, 1, T]: a key mask, broadcast over queries
            Tensor masked = F.scaledDotProductAttention(x, x, x, keep, 0, false, 0.3);
            Tensor added = F.scaledDotProductAttention(x, x, x, x.select(3, 1).unsqueeze(2).mul(0.1), 0, false, null);
            // [B, H, T, 1]: the queries whose first feature is 1 or more see no key, so their rows are 0
            Tensor dead = F.scaledDotProductAttention(x, x, x, x.select(3, 0).unsqueeze(3).lt(1.0), 0, false, null);
            return causal.add(masked).add(added).add(dead);
        };
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 3, 5, 12)},
                    TraceOptions.builder().name("attention").dynamic(0, 0, "B").dynamic(0, 2, "T").inputNames("x").build());
        }
        assertTrue(g.toString().contains("scaled_dot_product_attention"), g.toString());
        byte[] model = Onnx.toBytes(g);
        for (int[] bt : new int[][] {{1, 1}, {2, 5}, {3, 70}}) {
            Tensor x = Tensor.randn(bt[0], 3, bt[1], 12);
            same("attention (B,T)=(" + bt[0] + "," + bt[1] + ")", f.apply(new Tensor[] {x}), ort(model, Map.of("x", x)), 2e-5f);
        }
        // and back: Kiln's own ONNX import reads every op the export wrote (the dead-row guard's too)
        Path file = java.nio.file.Files.createTempFile("attention", ".onnx");
        try {
            java.nio.file.Files.write(file, model);
            dev.kiln.graph.exec.CompiledGraph back = dev.kiln.graph.exec.CompiledGraph.compile(Onnx.load(file),
                    dev.kiln.graph.exec.CompileOptions.of(dev.kiln.graph.opt.OptLevel.O2));
            Tensor x = Tensor.randn(3, 3, 70, 12);
            float[] got = Tensor.wrap(back.run(java.util.List.of(x.data())).get(0)).toFloatArray();
            same("attention imported back", f.apply(new Tensor[] {x}), got, 2e-5f);
        } finally {
            java.nio.file.Files.deleteIfExists(file);
        }
    }

    @Test
    void aSymbolSeenOnlyAsAMultipleOfAnInputDimIsComputedByDivision() throws Exception {
        // x is [2*N, 3] (as a file may declare it): the reshape to [N, 6] needs N, which no input
        // holds alone, so the model divides x's first dim by 2
        dev.kiln.backend.shape.Dim n = dev.kiln.backend.shape.Dim.symbol("N");
        dev.kiln.graph.GraphBuilder b = Graph.builder("pairs");
        dev.kiln.graph.Value x = b.addInput("x", new dev.kiln.backend.shape.TensorType(DType.FLOAT32,
                new dev.kiln.backend.shape.Dim[] {n.times(dev.kiln.backend.shape.Dim.of(2)), dev.kiln.backend.shape.Dim.of(3)}));
        dev.kiln.graph.Value r = b.add(dev.kiln.backend.op.Op.RESHAPE, dev.kiln.backend.op.Attrs.of("shape",
                new dev.kiln.backend.op.SymbolicShape(new dev.kiln.backend.shape.Dim[] {n, dev.kiln.backend.shape.Dim.of(6)})), "Pairs.java:1", x);
        byte[] model = Onnx.toBytes(b.output(b.add(dev.kiln.backend.op.Op.EXP, dev.kiln.backend.op.Attrs.EMPTY, "Pairs.java:2", r)).build());
        for (int rows : new int[] {2, 8, 14}) {
            Tensor in = Tensor.randn(rows, 3);
            float[] got = ort(model, Map.of("x", in));
            same("2N = " + rows, in.exp().reshape(rows / 2, 6), got, 1e-6f);
        }
    }

    @Test
    void anMlpRunsInOnnxRuntime() throws Exception {
        Kiln.manualSeed(2);
        Sequential mlp = new Sequential(new Linear(8, 16), new ReLU(), new Linear(16, 16), new Tanh(), new Linear(16, 4));
        byte[] model = Onnx.toBytes(trace(mlp, Tensor.randn(3, 8), TraceOptions.builder().name("mlp").dynamic(0, 0, "N").inputNames("x").outputNames("logits").build()));
        try (OrtSession s = ENV.createSession(model, new OrtSession.SessionOptions())) {
            assertEquals(java.util.Set.of("logits"), s.getOutputNames(), "the graph's output name is the ONNX output's");
        }
        for (int n : new int[] {1, 3, 100}) {
            Tensor x = Tensor.randn(n, 8);
            same("mlp batch " + n, eager(mlp, x), ort(model, Map.of("x", x)), 1e-5f);
        }
    }

    @Test
    void aTransformerEncoderLayerRunsWithDynamicBatchAndLength() throws Exception {
        Kiln.manualSeed(3);
        TransformerEncoderLayer layer = new TransformerEncoderLayer(16, 2, 32, 0.0, "gelu", 1e-5, true, true);
        Graph g = trace(layer, Tensor.randn(2, 5, 16), TraceOptions.builder().name("encoder").dynamic(0, 0, "B").dynamic(0, 1, "T").inputNames("src").build());
        byte[] model = Onnx.toBytes(g);
        for (int[] bt : new int[][] {{1, 1}, {2, 5}, {3, 17}, {8, 64}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], 16);
            same("encoder (B,T)=(" + bt[0] + "," + bt[1] + ")", eager(layer, x), ort(model, Map.of("src", x)), 2e-4f);
        }
    }

    /** layer_norm as LayerNormalization: with its weight and bias, and without (ones of the normalized shape, read at run time), over two dims. */
    @Test
    void layerNormsWithAndWithoutAffineRunWithDynamicBatch() throws Exception {
        Kiln.manualSeed(5);
        for (dev.kiln.eager.nn.LayerNorm ln : new dev.kiln.eager.nn.LayerNorm[] {
                new dev.kiln.eager.nn.LayerNorm(new int[] {12}, 1e-5, true), new dev.kiln.eager.nn.LayerNorm(new int[] {3, 12}, 1e-3, false)}) {
            if (ln.weight != null) {
                try (var ng = Autograd.noGrad()) {
                    ln.weight.copy_(Tensor.randn(12));
                    ln.bias.copy_(Tensor.randn(12));
                }
            }
            Graph g = trace(ln, Tensor.randn(2, 3, 12), TraceOptions.builder().name("ln").dynamic(0, 0, "B").inputNames("x").build());
            byte[] model = Onnx.toBytes(g);
            for (int b : new int[] {1, 2, 7}) {
                Tensor x = Tensor.randn(b, 3, 12).mul(3.0).add(2.0);
                same("layer norm (affine " + (ln.weight != null) + ") B=" + b, eager(ln, x), ort(model, Map.of("x", x)), 1e-4f);
            }
        }
    }

    @Test
    void elementwiseReductionAndShapeOpsAgree() throws Exception {
        Kiln.manualSeed(4);
        Function<Tensor[], Tensor> f = in -> {
            Tensor x = in[0];
            Tensor a = F.layerNorm(x, new int[] {6}, null, null, 1e-5).gelu().clamp(-0.5, 0.75);
            Tensor b = x.softmax(-1).cumsum(1).add(x.abs().sqrt().log1p());
            Tensor c = Tensor.where(x.gt(0.1), x.sigmoid(), x.tanh().mul(2.0)).amax(new int[] {2}, true).expand(-1, -1, 6);
            Tensor d = x.pad(new int[] {1, 2}, "constant", 0.5).narrow(2, 1, 6).flip(1);
            return Tensor.cat(2, a, b, c, d).mean(new int[] {1}, false).silu();
        };
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 5, 6)}, TraceOptions.builder().name("ops").dynamic(0, 0, "N").dynamic(0, 1, "T").inputNames("x").build());
        }
        byte[] model = Onnx.toBytes(g);
        for (int[] nt : new int[][] {{1, 2}, {2, 5}, {4, 9}}) {
            Tensor x = Tensor.randn(nt[0], nt[1], 6);
            same("ops " + nt[0] + "x" + nt[1], f.apply(new Tensor[] {x}), ort(model, Map.of("x", x)), 2e-5f);
        }
    }

    @Test
    void largeWeightsGoToAnExternalDataFileOnnxRuntimeReads(@TempDir Path dir) throws Exception {
        Kiln.manualSeed(5);
        Sequential mlp = new Sequential(new Linear(64, 64), new ReLU(), new Linear(64, 3));
        Graph g = trace(mlp, Tensor.randn(2, 64), TraceOptions.builder().name("mlp").dynamic(0, 0, "N").inputNames("x").build());
        Path file = dir.resolve("mlp.onnx");
        Onnx.save(g, file, true);
        assertTrue(java.nio.file.Files.size(dir.resolve("mlp.onnx.data")) >= 64 * 64 * 4);
        assertTrue(java.nio.file.Files.size(file) < 4096, "the weights are not inline");
        Tensor x = Tensor.randn(5, 64);
        try (OrtSession s = ENV.createSession(file.toString(), new OrtSession.SessionOptions());
             OnnxTensor t = OnnxTensor.createTensor(ENV, FloatBuffer.wrap(x.toFloatArray()), new long[] {5, 64});
             OrtSession.Result r = s.run(Map.of("x", t))) {
            float[][] out = (float[][]) r.get(0).getValue();
            float[] flat = new float[15];
            for (int i = 0; i < 5; i++) System.arraycopy(out[i], 0, flat, 3 * i, 3);
            same("external data", eager(mlp, x), flat, 1e-5f);
        }
    }

    @Test
    void trainModeDropoutAndGuardsAreRefusedByName() {
        Sequential m = new Sequential(new Linear(4, 4), new dev.kiln.eager.nn.Dropout(0.5));
        Graph train = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 4)}, TraceOptions.builder().name("drop").build());
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.toBytes(train));
        assertTrue(e.getMessage().contains("rand_like") && e.getMessage().contains("eval mode"), e.getMessage());
        Function<Tensor[], Tensor> loop = in -> { // a loop over a dynamic length: lenient tracing guards T
            Tensor acc = in[0].select(1, 0);
            for (int i = 1; i < in[0].shape(1); i++) acc = acc.add(in[0].select(1, i));
            return acc;
        };
        Graph guarded = Tracer.trace(loop, new Tensor[] {Tensor.randn(4, 6)}, TraceOptions.builder().name("guarded").dynamic(0, 1, "T").strict(false).build());
        e = assertThrows(OnnxException.class, () -> Onnx.toBytes(guarded));
        assertTrue(e.getMessage().contains("guard"), e.getMessage());
    }

    @Test
    void symbolicReshapesAreComputedFromTheInputShape() throws Exception {
        Function<Tensor[], Tensor> f = in -> {
            var b = in[0].sizeSym(0);
            var t = in[0].sizeSym(1);
            return in[0].reshape(b.times(t), dev.kiln.eager.SymInt.of(4)).softmax(1).reshape(b, t, dev.kiln.eager.SymInt.of(2), dev.kiln.eager.SymInt.of(2)).sum(3);
        };
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(f, new Tensor[] {Tensor.randn(2, 3, 4)}, TraceOptions.builder().name("sym").dynamic(0, 0, "B").dynamic(0, 1, "T").inputNames("x").build());
        }
        byte[] model = Onnx.toBytes(g);
        for (int[] bt : new int[][] {{1, 1}, {5, 7}}) {
            Tensor x = Tensor.randn(bt[0], bt[1], 4);
            same("sym", f.apply(new Tensor[] {x}), ort(model, Map.of("x", x)), 1e-5f);
        }
    }
}
