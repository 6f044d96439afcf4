package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.functional.F;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Each CUDA kernel against the CPU kernel on the same inputs, through eager (so the funnel's
 * routing is tested too), and one LeNet training step. Skipped, with the reason, without a GPU.
 */
class CudaGpuTest {
    Device gpu;

    @BeforeEach
    void needGpu() {
        gpu = GpuChecks.gpu();
        Kiln.manualSeed(7);
    }

    /** f(x on CPU) and f(x on cuda:0) agree to tol, and the result is on cuda:0. */
    private void same(Function<Tensor[], Tensor> f, double tol, Tensor... cpuInputs) {
        Tensor[] dev = new Tensor[cpuInputs.length];
        for (int i = 0; i < dev.length; i++) dev[i] = cpuInputs[i].to(gpu);
        Tensor expected = f.apply(cpuInputs), actual = f.apply(dev);
        assertEquals(gpu, actual.device());
        assertArrayEquals(expected.shape(), actual.shape());
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            boolean ok = Double.isNaN(e[i]) ? Double.isNaN(a[i]) : Math.abs(e[i] - a[i]) <= tol * (1 + Math.abs(e[i]));
            assertTrue(ok, "element " + i + ": cpu " + e[i] + ", cuda " + a[i]);
        }
    }

    @Test
    void unaryOps() {
        Tensor x = Tensor.randn(37, 53);
        for (Function<Tensor, Tensor> f : java.util.List.<Function<Tensor, Tensor>>of(Tensor::neg, Tensor::abs, Tensor::exp, Tensor::tanh,
                Tensor::sigmoid, Tensor::relu, Tensor::gelu, t -> t.gelu("tanh"), Tensor::sin, Tensor::cos, t -> t.abs().sqrt(),
                t -> t.abs().log(), t -> t.clamp(-0.5, 0.5))) {
            same(in -> f.apply(in[0]), 1e-5, x);
        }
    }

    @Test
    void broadcastingAndTransposedBinaryOps() {
        Tensor a = Tensor.randn(16, 1, 24), b = Tensor.randn(5, 1);
        same(in -> in[0].add(in[1]), 1e-6, a, b);
        same(in -> in[0].mul(in[1]).sub(in[0]).div(in[1].abs().add(1.0)), 1e-5, a, b);
        same(in -> in[0].t().maximum(in[1]), 1e-6, Tensor.randn(7, 9), Tensor.randn(9, 7));
        same(in -> Tensor.where(in[0].le(0.0), in[1], in[0]), 0, Tensor.randn(6, 8), Tensor.randn(6, 8));
    }

    @Test
    void reductionsAndSoftmax() {
        Tensor x = Tensor.randn(8, 300, 5);
        same(in -> in[0].sum(), 1e-5, x);
        same(in -> in[0].sum(new int[] {1}, true), 1e-5, x);
        same(in -> in[0].amax(new int[] {0, 2}, false), 0, x);
        same(in -> in[0].softmax(1), 1e-6, x);
        same(in -> in[0].logSoftmax(-1), 1e-5, x);
        same(in -> in[0].transpose(0, 2).softmax(0), 1e-6, x);
        // arg reductions: ties keep the first index, NaN counts as the extreme (first NaN wins)
        Tensor ties = Tensor.of(new float[] {1, 3, 3, 0, 2, 2, Float.NaN, 5, Float.NaN, -1, -1, -1}, 3, 4);
        same(in -> in[0].argmax(1, false), 0, ties);
        same(in -> in[0].argmin(0, true), 0, ties);
        same(in -> in[0].argmax(1, false), 0, x.reshape(8, 1500));
        same(in -> in[0].argmax(), 0, x);
        same(in -> in[0].argmin(1, false), 0, x.transpose(0, 1).reshape(300, 40));
        // i64 reductions: a count of matches, a sum of labels
        Tensor labels = Tensor.randint(0, 10, 1000);
        same(in -> in[0].eq(in[1]).to(dev.kiln.backend.DType.INT64).sum(), 0, labels, Tensor.randint(0, 10, 1000));
        same(in -> in[0].reshape(10, 100).sum(new int[] {1}, false), 0, labels);
    }

    @Test
    void gemmAgainstCpu() {
        same(in -> in[0].matmul(in[1]), 1e-4, Tensor.randn(129, 70), Tensor.randn(70, 65));
        same(in -> in[0].matmul(in[1].t()), 1e-4, Tensor.randn(33, 64), Tensor.randn(17, 64));
        same(in -> in[0].matmul(in[1]), 1e-4, Tensor.randn(3, 20, 30), Tensor.randn(3, 30, 10));
        same(in -> F.linear(in[0], in[1], in[2]), 1e-4, Tensor.randn(10, 84), Tensor.randn(20, 84), Tensor.randn(20));
        // the 128x128 kernel: ragged edges, each operand transposed, batched, accumulating (addmm)
        same(in -> in[0].matmul(in[1]), 1e-4, Tensor.randn(300, 203), Tensor.randn(203, 261));
        same(in -> in[0].t().matmul(in[1]), 1e-4, Tensor.randn(77, 130), Tensor.randn(77, 129));
        same(in -> in[0].matmul(in[1].t()), 1e-4, Tensor.randn(257, 64), Tensor.randn(140, 64));
        same(in -> in[0].t().matmul(in[1].t()), 1e-4, Tensor.randn(33, 200), Tensor.randn(150, 33));
        same(in -> in[0].matmul(in[1]), 1e-4, Tensor.randn(2, 130, 9), Tensor.randn(2, 9, 131));
        same(in -> F.linear(in[0], in[1], in[2]), 1e-4, Tensor.randn(256, 400), Tensor.randn(128, 400), Tensor.randn(128));
    }

    @Test
    void convPoolAndEmbedding() {
        same(in -> F.conv2d(in[0], in[1], in[2], new int[] {1, 1}, new int[] {2, 2}, new int[] {1, 1}, 1), 1e-4,
                Tensor.randn(4, 3, 28, 28), Tensor.randn(6, 3, 5, 5), Tensor.randn(6));
        same(in -> F.maxPool2d(in[0], 2), 0, Tensor.randn(4, 6, 28, 28));
        same(in -> in[0].indexSelect(0, in[1]), 0, Tensor.randn(50, 16), Tensor.of(new long[] {3, 0, 49, -1, 3}));
        Tensor emb = Tensor.randn(10, 4).to(gpu);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class, () -> emb.indexSelect(0, Tensor.of(new long[] {10}).to(gpu)));
        assertTrue(e.getMessage().contains("index 10 is out of range"), e.getMessage());
    }

    @Test
    void resultsStayOnTheDeviceUntilTheHostReadsThem() {
        Tensor x = Tensor.randn(64, 48), w = Tensor.randn(48, 32);
        Tensor expected = x.matmul(w).relu().add(1.0).sum(new int[] {1}, false);
        Tensor y = x.to(gpu).matmul(w.to(gpu)).relu().add(1.0).sum(new int[] {1}, false);
        org.junit.jupiter.api.Assertions.assertFalse(y.data().storage().isOnHost(), "no op copied its result to the host");
        gpu.synchronize();
        double[] e = expected.toDoubleArray(), a = y.toDoubleArray();
        for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], 1e-4 * (1 + Math.abs(e[i])), "element " + i);
        assertTrue(y.data().storage().isOnHost());
    }

    @Test
    void inPlaceUpdatesAreWrittenOnTheDevice() {
        Tensor p = Tensor.randn(1000), q = Tensor.randn(1000);
        Tensor pd = p.to(gpu), qd = q.to(gpu);
        try (var ng = dev.kiln.eager.autograd.Autograd.noGrad()) {
            p.mul_(0.5).add_(q, -0.1);
            pd.mul_(0.5).add_(qd, -0.1);
        }
        org.junit.jupiter.api.Assertions.assertFalse(pd.data().storage().isOnHost(), "the update ran on the device");
        assertArrayEquals(p.toFloatArray(), pd.toFloatArray(), 1e-6f);
        // a host read, then another device write: the host copy must not be reused
        try (var ng = dev.kiln.eager.autograd.Autograd.noGrad()) {
            p.add_(1.0);
            pd.add_(1.0);
        }
        assertArrayEquals(p.toFloatArray(), pd.toFloatArray(), 1e-6f);
    }

    @Test
    void lenetTrainsWithSgdMomentumLikeTheCpu() {
        float[][] cpu = lenetTrain(Device.cpu()), cuda = lenetTrain(gpu);
        for (int p = 0; p < cpu.length; p++) GpuChecks.assertClose(cpu[p], cuda[p], 1e-3, "parameter " + p);
    }

    /** LeNet-5 as in kiln-examples (which this module does not depend on). */
    static final class LeNet extends dev.kiln.eager.nn.Module {
        private final dev.kiln.eager.nn.Conv2d c1 = registerModule("c1", new dev.kiln.eager.nn.Conv2d(1, 6, 5, 1, 2));
        private final dev.kiln.eager.nn.Conv2d c2 = registerModule("c2", new dev.kiln.eager.nn.Conv2d(6, 16, 5));
        private final dev.kiln.eager.nn.Linear f1 = registerModule("f1", new dev.kiln.eager.nn.Linear(400, 120));
        private final dev.kiln.eager.nn.Linear f2 = registerModule("f2", new dev.kiln.eager.nn.Linear(120, 84));
        private final dev.kiln.eager.nn.Linear f3 = registerModule("f3", new dev.kiln.eager.nn.Linear(84, 10));

        @Override
        public Tensor forward(Tensor x) {
            x = F.maxPool2d(c1.call(x).relu(), 2);
            x = F.maxPool2d(c2.call(x).relu(), 2);
            return f3.call(f2.call(f1.call(x.flatten(1)).relu()).relu());
        }
    }

    /** Three SGD-with-momentum steps of LeNet on device d; returns the parameters. */
    private static float[][] lenetTrain(Device d) {
        Kiln.manualSeed(4);
        LeNet net = new LeNet();
        net.to(d);
        var opt = dev.kiln.eager.optim.SGD.builder(net.parameters()).lr(0.05).momentum(0.9).build();
        Tensor x = Tensor.randn(32, 1, 28, 28).to(d), y = Tensor.randint(0, 10, 32).to(d);
        for (int step = 0; step < 3; step++) {
            opt.zeroGrad();
            F.crossEntropy(net.call(x), y).backward();
            opt.step();
        }
        java.util.List<Tensor> ps = net.parameters();
        float[][] out = new float[ps.size()][];
        for (int i = 0; i < out.length; i++) out[i] = ps.get(i).toFloatArray();
        return out;
    }

    @Test
    void tracedFunctionsRunTheirFusedGroupsAsGeneratedKernels() {
        java.util.function.Function<Tensor[], Tensor> fn = in -> in[0].matmul(in[1]).add(in[2]).gelu().mul(0.5).relu().sum(new int[] {1}, false);
        Tensor x = Tensor.randn(64, 96), w = Tensor.randn(96, 48), b = Tensor.randn(48);
        Tensor expected = fn.apply(new Tensor[] {x, w, b});
        var traced = new dev.kiln.tracer.TracedFunction(fn, dev.kiln.tracer.TraceOptions.builder().name("mlp_head").build());
        long before = CudaExecutor.fusedLaunches();
        Tensor actual = traced.call(x.to(gpu), w.to(gpu), b.to(gpu));
        assertEquals(gpu, actual.device());
        assertTrue(CudaExecutor.fusedLaunches() > before, "the add+gelu+mul+relu group ran as one generated kernel");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) assertEquals(e[i], a[i], 1e-4 * (1 + Math.abs(e[i])), "element " + i);
        // the same function on CPU tensors still runs the CPU plan
        assertEquals(Device.cpu(), traced.call(x, w, b).device());
    }

    @Test
    void aTracedTrainingStepRunsOnTheGpuLikeEagerOnTheCpu() {
        float[][] eager = lenetTrain(Device.cpu()); // three eager SGD-momentum steps
        Kiln.manualSeed(4);
        LeNet net = new LeNet();
        net.to(gpu);
        var opt = dev.kiln.eager.optim.SGD.builder(net.parameters()).lr(0.05).momentum(0.9).build();
        Tensor[] batch = {Tensor.randn(32, 1, 28, 28).to(gpu), Tensor.randint(0, 10, 32).to(gpu)};
        java.util.function.Function<Tensor[], Tensor> step = in -> {
            opt.zeroGrad();
            Tensor loss = F.crossEntropy(net.call(in[0]), in[1]);
            loss.backward();
            opt.step();
            return loss;
        };
        // traceStep runs two eager steps (one to create the momentum buffers, one recorded); the third is traced
        var traced = dev.kiln.tracer.Tracer.traceStep(step, batch,
                dev.kiln.tracer.TraceOptions.builder().name("lenet_step").params(net.namedParameters()).build());
        assertEquals(gpu, traced.device());
        long before = CudaExecutor.fusedLaunches();
        assertEquals(gpu, traced.run(batch).device());
        assertTrue(CudaExecutor.fusedLaunches() > before, "the traced step ran fused kernels");
        java.util.List<String> names = new java.util.ArrayList<>(net.namedParameters().keySet());
        for (int p = 0; p < names.size(); p++) {
            GpuChecks.assertClose(eager[p], traced.parameter(names.get(p)).toFloatArray(), 1e-3, "parameter " + names.get(p));
        }
    }

    @Test
    void lenetTrainingStepMatchesCpu() {
        float[][] cpu = lenetStep(Device.cpu()), cuda = lenetStep(gpu);
        for (int p = 0; p < cpu.length; p++) GpuChecks.assertClose(cpu[p], cuda[p], 1e-3, "gradient " + p);
    }

    /** One forward/backward of LeNet-5 on a fixed batch; returns the parameter gradients. */
    private static float[][] lenetStep(Device d) {
        Kiln.manualSeed(42);
        Tensor[] p = {Tensor.randn(6, 1, 5, 5).mul(0.2), Tensor.zeros(6), Tensor.randn(16, 6, 5, 5).mul(0.08), Tensor.zeros(16),
            Tensor.randn(120, 400).mul(0.05), Tensor.zeros(120), Tensor.randn(84, 120).mul(0.09), Tensor.zeros(84),
            Tensor.randn(10, 84).mul(0.1), Tensor.zeros(10)};
        for (int i = 0; i < p.length; i++) p[i] = p[i].to(d).requiresGrad(true);
        Tensor x = Tensor.randn(16, 1, 28, 28).to(d);
        Tensor y = Tensor.of(new long[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5}).to(d);
        int[] one = {1, 1};
        Tensor h = F.maxPool2d(F.conv2d(x, p[0], p[1], one, new int[] {2, 2}, one, 1).relu(), 2);
        h = F.maxPool2d(F.conv2d(h, p[2], p[3], one, new int[] {0, 0}, one, 1).relu(), 2);
        h = F.linear(h.flatten(1), p[4], p[5]).relu();
        h = F.linear(h, p[6], p[7]).relu();
        Tensor loss = F.crossEntropy(F.linear(h, p[8], p[9]), y);
        loss.backward();
        float[][] grads = new float[p.length][];
        for (int i = 0; i < p.length; i++) grads[i] = p[i].grad().toFloatArray();
        return grads;
    }
}
