package dev.kiln.onnx;

import dev.kiln.backend.DType;
import dev.kiln.eager.SymInt;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.nn.Module;
import dev.kiln.onnx.OnnxProto.Attribute;
import dev.kiln.onnx.OnnxProto.Model;
import dev.kiln.onnx.OnnxProto.Node;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX graph as a Kiln module: its float initializers are parameters (named after the
 * initializers, so it fine-tunes), and {@link #run} evaluates the nodes in order on eager tensors
 * with Kiln's own ops and composites. Run once under the tracer it becomes a Kiln graph
 * ({@link OnnxImporter}); run eagerly it is the ONNX model with autograd.
 *
 * <p>Shape arithmetic (Shape, Gather, Concat, Reshape of computed sizes, as exporters emit for
 * dynamic dims) is followed symbolically: the output of Shape is a vector of {@link SymInt}s, so
 * a reshape to {@code [B*T, C]} stays symbolic instead of baking this run's sizes.
 */
public final class OnnxModule extends Module {
    final Model model;
    private final Map<String, Tensor> initializers = new LinkedHashMap<>();
    /** ONNX initializer name -> its parameter's name: sanitized and made unique (a.b and a_b must not merge) */
    private final Map<String, String> paramNames = new HashMap<>();
    private final List<String> inputNames = new ArrayList<>();

    private final OnnxTensors reader;

    OnnxModule(Model model, OnnxTensors reader) throws IOException {
        this.model = model;
        this.reader = reader;
        long opset = model.opset();
        if (opset < OnnxOps.MIN_OPSET || opset > OnnxOps.MAX_OPSET) {
            throw new OnnxException("the model uses opset " + opset + " of the default domain; Kiln imports opsets " + OnnxOps.MIN_OPSET + " to " + OnnxOps.MAX_OPSET);
        }
        for (String domain : model.opsets().keySet()) {
            if (!domain.isEmpty() && !domain.equals("ai.onnx")) throw new OnnxException("the model imports operator domain '" + domain + "', which Kiln does not implement");
        }
        var g = model.graph();
        int i = 0;
        for (OnnxProto.Tensor t : g.initializers()) {
            String where = "graph.initializer[" + i++ + "]";
            if (initializers.containsKey(t.name())) throw new OnnxException(where + ": initializer '" + t.name() + "' is defined twice");
            Tensor data = Tensor.wrap(reader.read(t, where));
            if (data.dtype().isFloatingPoint()) {
                String base = paramName(t.name()), name = base;
                for (int k = 2; parameter(name) != null || paramNames.containsValue(name); k++) name = base + "_" + k;
                paramNames.put(t.name(), name);
                registerParameter(name, data);
            }
            initializers.put(t.name(), data);
        }
        for (OnnxProto.ValueInfo in : g.inputs()) if (!initializers.containsKey(in.name())) inputNames.add(in.name());
    }

    /** A parameter name Kiln accepts (no dots or spaces; ONNX names are free text). */
    static String paramName(String onnxName) {
        StringBuilder s = new StringBuilder();
        for (char c : onnxName.toCharArray()) s.append(Character.isLetterOrDigit(c) || c == '_' ? c : '_');
        String r = s.length() == 0 || Character.isDigit(s.charAt(0)) ? "p_" + s : s.toString();
        return r;
    }

    /** The graph inputs that are not initializers, in order. */
    public List<String> inputNames() { return Collections.unmodifiableList(inputNames); }

    @Override
    public Tensor forward(Tensor x) { return forward(new Tensor[] {x}); }

    @Override
    public Tensor forward(Tensor... inputs) {
        Tensor[] out = run(inputs);
        if (out.length != 1) throw new IllegalArgumentException(describe() + ": the model has " + out.length + " outputs; call run(...)");
        return out[0];
    }

    /** Every graph output, in order. */
    public Tensor[] run(Tensor... inputs) {
        if (inputs.length != inputNames.size()) {
            throw new IllegalArgumentException("ONNX model: expected " + inputNames.size() + " inputs " + inputNames + ", got " + inputs.length);
        }
        Env env = new Env(reader);
        initializers.forEach((k, v) -> env.put(k, parameterOrConstant(k, v), true));
        for (int i = 0; i < inputs.length; i++) env.put(inputNames.get(i), inputs[i], false);
        long opset = model.opset();
        for (Node n : model.graph().nodes()) {
            Object[] outs;
            try {
                outs = OnnxOps.apply(n, env, opset);
            } catch (OnnxException e) {
                throw e;
            } catch (dev.kiln.tracer.TraceException e) {
                throw new OnnxException(n.label() + " (opset " + opset + "): " + e.getMessage()
                        + "; a size Kiln cannot keep symbolic here can be fixed at import: Onnx.load(path, limits, Map.of(dim, size))", e);
            } catch (RuntimeException e) {
                throw new OnnxException(n.label() + " (opset " + opset + "): " + e.getMessage(), e);
            } catch (OutOfMemoryError e) {
                // a size the checks did not foresee (a broadcast of two small inputs): the failed
                // allocation is gone once this unwinds, and the caller gets an error, not a dead JVM
                throw new OnnxException(n.label() + " (opset " + opset + "): ran out of memory computing this node (" + e.getMessage() + ")");
            }
            for (int k = 0; k < n.outputs().size() && k < outs.length; k++) {
                if (n.outputs().get(k).isEmpty()) continue;
                env.putAny(n.outputs().get(k), outs[k], n);
            }
        }
        Tensor[] result = new Tensor[model.graph().outputs().size()];
        for (int i = 0; i < result.length; i++) result[i] = env.tensor(model.graph().outputs().get(i).name(), "graph output");
        return result;
    }

    private Tensor parameterOrConstant(String onnxName, Tensor data) {
        String name = paramNames.get(onnxName);
        return name != null ? parameter(name) : data;
    }

    /**
     * The values of one run: tensors, and shape vectors ({@link Shape}) from Shape nodes. A set
     * of tensors is known to be constant (initializers, Constant nodes and what is computed from
     * them alone), so attribute-like inputs (axes, pads, starts) can be read as numbers.
     */
    static final class Env {
        final OnnxTensors tensors;
        private final Map<String, Object> values = new HashMap<>();
        /** The enclosing graph's values, which a subgraph (a Scan or If body) may read by name; null at the top. */
        private final Env enclosing;

        Env(OnnxTensors tensors) {
            this.tensors = tensors;
            this.enclosing = null;
        }

        /** The values of one run of a subgraph of the graph {@code enclosing} runs. */
        Env(Env enclosing) {
            this.tensors = enclosing.tensors;
            this.enclosing = enclosing;
        }
        private final Set<Tensor> constants = Collections.newSetFromMap(new IdentityHashMap<>());

        void put(String name, Tensor t, boolean constant) {
            values.put(name, t);
            if (constant) constants.add(t);
        }

        void putAny(String name, Object v, Node producer) {
            if (values.containsKey(name)) throw new OnnxException(producer.label() + ": output '" + name + "' is already defined (values are assigned once in ONNX)");
            values.put(name, v);
        }

        boolean has(String name) {
            return name != null && !name.isEmpty() && (values.containsKey(name) || enclosing != null && enclosing.has(name));
        }

        Object get(String name, String role) {
            Object v = values.get(name);
            if (v == null && enclosing != null && enclosing.has(name)) return enclosing.get(name, role);
            if (v == null) throw new OnnxException(role + " '" + name + "' is not defined by any earlier node, input or initializer");
            return v;
        }

        Tensor tensor(String name, String role) {
            Object v = get(name, role);
            if (v instanceof Shape s) return s.toTensor(role + " '" + name + "'");
            return (Tensor) v;
        }

        boolean isConstant(Tensor t) { return constants.contains(t) || enclosing != null && enclosing.isConstant(t); }

        void markConstant(Tensor t) { constants.add(t); }
    }

    /** A 1-D int64 tensor of sizes as the Shape op makes it, kept symbolic; scalar when a Gather picked one. */
    record Shape(SymInt[] dims, boolean scalar) {
        boolean isConcrete() {
            for (SymInt d : dims) if (d.isSymbolic()) return false;
            return true;
        }

        long[] values() {
            long[] v = new long[dims.length];
            for (int i = 0; i < v.length; i++) v[i] = dims[i].intValue();
            return v;
        }

        Tensor toTensor(String what) {
            if (!isConcrete()) {
                throw new OnnxException(what + " holds symbolic sizes " + java.util.Arrays.toString(dims) + " and reaches an op Kiln cannot follow symbolically"
                        + " (Kiln keeps sizes symbolic through Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Mul, Div, Cast, Reshape, Expand and ConstantOfShape)");
            }
            long[] v = values();
            return scalar ? Tensor.of(v, new int[0]) : Tensor.of(v, v.length);
        }
    }

    static DType dtypeOf(Tensor t) { return t.dtype(); }

    @Override
    protected String shortDescription() { return "ONNX graph '" + model.graph().name() + "', opset " + model.opset(); }
}
