package dev.kiln.tracer;

import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.ControlFlowTypes;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Node;
import java.util.Arrays;
import java.util.function.BiFunction;

/**
 * A control-flow node of a loaded graph run as eager {@link ControlFlow} calls whose lambdas run
 * its bodies: a {@link GraphModule} stays differentiable (fine-tuning an imported model) and,
 * traced again, gives the node back.
 */
final class ControlFlowModules {
    private ControlFlowModules() {}

    static Tensor[] run(Node n, Tensor[] in, BiFunction<Graph, Tensor[], Tensor[]> body) {
        switch (n.op()) {
            case COND: {
                Tensor[] operands = Arrays.copyOfRange(in, 1, in.length);
                return ControlFlow.cond(in[0], ops -> body.apply(n.bodies().get(0), ops), ops -> body.apply(n.bodies().get(1), ops), operands);
            }
            case WHILE_LOOP: {
                int c = in.length - n.attrs().getInt("captures");
                Tensor[] captures = Arrays.copyOfRange(in, c, in.length);
                return ControlFlow.whileLoop(s -> body.apply(n.bodies().get(0), concat(s, captures))[0],
                        s -> body.apply(n.bodies().get(1), concat(s, captures)), Arrays.copyOf(in, c));
            }
            case SCAN: {
                ControlFlowTypes.ScanLayout l = ControlFlowTypes.ScanLayout.of(n);
                Tensor[] init = Arrays.copyOf(in, l.carries());
                Tensor[] xs = Arrays.copyOfRange(in, l.carries(), l.carries() + l.xs());
                Tensor[] captures = Arrays.copyOfRange(in, l.carries() + l.xs(), in.length);
                ControlFlow.ScanOutput r = ControlFlow.scan((carries, slices) -> {
                    Tensor[] out = body.apply(n.bodies().get(0), concat(concat(carries, slices), captures));
                    return new ControlFlow.ScanOutput(Arrays.copyOf(out, l.carries()), Arrays.copyOfRange(out, l.carries(), out.length));
                }, init, xs, l.dim(), l.reverse());
                return concat(r.carries(), r.ys());
            }
            default:
                throw new IllegalArgumentException(n.describe() + " is not control flow");
        }
    }

    private static Tensor[] concat(Tensor[] a, Tensor[] b) {
        Tensor[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
