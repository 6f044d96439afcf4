package dev.kiln.onnx;

import dev.kiln.eager.ControlFlow;
import dev.kiln.eager.Tensor;
import dev.kiln.onnx.OnnxModule.Env;
import dev.kiln.onnx.OnnxProto.Graph;
import dev.kiln.onnx.OnnxProto.Node;
import java.util.Arrays;

/**
 * ONNX's Scan and If as Kiln's {@link ControlFlow} scan and cond, their bodies run node by node
 * in an environment that reads the enclosing graph's values by name: imported under the tracer,
 * each becomes one node with its body, so a Scan keeps its length symbolic. Scans whose inputs
 * and outputs use different axes or directions (which Kiln's scan, one dim and one direction,
 * cannot express) are refused by name. A Loop becomes a while loop whose carries are the iteration
 * count, the condition and the loop-carried values (per-iteration scan outputs are refused).
 */
final class OnnxControlFlow {
    private OnnxControlFlow() {}

    static Object[] scan(Node n, Env env, long opset) {
        Graph body = graph(n, "body");
        int scanInputs = (int) OnnxOps.attrInt(n, "num_scan_inputs", -1);
        int states = n.inputs().size() - scanInputs;
        int scanOutputs = body.outputs().size() - states;
        if (scanInputs < 1 || states < 0 || scanOutputs < 0) throw new OnnxException(n.label() + ": num_scan_inputs " + scanInputs + " does not fit " + n.inputs().size() + " inputs");
        long[] inAxes = OnnxOps.attrInts(n, "scan_input_axes", new long[scanInputs]), outAxes = OnnxOps.attrInts(n, "scan_output_axes", new long[scanOutputs]);
        long[] inDirs = OnnxOps.attrInts(n, "scan_input_directions", new long[scanInputs]), outDirs = OnnxOps.attrInts(n, "scan_output_directions", new long[scanOutputs]);
        long axis = inAxes.length > 0 ? inAxes[0] : 0, dir = inDirs.length > 0 ? inDirs[0] : 0;
        boolean uniform = Arrays.stream(inAxes).allMatch(a -> a == axis) && Arrays.stream(outAxes).allMatch(a -> a == axis)
                && Arrays.stream(inDirs).allMatch(d -> d == dir) && Arrays.stream(outDirs).allMatch(d -> d == dir) && axis >= 0;
        if (!uniform) {
            throw OnnxOps.unsupported(n, "scan axes or directions that differ between inputs and outputs (Kiln's scan has one dim and one direction"
                    + " for all of them; a reverse scan keeps step t's output at index t)");
        }
        if (body.inputs().size() != states + scanInputs) {
            throw new OnnxException(n.label() + ": the body takes " + body.inputs().size() + " inputs, the node gives " + (states + scanInputs));
        }
        Tensor[] init = new Tensor[states], xs = new Tensor[scanInputs];
        for (int i = 0; i < states; i++) init[i] = env.tensor(n.inputs().get(i), n.label() + " state input");
        for (int i = 0; i < scanInputs; i++) xs[i] = env.tensor(n.inputs().get(states + i), n.label() + " scan input");
        ControlFlow.ScanOutput r = ControlFlow.scan((carries, slices) -> {
            Tensor[] in = Arrays.copyOf(carries, states + scanInputs);
            System.arraycopy(slices, 0, in, states, scanInputs);
            Tensor[] out = run(body, in, env, opset);
            return new ControlFlow.ScanOutput(Arrays.copyOf(out, states), Arrays.copyOfRange(out, states, out.length));
        }, init, xs, (int) axis, dir == 1);
        Object[] result = new Object[states + scanOutputs];
        System.arraycopy(r.carries(), 0, result, 0, states);
        System.arraycopy(r.ys(), 0, result, states, scanOutputs);
        return result;
    }

    static Object[] ifThenElse(Node n, Env env, long opset) {
        Graph then = graph(n, "then_branch"), otherwise = graph(n, "else_branch");
        Tensor cond = env.tensor(n.inputs().get(0), n.label() + " condition");
        if (cond.data().numel() != 1) throw new OnnxException(n.label() + ": the condition " + cond.typeString() + " must hold one value");
        if (cond.dim() != 0) cond = cond.reshape();
        return ControlFlow.cond(cond, ops -> run(then, new Tensor[0], env, opset), ops -> run(otherwise, new Tensor[0], env, opset));
    }

    static Object[] loop(Node n, Env env, long opset) {
        Graph body = graph(n, "body");
        int carried = n.inputs().size() - 2;
        if (carried < 0) throw new OnnxException(n.label() + ": Loop needs the inputs M and cond (either may be empty)");
        if (body.outputs().size() != 1 + carried) {
            throw OnnxOps.unsupported(n, "a Loop with per-iteration scan outputs (" + (body.outputs().size() - 1 - carried) + " of them)");
        }
        Tensor max = n.inputs().get(0).isEmpty() ? null : env.tensor(n.inputs().get(0), n.label() + " trip count").to(dev.kiln.backend.DType.INT64).reshape();
        Tensor cond = n.inputs().get(1).isEmpty() ? Tensor.scalar(1, dev.kiln.backend.DType.BOOL)
                : env.tensor(n.inputs().get(1), n.label() + " condition").to(dev.kiln.backend.DType.BOOL).reshape();
        Tensor[] carries = new Tensor[2 + carried];
        carries[0] = Tensor.scalar(0, dev.kiln.backend.DType.INT64);
        carries[1] = cond;
        for (int i = 0; i < carried; i++) carries[2 + i] = env.tensor(n.inputs().get(2 + i), n.label() + " loop-carried input");
        Tensor[] out = ControlFlow.whileLoop(c -> max == null ? c[1] : c[1].logicalAnd(c[0].lt(max)), c -> {
            Tensor[] r = run(body, c, env, opset);
            Tensor[] next = new Tensor[c.length];
            next[0] = c[0].add(Tensor.scalar(1, dev.kiln.backend.DType.INT64));
            next[1] = r[0].to(dev.kiln.backend.DType.BOOL).reshape();
            System.arraycopy(r, 1, next, 2, carried);
            return next;
        }, carries);
        return Arrays.copyOfRange(out, 2, out.length, Object[].class);
    }

    private static Graph graph(Node n, String attr) {
        OnnxProto.Attribute a = OnnxOps.attr(n, attr);
        if (a == null || a.g() == null) throw new OnnxException(n.label() + ": attribute '" + attr + "' (a graph) is missing");
        return a.g();
    }

    /** A subgraph's outputs for these inputs; names it does not define come from the enclosing run. */
    private static Tensor[] run(Graph g, Tensor[] inputs, Env enclosing, long opset) {
        Env env = new Env(enclosing);
        for (int i = 0; i < inputs.length; i++) env.put(g.inputs().get(i).name(), inputs[i], false);
        for (OnnxProto.Tensor t : g.initializers()) {
            try {
                env.put(t.name(), Tensor.wrap(env.tensors.read(t, "subgraph " + g.name() + " initializer " + t.name())), true);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("subgraph " + g.name() + ": cannot read initializer " + t.name(), e);
            }
        }
        for (Node n : g.nodes()) {
            Object[] outs = OnnxOps.apply(n, env, opset);
            for (int k = 0; k < n.outputs().size() && k < outs.length; k++) {
                if (!n.outputs().get(k).isEmpty()) env.putAny(n.outputs().get(k), outs[k], n);
            }
        }
        Tensor[] out = new Tensor[g.outputs().size()];
        for (int i = 0; i < out.length; i++) out[i] = env.tensor(g.outputs().get(i).name(), "subgraph output");
        return out;
    }
}
