package dev.kiln.benchmarks;

import dev.kiln.Kiln;
import dev.kiln.eager.Device;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.examples.LeNet;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.TracedFunction;
import dev.kiln.tracer.TracedStep;
import dev.kiln.tracer.Tracer;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Kiln's half of the GPU comparison (benchmarks/gpu/run.sh, peer benchmarks/gpu/torch_cuda_bench.py):
 * SGEMM and LeNet-5 training and inference on cuda:0, as JSON lines with the names the peer prints.
 * Every timed call ends with {@link Device#synchronize()}, as the peer calls torch.cuda.synchronize(),
 * so a row is the time until the GPU has finished, not until the launches were queued.
 */
public final class CudaSideBySide {
    private CudaSideBySide() {}

    public static void main(String[] args) {
        if (!Kiln.cudaAvailable()) {
            System.err.println("CudaSideBySide: " + Kiln.cudaUnavailableReason());
            System.exit(3);
        }
        Device gpu = Device.cuda(0);
        if (args.length == 2 && args[0].equals("--train-steps")) { // a profiler's view of one eager step, nothing else
            trainSteps(gpu, Integer.parseInt(args[1]));
            return;
        }
        // as SideBySide --rounds: every round runs the same work, only the last is printed, so
        // the JIT has compiled the eager path by then
        int rounds = args.length == 2 && args[0].equals("--rounds") ? Integer.parseInt(args[1]) : 2;
        for (int r = 1; r <= rounds; r++) run(gpu, new Report(r == rounds));
        var allocator = dev.kiln.backend.cuda.CudaBackend.device(gpu.index()).allocator();
        System.err.println("CudaSideBySide: " + allocator.stats() + ", reclaims " + allocator.reclaims());
    }

    private static void run(Device gpu, Report report) {
        Kiln.manualSeed(0);
        for (int n : new int[] {1024, 4096}) {
            Tensor a = Tensor.randn(n, n).to(gpu), b = Tensor.randn(n, n).to(gpu);
            double ms = Median.ms(synced(gpu, () -> a.matmul(b)), 20, 5);
            report.msWithGflops("sgemm" + n + "_cuda", ms, 2.0 * n * n * n / ms / 1e6);
        }
        for (int batch : new int[] {64, 256}) {
            LeNet net = new LeNet();
            net.to(gpu);
            Tensor x = Tensor.randn(batch, 1, 28, 28).to(gpu);
            Tensor y = Tensor.randint(0, 10, batch).to(gpu);
            Tensor[] xy = {x, y};
            Function<Tensor[], Tensor> step = TrainStep.of(net, TrainStep.sgd(net));
            report.ms("lenet_train_b" + batch + "_cuda", Median.ms(synced(gpu, () -> step.apply(xy)), 200, 20));
            // the same step traced and compiled for the GPU (Kiln-only row)
            LeNet tracedNet = new LeNet();
            tracedNet.to(gpu);
            TracedStep tracedStep = Tracer.traceStep(TrainStep.of(tracedNet, TrainStep.sgd(tracedNet)), xy,
                    TraceOptions.builder().name("lenet_train").params(tracedNet.namedParameters()).build());
            report.ms("lenet_train_b" + batch + "_traced_cuda", Median.ms(synced(gpu, () -> tracedStep.run(xy)), 200, 20));
            net.eval();
            try (var ng = Autograd.noGrad()) {
                report.ms("lenet_infer_b" + batch + "_cuda", Median.ms(synced(gpu, () -> net.call(x)), 200, 20));
            }
            // traced and compiled for the GPU: fused groups as generated kernels (Kiln-only row)
            TracedFunction traced = new TracedFunction(in -> net.call(in[0]),
                    TraceOptions.builder().name("lenet").dynamic(0, 0, "N").params(net.namedParameters()).build());
            report.ms("lenet_infer_b" + batch + "_traced_cuda", Median.ms(synced(gpu, () -> traced.call(x)), 200, 20));
        }
    }

    /** n LeNet b64 training steps on gpu, then the median step time on stderr. */
    private static void trainSteps(Device gpu, int n) {
        Kiln.manualSeed(0);
        LeNet net = new LeNet();
        net.to(gpu);
        Tensor[] xy = {Tensor.randn(64, 1, 28, 28).to(gpu), Tensor.randint(0, 10, 64).to(gpu)};
        Function<Tensor[], Tensor> step = TrainStep.of(net, TrainStep.sgd(net));
        System.err.println("CudaSideBySide --train-steps: median " + Median.ms(synced(gpu, () -> step.apply(xy)), n, 50) + " ms");
    }

    private static Supplier<Object> synced(Device d, Supplier<?> work) {
        return () -> {
            Object r = work.get();
            d.synchronize();
            return r;
        };
    }
}
