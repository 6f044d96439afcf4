package dev.kiln.tracer.opt;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Flatten;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.MaxPool2d;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.graph.Graph;
import dev.kiln.graph.exec.CompileOptions;
import dev.kiln.graph.exec.CompiledGraph;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LeNet-5 inference at batch 64: the plan's peak memory is at most half of all intermediates, and it computes what eager does. */
class LeNetPlanTest {
    @Test
    void plannedPeakIsAtMostHalfOfAllIntermediates() {
        Kiln.manualSeed(10);
        Sequential lenet = new Sequential(new Conv2d(1, 6, 5, 1, 2), new ReLU(), new MaxPool2d(2), new Conv2d(6, 16, 5), new ReLU(),
                new MaxPool2d(2), new Flatten(), new Linear(400, 120), new ReLU(), new Linear(120, 84), new ReLU(), new Linear(84, 10));
        lenet.eval();
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(lenet, new Tensor[] {Tensor.randn(8, 1, 28, 28)}, TraceOptions.builder().dynamic(0, 0, "N").build());
        }
        CompiledGraph c = CompiledGraph.compile(g, CompileOptions.of(OptLevel.O2).withVerify(true));
        Map<String, Long> n64 = Map.of("N", 64L);
        long peak = c.peakBytes(n64), all = c.sumIntermediateBytes(n64);
        assertTrue(peak <= all / 2, "peak " + peak + " > 50% of " + all + "\n" + c.explain(n64));
        Tensor x = Tensor.randn(64, 1, 28, 28);
        Strided got = c.run(List.of(x.data())).get(0);
        Tensor want;
        try (var ng = Autograd.noGrad()) {
            want = lenet.call(x);
        }
        assertTrue(Tensor.wrap(got).allclose(want, 1e-4, 1e-5));
    }
}
