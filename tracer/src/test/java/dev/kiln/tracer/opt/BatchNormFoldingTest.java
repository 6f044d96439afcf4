package dev.kiln.tracer.opt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.Kiln;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Op;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.BatchNorm1d;
import dev.kiln.eager.nn.BatchNorm2d;
import dev.kiln.eager.nn.Conv2d;
import dev.kiln.eager.nn.Flatten;
import dev.kiln.eager.nn.Linear;
import dev.kiln.eager.nn.ReLU;
import dev.kiln.eager.nn.Sequential;
import dev.kiln.eager.nn.functional.F;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import dev.kiln.graph.opt.OptLevel;
import dev.kiln.graph.opt.OptimizationResult;
import dev.kiln.graph.opt.PassManager;
import dev.kiln.tracer.TraceOptions;
import dev.kiln.tracer.Tracer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Eval-mode batch norm disappears into the preceding conv / linear, with the same outputs. */
class BatchNormFoldingTest {

    @Test
    void convAndLinearAbsorbTheirBatchNorms() {
        Kiln.manualSeed(8);
        Sequential m = new Sequential(new Conv2d(2, 4, 3, 1, 1), new BatchNorm2d(4), new ReLU(), new Flatten(),
                new Linear(4 * 5 * 5, 6), new BatchNorm1d(6), new ReLU());
        // a few training steps give the running statistics and affine parameters non-trivial values
        var opt = dev.kiln.eager.optim.SGD.builder(m.parameters()).lr(0.1).build();
        for (int i = 0; i < 3; i++) {
            opt.zeroGrad();
            F.mseLoss(m.call(Tensor.randn(8, 2, 5, 5)), Tensor.randn(8, 6)).backward();
            opt.step();
        }
        m.eval();
        Graph g;
        try (var ng = Autograd.noGrad()) {
            g = Tracer.trace(m, new Tensor[] {Tensor.randn(3, 2, 5, 5)}, TraceOptions.builder().dynamic(0, 0, "N").build());
        }
        OptimizationResult r = PassManager.builder().level(OptLevel.O2).freezeParams(true).verify(true).build().run(g);
        Graph opt2 = r.graph();
        long affine = opt2.nodes().stream().filter(n -> n.op() == Op.SUB || n.op() == Op.MUL || n.op() == Op.DIV || n.op() == Op.ADD).count();
        assertEquals(0, affine, "batch-norm arithmetic should be folded away:\n" + opt2);
        assertEquals(1, opt2.nodes().stream().filter(n -> n.op() == Op.CONV2D).count(), opt2.toString());
        assertTrue(r.report().toString().contains("bnfold"), r.report().toString());
        for (int n : new int[] {1, 7}) {
            Tensor x = Tensor.randn(n, 2, 5, 5);
            Strided got = ReferenceInterpreter.run(opt2, List.of(x.data())).get(0);
            Tensor want;
            try (var ng = Autograd.noGrad()) {
                want = m.call(x);
            }
            assertTrue(Tensor.wrap(got).allclose(want, 1e-5, 1e-5), "batch " + n);
        }
    }

    @Test
    void trainableGraphsKeepTheirBatchNorm() {
        Kiln.manualSeed(9);
        Sequential m = new Sequential(new Linear(4, 3), new BatchNorm1d(3));
        m.eval();
        Graph g = Tracer.trace(m, new Tensor[] {Tensor.randn(2, 4)}, TraceOptions.defaults());
        Graph kept = PassManager.builder().level(OptLevel.O2).freezeParams(false).verify(true).build().run(g).graph();
        assertTrue(kept.nodes().stream().anyMatch(n -> n.op() == Op.MUL || n.op() == Op.DIV), kept.toString());
    }
}
