package dev.kiln.tests.differential;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.BatchNorm2d;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.Module;
import dev.kiln.eager.nn.functional.F;
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
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * A graph traced at one batch size runs at others: traced at 64 with a symbolic batch, then
 * compiled at O1 and O2 and reloaded from its JSON artifact, it must equal eager at batch 1, 64,
 * 65 and 300 (split boundaries of the conv blocks, the GEMM paths and the fused loops all
 * move with the batch). Equal within float rounding, not bit for bit: freezing parameters
 * stores a linear layer's transposed weight contiguously, and the GEMM then sums in another
 * order than eager's dot products over the transposed view; O2 also folds batch norm into the
 * convolution. (Elementwise ops and fused loops are bit-exact: SpecialValuesTest.)
 */
class TracedAcrossBatchesTest {
    static final int[] BATCHES = {1, 64, 65, 300};

    /** conv -> batch norm -> gelu -> conv (stride 2) + a pooled skip -> linear. */
    static final class ConvBnNet extends Module {
        private final Conv2d c1 = registerModule("c1", new Conv2d(3, 8, 3, 1, 1));
        private final BatchNorm2d bn = registerModule("bn", new BatchNorm2d(8));
        private final Conv2d c2 = registerModule("c2", new Conv2d(8, 8, 3, 2, 1));
        private final Linear fc = registerModule("fc", new Linear(8 * 6 * 6, 5));

        @Override
        public Tensor forward(Tensor x) {
            Tensor h = bn.call(c1.call(x)).gelu();
            Tensor y = c2.call(h).add(F.avgPool2d(h, 2)).relu();
            return fc.call(y.flatten(1));
        }
    }

    @Test
    void lenetTracedAt64EqualsEagerAtEveryBatch() throws Exception {
        Kiln.manualSeed(3);
        check(new ReproducibleWorkload.LeNet(), () -> Tensor.randn(64, 1, 28, 28), new int[] {1, 28, 28}, 1e-5);
    }

    @Test
    void convBatchNormNetTracedAt64EqualsEagerAtEveryBatch() throws Exception {
        Kiln.manualSeed(4);
        ConvBnNet net = new ConvBnNet();
        // running statistics that are not the identity, so folding them has something to fold
        net.train();
        try (var ng = Autograd.noGrad()) {
            for (int i = 0; i < 3; i++) net.call(Tensor.randn(32, 3, 12, 12).mul(1.5).add(0.3));
        }
        check(net, () -> Tensor.randn(64, 3, 12, 12), new int[] {3, 12, 12}, 2e-5);
    }

    /** Every output within tol of eager's, relative to the largest output magnitude. */
    private static void check(Module net, Supplier<Tensor> example, int[] sample, double tol) throws Exception {
        net.eval();
        Graph g = Tracer.trace(net, new Tensor[] {example.get()}, TraceOptions.builder().name("net").dynamic(0, 0, "N").build());
        Graph reloaded = KilnReader.fromJson(KilnWriter.toJson(g), LoadLimits.defaults()).graph();
        List<CompiledGraph> paths = List.of(CompiledGraph.compile(g, CompileOptions.of(OptLevel.O1)),
                CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2)), CompiledGraph.compile(reloaded, CompileOptions.of(OptLevel.O2)));
        String[] names = {"O1", "O2", "reloaded O2"};
        for (int n : BATCHES) {
            int[] shape = new int[sample.length + 1];
            shape[0] = n;
            System.arraycopy(sample, 0, shape, 1, sample.length);
            Tensor x = Tensor.randn(shape);
            float[] eager;
            try (var ng = Autograd.noGrad()) {
                eager = net.call(x).contiguous().toFloatArray();
            }
            for (int p = 0; p < paths.size(); p++) {
                List<Strided> out = paths.get(p).run(List.of(x.data()));
                float[] got = Tensor.wrap(out.get(0)).contiguous().toFloatArray();
                String what = names[p] + " at batch " + n;
                assertTrue(got.length == eager.length, what + ": output size");
                double scale = 0;
                for (float v : eager) scale = Math.max(scale, Math.abs(v));
                for (int i = 0; i < eager.length; i++) {
                    int k = i;
                    assertTrue(Math.abs(eager[i] - got[i]) <= tol * scale, () -> what + " at " + k + ": eager " + eager[k] + ", compiled " + got[k]);
                }
            }
        }
    }
}
