package dev.kiln.benchmarks;

import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.examples.LeNet;
import java.util.function.Function;

/** torch_bench.py's LeNet-5 rows (examples' LeNet is the same network), plus lenet_train_b64_traced. */
final class LeNetRows {
    private LeNetRows() {}

    /** Seeds the traced-training twins; any value works, it only has to be the same for both. */
    private static final long TWIN_SEED = 8;

    static void run(Report report) {
        LeNet net = new LeNet();
        Tensor x = Tensor.randn(64, 1, 28, 28);
        // torch_bench.py reuses the MLP's labels Y; any 64 labels in [0, 10) are the same work.
        Tensor y = Tensor.randint(0, 10, 64);
        Tensor[] batch = {x, y};
        Function<Tensor[], Tensor> step = TrainStep.of(net, TrainStep.sgd(net));
        report.ms("lenet_train_b64", Median.ms(() -> step.apply(batch), 50, 10));

        net.eval();
        try (var ng = Autograd.noGrad()) {
            report.ms("lenet_infer_b64", Median.ms(() -> net.call(x), 100, 10));
        }
        // traced with the batch symbolic, as a deployed model would be (the peer's torch.jit.trace
        // graph is shape-specialized; a symbolic batch costs Kiln nothing at run time)
        CompiledInference traced = CompiledInference.batched("lenet", net::call, x, net.namedParameters());
        report.ms("lenet_infer_b64_traced", Median.ms(traced.verifiedRunner("lenet_infer_b64_traced", x, net::call), 100, 10));

        report.ms("lenet_train_b64_traced", Median.ms(TracedTraining.verifiedRunner("lenet_train_b64_traced", LeNet::new, TWIN_SEED, batch), 50, 10));
    }
}
