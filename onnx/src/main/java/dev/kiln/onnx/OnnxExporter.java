package dev.kiln.onnx;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import dev.kiln.serialization.TensorBytes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a Kiln graph as an ONNX model (opset 17, IR version 8): graph inputs and outputs with
 * their symbolic dims as {@code dim_param}, parameters and constants as initializers, and each
 * Kiln op as the ONNX nodes that compute the same thing. Sizes that are symbolic in Kiln
 * (a reshape to B*T) are computed in the model from the Shape of the input that binds each
 * symbol, so the model runs at any batch and length. Ops with no faithful ONNX equivalent
 * (training-only ops, random draws, sorts whose tie order ONNX leaves open) are errors naming
 * the node.
 */
final class OnnxExporter {
    static final long OPSET = 17, IR_VERSION = 8;

    private final Graph g;
    private final ProtoWriter graph = new ProtoWriter();
    /** The ONNX graph being written: its nodes, initializers and cached constants (a body inlined into it shares them). */
    private final List<ProtoWriter> nodes;
    private final List<ProtoWriter> initializers;
    private final Map<String, String> constants;
    private final Map<Value, String> names = new HashMap<>();
    private final Map<String, String> symbolDims = new HashMap<>(); // symbol -> name of its 1-element i64 tensor
    /** Shared with the bodies' exporters: names are unique across the model's subgraphs. */
    private final int[] counter;

    private OnnxExporter(Graph g) { this(g, new int[1], new ArrayList<>(), new ArrayList<>(), new HashMap<>()); }

    /** The exporter of a control-flow body of {@code parent}'s graph, as a subgraph of its own. */
    private OnnxExporter(Graph body, OnnxExporter parent) { this(body, parent.counter, new ArrayList<>(), new ArrayList<>(), new HashMap<>()); }

    /** The exporter of {@code body} writing into {@code host}'s ONNX graph (inlined). */
    private OnnxExporter(OnnxExporter host, Graph body) { this(body, host.counter, host.nodes, host.initializers, host.constants); }

    private OnnxExporter(Graph g, int[] counter, List<ProtoWriter> nodes, List<ProtoWriter> initializers, Map<String, String> constants) {
        this.g = g;
        this.counter = counter;
        this.nodes = nodes;
        this.initializers = initializers;
        this.constants = constants;
    }

    /** {@code body}'s nodes written into this exporter's ONNX graph, its inputs read from {@code inputs}; its outputs' names. */
    private String[] inline(Graph body, List<String> inputs) {
        OnnxExporter in = new OnnxExporter(this, body);
        for (int i = 0; i < body.inputs().size(); i++) in.names.put(Value.input(body.inputs().get(i).name()), inputs.get(i));
        for (NamedTensor c : body.constants()) in.initializer(Value.constant(c.name()), fresh("const_" + c.name()), c.data(), null);
        in.emitNodes();
        String[] out = new String[body.outputs().size()];
        for (int i = 0; i < out.length; i++) out[i] = in.name(body.outputs().get(i));
        return out;
    }

    /** The ONNX ModelProto bytes of {@code g}; {@code external} receives initializers above its threshold (null: all inline). */
    static byte[] export(Graph g, ExternalData external) {
        if (!g.guards().isEmpty()) {
            throw new OnnxException("graph '" + g.name() + "' has " + g.guards().size() + " guard(s) (" + g.guards().get(0).description()
                    + "); ONNX cannot check them, so the model would run unchecked at sizes the trace never saw: trace strictly, or with those dims static");
        }
        return new OnnxExporter(g).run(external);
    }

    /** Where large initializers go: a file beside the model, with offsets into it. */
    interface ExternalData {
        long thresholdBytes();

        /** Appends the bytes and returns the StringStringEntryProto fields location/offset/length. */
        String[] append(byte[] data);
    }

    private byte[] run(ExternalData external) {
        for (GraphInput in : g.inputs()) {
            String n = in.name();
            names.put(Value.input(n), n);
            graph.message(11, valueInfo(n, in.type()));
        }
        for (NamedTensor p : g.params()) initializer(Value.param(p.name()), p.name(), p.data(), external);
        for (NamedTensor c : g.constants()) initializer(Value.constant(c.name()), "const_" + c.name(), c.data(), external);
        emitNodes();
        for (int i = 0; i < g.outputs().size(); i++) {
            Value v = g.outputs().get(i);
            String out = outputName(i, v);
            node("Identity", List.of(name(v)), out);
            graph.message(12, valueInfo(out, g.typeOf(v)));
        }
        ProtoWriter model = new ProtoWriter();
        model.int64(1, IR_VERSION).string(2, "kiln").string(3, dev.kiln.backend.KilnVersion.VERSION);
        model.bytes(7, graphProto(g.name(), graph));
        model.message(8, new ProtoWriter().string(1, "").int64(2, OPSET));
        for (var e : g.metadata().entrySet()) model.message(14, new ProtoWriter().string(1, e.getKey()).string(2, e.getValue()));
        return model.toByteArray();
    }

    private void emitNodes() {
        findPoolGathers();
        for (Node n : g.nodes()) {
            if (skipped.contains(n.id())) continue;
            try {
                if (n.op().def().isControlFlow()) {
                    String[] outs = emitControl(n);
                    for (int i = 0; i < outs.length; i++) names.put(n.output(i), outs[i]);
                    continue;
                }
                names.put(n.output(), poolGathers.containsKey(n.id()) ? pooledValues(n, poolGathers.get(n.id())) : emit(n));
            } catch (OnnxException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new OnnxException("node " + n.output() + " (" + n.op().opName() + "): " + e.getMessage(), e);
            }
        }
    }

    // ---- control flow: Scan and If with their bodies as subgraphs ------------------------------

    /**
     * A scan as ONNX Scan (its carries are Scan's state variables, its xs the scan inputs, its
     * captures read from the enclosing graph by name), a cond as ONNX If (both branches read all
     * their inputs from the enclosing graph), a while loop as ONNX Loop ({@link #loop}).
     */
    private String[] emitControl(Node n) {
        String[] outs = new String[n.types().size()];
        for (int i = 0; i < outs.length; i++) outs[i] = fresh(n.op().opName());
        switch (n.op()) {
            case SCAN -> {
                dev.kiln.graph.ControlFlowTypes.ScanLayout l = dev.kiln.graph.ControlFlowTypes.ScanLayout.of(n);
                int declared = l.carries() + l.xs(), ys = outs.length - l.carries();
                byte[] body = new OnnxExporter(n.bodies().get(0), this).subgraph(declared, enclosingNames(n, declared, 0));
                long[] inAxes = new long[l.xs()], outAxes = new long[ys], inDirs = new long[l.xs()], outDirs = new long[ys];
                Arrays.fill(inAxes, l.dim());
                Arrays.fill(outAxes, l.dim());
                // a reverse scan reads from the end, and ONNX then prepends its outputs, which
                // leaves step t's output at index t, as Kiln's reverse scan does
                Arrays.fill(inDirs, l.reverse() ? 1 : 0);
                Arrays.fill(outDirs, l.reverse() ? 1 : 0);
                List<String> inputs = new ArrayList<>();
                for (int i = 0; i < declared; i++) inputs.add(name(n.inputs().get(i)));
                List<ProtoWriter> attrs = new ArrayList<>(List.of(attrGraph("body", body), attrInt("num_scan_inputs", l.xs()),
                        attrInts("scan_input_axes", inAxes), attrInts("scan_input_directions", inDirs)));
                if (ys > 0) {
                    attrs.add(attrInts("scan_output_axes", outAxes));
                    attrs.add(attrInts("scan_output_directions", outDirs));
                }
                nodeMulti("Scan", inputs, outs, attrs.toArray(new ProtoWriter[0]));
            }
            case COND -> {
                String pred = cast(name(n.inputs().get(0)), dtypeOf(n.inputs().get(0)), DType.BOOL);
                byte[] then = new OnnxExporter(n.bodies().get(0), this).subgraph(0, enclosingNames(n, 0, 1));
                byte[] otherwise = new OnnxExporter(n.bodies().get(1), this).subgraph(0, enclosingNames(n, 0, 1));
                nodeMulti("If", List.of(pred), outs, attrGraph("then_branch", then), attrGraph("else_branch", otherwise));
            }
            case WHILE_LOOP -> loop(n, outs);
            default -> throw new OnnxException("node %" + n.id() + ": " + n.op().opName() + " is not control flow ONNX knows");
        }
        return outs;
    }

    /**
     * A while loop as ONNX Loop without a trip count: the condition is evaluated once before the
     * loop (Kiln's condition body inlined here) and at the end of each iteration (inlined into the
     * Loop body after Kiln's step body), which is how Loop checks it before every iteration.
     */
    private void loop(Node n, String[] outs) {
        int k = n.attrs().getInt("captures"), c = n.inputs().size() - k;
        List<String> args = new ArrayList<>();
        for (Value v : n.inputs()) args.add(name(v));
        Graph condBody = n.bodies().get(0), stepBody = n.bodies().get(1);
        String first = inline(condBody, args)[0];
        String condInit = cast(first, condBody.typeOf(condBody.outputs().get(0)).dtype(), DType.BOOL);

        OnnxExporter body = new OnnxExporter(stepBody, this);
        ProtoWriter io = new ProtoWriter();
        String iter = fresh("iter"), condIn = fresh("cond_in");
        io.message(11, valueInfo(iter, TensorType.of(DType.INT64)));
        io.message(11, valueInfo(condIn, TensorType.of(DType.BOOL)));
        List<String> stepArgs = new ArrayList<>();
        for (int i = 0; i < c; i++) {
            String nm = fresh("carry");
            io.message(11, valueInfo(nm, stepBody.inputs().get(i).type()));
            stepArgs.add(nm);
        }
        stepArgs.addAll(args.subList(c, args.size())); // captures: the enclosing graph's names
        String[] next = body.inline(stepBody, stepArgs);
        List<String> condArgs = new ArrayList<>(List.of(next).subList(0, c));
        condArgs.addAll(args.subList(c, args.size()));
        String again = body.cast(body.inline(condBody, condArgs)[0], condBody.typeOf(condBody.outputs().get(0)).dtype(), DType.BOOL);
        String condOut = body.node("Identity", List.of(again), fresh("cond_out"));
        io.message(12, valueInfo(condOut, TensorType.of(DType.BOOL)));
        for (int i = 0; i < c; i++) {
            String out = body.node("Identity", List.of(next[i]), fresh("out"));
            io.message(12, valueInfo(out, stepBody.inputs().get(i).type()));
        }
        byte[] all = body.graphProto(stepBody.name() + "_" + counter[0]++, io);
        List<String> inputs = new ArrayList<>(List.of("", condInit));
        inputs.addAll(args.subList(0, c));
        nodeMulti("Loop", inputs, outs, attrGraph("body", all));
    }

    /** Body input i (from {@code declared} on) is node input {@code i + shift} of the enclosing graph: its ONNX name there. */
    private Map<Integer, String> enclosingNames(Node n, int declared, int shift) {
        Map<Integer, String> m = new HashMap<>();
        for (int i = declared; i + shift < n.inputs().size(); i++) m.put(i, name(n.inputs().get(i + shift)));
        return m;
    }

    /**
     * This exporter's graph (a body) as a GraphProto: its first {@code declared} inputs are the
     * subgraph's inputs, the rest are read from the enclosing graph under the names given; its
     * constants are the subgraph's initializers.
     */
    private byte[] subgraph(int declared, Map<Integer, String> enclosing) {
        ProtoWriter io = new ProtoWriter();
        for (int i = 0; i < g.inputs().size(); i++) {
            GraphInput in = g.inputs().get(i);
            if (i < declared) {
                String nm = fresh(in.name());
                names.put(Value.input(in.name()), nm);
                io.message(11, valueInfo(nm, in.type()));
            } else {
                names.put(Value.input(in.name()), enclosing.get(i));
            }
        }
        for (NamedTensor c : g.constants()) initializer(Value.constant(c.name()), fresh("const_" + c.name()), c.data(), null);
        emitNodes();
        for (Value v : g.outputs()) {
            // an Identity per output: a body may return an input or one value twice
            String out = node("Identity", List.of(name(v)), fresh("out"));
            io.message(12, valueInfo(out, g.typeOf(v)));
        }
        return graphProto(g.name() + "_" + counter[0]++, io);
    }

    /**
     * This exporter's nodes and initializers as a GraphProto named {@code name}, followed by
     * {@code io}'s fields (its inputs and outputs): the model's graph and every subgraph.
     */
    private byte[] graphProto(String name, ProtoWriter io) {
        ProtoWriter body = new ProtoWriter();
        for (ProtoWriter nd : nodes) body.message(1, nd);
        body.string(2, name);
        for (ProtoWriter t : initializers) body.message(5, t);
        byte[] b = body.toByteArray(), i = io.toByteArray();
        byte[] all = Arrays.copyOf(b, b.length + i.length);
        System.arraycopy(i, 0, all, b.length, i.length);
        return all;
    }

    private void nodeMulti(String op, List<String> inputs, String[] outputs, ProtoWriter... attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) n.string(1, i);
        for (String o : outputs) n.string(2, o);
        n.string(3, outputs[0] + "_" + op);
        n.string(4, op);
        for (ProtoWriter a : attrs) n.message(5, a);
        nodes.add(n);
    }

    private static ProtoWriter attrGraph(String name, byte[] graph) { return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_GRAPH).bytes(6, graph); }

    /** gather nodes that read max-pooled values (F.maxPool2d's composite) -> their max_pool2d_indices node */
    private final Map<Integer, Node> poolGathers = new HashMap<>();
    /** index nodes (and their flattenings) that only serve such gathers: MaxPool's values replace them */
    private final java.util.Set<Integer> skipped = new java.util.HashSet<>();

    /**
     * Finds Kiln's max pooling, gather(flatten(x, 2), 2, flatten(max_pool2d_indices(x), 2)), so
     * the export is ONNX's MaxPool values rather than its indices and a gather over the input.
     */
    private void findPoolGathers() {
        Map<Value, List<Node>> users = g.users();
        for (Node idx : g.nodes()) {
            if (idx.op() != Op.MAX_POOL2D_INDICES) continue;
            List<Node> flats = users.getOrDefault(idx.output(), List.of());
            boolean all = !flats.isEmpty() && !g.outputs().contains(idx.output());
            List<Node> gathers = new ArrayList<>();
            for (Node f : flats) {
                boolean ok = f.op() == Op.FLATTEN && f.attrs().getInt("start") == 2 && !g.outputs().contains(f.output());
                for (Node u : users.getOrDefault(f.output(), List.of())) {
                    Node src = u.op() == Op.GATHER && u.inputs().get(1).equals(f.output()) ? producer(u.inputs().get(0)) : null;
                    ok &= src != null && src.op() == Op.FLATTEN && src.attrs().getInt("start") == 2 && src.inputs().get(0).equals(idx.inputs().get(0))
                            && u.attrs().getInt("dim") == 2;
                    if (ok) gathers.add(u);
                }
                all &= ok && !users.getOrDefault(f.output(), List.of()).isEmpty();
            }
            if (!all) continue;
            skipped.add(idx.id());
            for (Node f : flats) skipped.add(f.id());
            for (Node u : gathers) poolGathers.put(u.id(), idx);
        }
    }

    private Node producer(Value v) { return v.kind() == Value.Kind.NODE ? g.node(v.nodeId()) : null; }

    /** MaxPool's values, flattened to the gather's [N, C, Ho*Wo]. */
    private String pooledValues(Node gather, Node idx) {
        String y = node("MaxPool", List.of(name(idx.inputs().get(0))), maxPoolAttrs(idx));
        return node("Reshape", List.of(y, ints(0, 0, -1))); // 0 keeps N and C
    }

    /**
     * MaxPool's attributes for a max_pool2d_indices node. ceil_mode is written as explicit end
     * padding with ceil_mode 0: PyTorch (and Kiln) drop a last window that would start in the
     * end padding, and runtimes differ on whether ONNX's ceil_mode does, so the output size is
     * pinned by the pads instead. Padded cells are -inf to MaxPool, so extra padding changes
     * only the size.
     */
    private ProtoWriter[] maxPoolAttrs(Node idx) {
        Attrs a = idx.attrs();
        int[] k = a.getInts("kernel_size"), s = a.getInts("stride"), p = a.getInts("padding"), d = a.getInts("dilation");
        long[] end = {p[0], p[1]};
        if (a.getBool("ceil_mode")) {
            Dim[] in = g.typeOf(idx.inputs().get(0)).shape(), out = g.typeOf(idx.output()).shape();
            for (int i = 0; i < 2; i++) {
                if (!in[2 + i].isConstant() || !out[2 + i].isConstant())
                    throw new OnnxException("node " + idx.output() + " (max_pool2d with ceil_mode) has a symbolic " + (i == 0 ? "height" : "width")
                            + " " + in[2 + i] + "; ONNX runtimes disagree on ceil_mode's last window, so fix the dim (kiln convert --fix-dim) to export it");
                long needed = (out[2 + i].value() - 1) * s[i] + (long) (k[i] - 1) * d[i] + 1 - in[2 + i].value() - p[i];
                end[i] = Math.max(p[i], needed);
            }
        }
        return new ProtoWriter[] {attrInts("kernel_shape", k[0], k[1]), attrInts("strides", s[0], s[1]),
            attrInts("pads", p[0], p[1], end[0], end[1]), attrInts("dilations", d[0], d[1]), attrInt("ceil_mode", 0)};
    }

    /**
     * Attention as ONNX has it before opset 23: softmax(q k^T * scale + mask) v, with MatMul,
     * Softmax and, for causal attention, a lower triangle of ones shaped like the scores (Trilu),
     * so every dim may stay symbolic. With a mask, a row whose scores are all -inf gets 0 (Where
     * over a row's all(scores == -inf)), as Kiln's op and PyTorch 2.5 on give. (Without one, only scores that
     * overflow to -inf could hide a whole row; that case is left to Softmax.)
     */
    private String attention(Node n, Attrs a, DType out) {
        Dim[] q = g.typeOf(n.inputs().get(0)).shape();
        int rank = q.length;
        long[] perm = new long[rank];
        for (int i = 0; i < rank; i++) perm[i] = i;
        perm[rank - 2] = rank - 1;
        perm[rank - 1] = rank - 2;
        Double scale = a.getOptionalFloat("scale");
        if (scale == null) {
            if (!q[rank - 1].isConstant()) {
                throw new OnnxException("node " + n.output() + " (scaled_dot_product_attention) has a symbolic embedding size " + q[rank - 1] + " and no scale; fix the dim to export it");
            }
            scale = 1.0 / Math.sqrt(q[rank - 1].value());
        }
        String scores = node("Mul", List.of(node("MatMul", List.of(in(n, 0, out), node("Transpose", List.of(in(n, 1, out)), attrInts("perm", perm)))), scalar(out, scale)));
        if (a.getBool("causal")) {
            String last2 = node("Slice", List.of(node("Shape", List.of(scores)), ints(-2), ints(Long.MAX_VALUE)));
            String ones = node("ConstantOfShape", List.of(last2), attrTensor("value", DType.BOOL, 1));
            scores = node("Where", List.of(node("Trilu", List.of(ones), attrInt("upper", 0)), scores, scalar(out, Double.NEGATIVE_INFINITY)));
        }
        if (n.inputs().size() > 3) {
            scores = dtypeOf(n.inputs().get(3)) == DType.BOOL ? node("Where", List.of(in(n, 3), scores, scalar(out, Double.NEGATIVE_INFINITY)))
                    : node("Add", List.of(scores, in(n, 3, out)));
        }
        String probs = node("Softmax", List.of(scores), attrInt("axis", -1));
        if (n.inputs().size() > 3) { // a mask can hide a whole row: 0 there, not Softmax's NaN (PyTorch 2.5 on)
            // all(scores == -inf) over the row, as Equal(-inf) cast to 0/1 and its ReduceMin: a NaN
            // score is not -inf, so its row stays NaN without relying on how ReduceMax treats NaN
            // (and Kiln's own ONNX import reads every op of it back)
            String negInf = node("Cast", List.of(node("Equal", List.of(scores, scalar(out, Double.NEGATIVE_INFINITY)))), attrInt("to", dataType(DType.FLOAT32)));
            String dead = node("Equal", List.of(node("ReduceMin", List.of(negInf), attrInts("axes", -1), attrInt("keepdims", 1)), scalar(DType.FLOAT32, 1)));
            probs = node("Where", List.of(dead, scalar(out, 0), probs));
        }
        return node("MatMul", List.of(probs, in(n, 2, out)));
    }

    /**
     * layer_norm as ONNX's LayerNormalization (opset 17) over the last dims: its Scale input is
     * required, so a layer_norm without weight gets ones of the normalized shape (read from x's
     * shape at run time, so symbolic dims stay symbolic).
     */
    private String layerNorm(Node n, Attrs a, DType out) {
        int dims = a.getInt("dims");
        String scale = n.inputs().size() > 1 ? in(n, 1, out)
                : node("ConstantOfShape", List.of(node("Slice", List.of(node("Shape", List.of(in(n, 0, out))), ints(-dims), ints(Long.MAX_VALUE)))),
                        attrTensor("value", out, 1));
        List<String> ins = n.inputs().size() > 2 ? List.of(in(n, 0, out), scale, in(n, 2, out)) : List.of(in(n, 0, out), scale);
        return node("LayerNormalization", ins, attrInt("axis", -dims), attrFloat("epsilon", (float) a.getFloat("eps")));
    }

    /** The graph's output name (Kiln's names are unique and printable, as ONNX's must be). */
    private String outputName(int i, Value v) { return g.outputNames().get(i); }

    // ---- writing pieces ---------------------------------------------------------------------

    static int dataType(DType t) {
        return switch (t) {
            case FLOAT32 -> OnnxProto.FLOAT;
            case FLOAT64 -> OnnxProto.DOUBLE;
            case INT64 -> OnnxProto.INT64;
            case BOOL -> OnnxProto.BOOL;
        };
    }

    private static ProtoWriter valueInfo(String name, TensorType t) {
        ProtoWriter shape = new ProtoWriter();
        for (Dim d : t.shape()) {
            ProtoWriter dim = new ProtoWriter();
            if (d.isConstant()) dim.int64(1, d.value());
            else dim.string(2, d.toString());
            shape.message(1, dim);
        }
        ProtoWriter tensor = new ProtoWriter().int64(1, dataType(t.dtype())).message(2, shape);
        return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensor));
    }

    private void initializer(Value v, String name, Strided data, ExternalData external) {
        byte[] bytes = TensorBytes.toBytes(data);
        ProtoWriter t = new ProtoWriter();
        long[] dims = Arrays.stream(data.shape()).asLongStream().toArray();
        if (dims.length > 0) t.packedInt64s(1, dims);
        t.int64(2, dataType(data.dtype())).string(8, name);
        if (external != null && bytes.length >= external.thresholdBytes()) {
            String[] loc = external.append(bytes);
            t.message(13, new ProtoWriter().string(1, "location").string(2, loc[0]));
            t.message(13, new ProtoWriter().string(1, "offset").string(2, loc[1]));
            t.message(13, new ProtoWriter().string(1, "length").string(2, loc[2]));
            t.int64(14, 1);
        } else {
            t.bytes(9, bytes);
        }
        initializers.add(t);
        names.put(v, name);
    }

    private String fresh(String hint) { return hint + "_" + (counter[0]++); }

    /** Appends a node; returns its (first) output's name. */
    private String node(String op, List<String> inputs, String output, ProtoWriter... attrs) {
        ProtoWriter n = new ProtoWriter();
        for (String i : inputs) n.string(1, i);
        n.string(2, output);
        n.string(3, output + "_" + op);
        n.string(4, op);
        for (ProtoWriter a : attrs) n.message(5, a);
        nodes.add(n);
        return output;
    }

    private String node(String op, List<String> inputs, ProtoWriter... attrs) { return node(op, inputs, fresh(op.toLowerCase()), attrs); }

    private static ProtoWriter attrInt(String name, long v) { return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_INT).int64(3, v); }

    private static ProtoWriter attrFloat(String name, float v) { return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_FLOAT).float32(2, v); }

    private static ProtoWriter attrString(String name, String v) { return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_STRING).string(4, v); }

    private static ProtoWriter attrInts(String name, long... v) {
        ProtoWriter a = new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_INTS);
        for (long x : v) a.int64(8, x);
        return a;
    }

    private static ProtoWriter attrTensor(String name, DType t, double value) {
        Strided s = Strided.allocate(t, new int[] {1});
        dev.kiln.backend.cpu.Copy.fill(s, value);
        ProtoWriter tensor = new ProtoWriter().packedInt64s(1, new long[] {1}).int64(2, dataType(t)).bytes(9, TensorBytes.toBytes(s));
        return new ProtoWriter().string(1, name).int64(20, OnnxProto.ATTR_TENSOR).message(5, tensor);
    }

    /** A constant int64 vector (or scalar when {@code scalar}) as an initializer, shared by equal values. */
    private String ints(boolean scalar, long... v) {
        String key = (scalar ? "s" : "v") + Arrays.toString(v);
        return constants.computeIfAbsent(key, k -> {
            String name = fresh("const_i64");
            ProtoWriter t = new ProtoWriter();
            if (!scalar) t.packedInt64s(1, new long[] {v.length});
            byte[] b = new byte[8 * v.length];
            java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer().put(v);
            t.int64(2, OnnxProto.INT64).string(8, name).bytes(9, b);
            initializers.add(t);
            return name;
        });
    }

    private String ints(long... v) { return ints(false, v); }

    private String scalar(DType t, double v) {
        String key = t + ":" + Double.doubleToRawLongBits(v);
        return constants.computeIfAbsent(key, k -> {
            String name = fresh("const_" + t.shortName());
            Strided s = Strided.allocate(t, new int[0]);
            dev.kiln.backend.cpu.Copy.fill(s, v);
            initializers.add(new ProtoWriter().int64(2, dataType(t)).string(8, name).bytes(9, TensorBytes.toBytes(s)));
            return name;
        });
    }

    private String name(Value v) {
        String n = names.get(v);
        if (n == null) throw new IllegalStateException("value " + v + " has no ONNX name yet");
        return n;
    }

    private String in(Node n, int i) { return name(n.inputs().get(i)); }

    private DType dtypeOf(Value v) { return g.typeOf(v).dtype(); }

    private String cast(String x, DType from, DType to) {
        return from == to ? x : node("Cast", List.of(x), attrInt("to", dataType(to)));
    }

    /** Input i cast to t. */
    private String in(Node n, int i, DType t) { return cast(in(n, i), dtypeOf(n.inputs().get(i)), t); }

    // ---- symbolic sizes ---------------------------------------------------------------------

    /** A 1-element i64 tensor holding dim d at run time (a constant when d is). */
    private String dim(Dim d) {
        if (d.isConstant()) return ints(d.value());
        String acc = null;
        for (String s : d.symbols()) {
            String v = symbolDims.computeIfAbsent(s, this::bindSymbol);
            acc = acc == null ? v : node("Mul", List.of(acc, v));
        }
        return d.coefficient() == 1 ? acc : node("Mul", List.of(acc, ints(d.coefficient())));
    }

    /**
     * Shape(input)[axis] of the first graph input with symbol s alone at axis; failing that,
     * Shape(input)[axis] / c of one with c * s there (an input of [2*N, ...] binds N).
     */
    private String bindSymbol(String s) {
        for (boolean plain : new boolean[] {true, false}) {
            for (GraphInput in : g.inputs()) {
                Dim[] shape = in.type().shape();
                for (int a = 0; a < shape.length; a++) {
                    if (!shape[a].symbols().equals(List.of(s)) || plain && shape[a].coefficient() != 1) continue;
                    String sh = node("Shape", List.of(name(Value.input(in.name()))));
                    String at = node("Gather", List.of(sh, ints(a)), attrInt("axis", 0));
                    return plain ? at : node("Div", List.of(at, ints(shape[a].coefficient())));
                }
            }
        }
        throw new OnnxException("symbol " + s + " is not a dim (or a multiple of one) of any graph input, so the model cannot compute it");
    }

    /** A shape vector: each entry a constant, a symbolic dim, or -1 (null). */
    private String shape(Dim[] dims) {
        boolean constant = true;
        for (Dim d : dims) constant &= d == null || d.isConstant();
        if (constant) {
            long[] v = new long[dims.length];
            for (int i = 0; i < v.length; i++) v[i] = dims[i] == null ? -1 : dims[i].value();
            return ints(v);
        }
        List<String> parts = new ArrayList<>();
        for (Dim d : dims) parts.add(d == null ? ints(-1) : dim(d));
        return node("Concat", parts, attrInt("axis", 0));
    }

    // ---- ops ----------------------------------------------------------------------------------

    private String emit(Node n) {
        Op op = n.op();
        Attrs a = n.attrs();
        DType out = n.type().dtype();
        switch (op) {
            case NEG: return node("Neg", List.of(in(n, 0, out)));
            case ABS: return node("Abs", List.of(in(n, 0, out)));
            case SIGN: return node("Sign", List.of(in(n, 0, out)));
            case EXP: return node("Exp", List.of(in(n, 0, out)));
            case LOG: return node("Log", List.of(in(n, 0, out)));
            case LOG1P: return node("Log", List.of(node("Add", List.of(in(n, 0, out), scalar(out, 1)))));
            case EXPM1: return node("Sub", List.of(node("Exp", List.of(in(n, 0, out))), scalar(out, 1)));
            case SQRT: return node("Sqrt", List.of(in(n, 0, out)));
            case RSQRT: return node("Reciprocal", List.of(node("Sqrt", List.of(in(n, 0, out)))));
            case RECIPROCAL: return node("Reciprocal", List.of(in(n, 0, out)));
            case SIN: return node("Sin", List.of(in(n, 0, out)));
            case COS: return node("Cos", List.of(in(n, 0, out)));
            case TANH: return node("Tanh", List.of(in(n, 0, out)));
            case SIGMOID: return node("Sigmoid", List.of(in(n, 0, out)));
            case RELU: return node("Relu", List.of(in(n, 0, out)));
            case ERF: return node("Erf", List.of(in(n, 0, out)));
            case FLOOR: return node("Floor", List.of(in(n, 0, out)));
            case CEIL: return node("Ceil", List.of(in(n, 0, out)));
            case ROUND: return node("Round", List.of(in(n, 0, out)));
            case SILU: {
                String x = in(n, 0, out);
                return node("Mul", List.of(x, node("Sigmoid", List.of(x))));
            }
            case GELU: {
                String x = in(n, 0, out);
                if (a.getString("approximate").equals("tanh")) {
                    // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
                    String x3 = node("Mul", List.of(node("Mul", List.of(x, x)), x));
                    String inner = node("Mul", List.of(node("Add", List.of(x, node("Mul", List.of(x3, scalar(out, 0.044715))))), scalar(out, Math.sqrt(2 / Math.PI))));
                    return node("Mul", List.of(node("Mul", List.of(x, scalar(out, 0.5))), node("Add", List.of(node("Tanh", List.of(inner)), scalar(out, 1)))));
                }
                String cdf = node("Add", List.of(node("Erf", List.of(node("Mul", List.of(x, scalar(out, 1 / Math.sqrt(2)))))), scalar(out, 1)));
                return node("Mul", List.of(node("Mul", List.of(x, scalar(out, 0.5))), cdf));
            }
            case CLAMP: {
                List<String> ins = new ArrayList<>(List.of(in(n, 0, out)));
                Double lo = a.getOptionalFloat("min"), hi = a.getOptionalFloat("max");
                ins.add(lo == null ? "" : scalar(out, lo));
                if (hi != null) ins.add(scalar(out, hi));
                return node("Clip", ins);
            }
            case LOGICAL_NOT: return node("Not", List.of(in(n, 0, DType.BOOL)));
            case CAST: return in(n, 0, out);
            case CLONE: return node("Identity", List.of(in(n, 0)));
            case FULL_LIKE: {
                String shape = node("Shape", List.of(in(n, 0)));
                return node("ConstantOfShape", List.of(shape), attrTensor("value", out, a.getFloat("value")));
            }
            case ADD: return binary(n, out == DType.BOOL ? "Or" : "Add", out);
            case SUB: return binary(n, "Sub", out);
            case MUL: return binary(n, out == DType.BOOL ? "And" : "Mul", out);
            case DIV: return binary(n, "Div", out);
            case POW: return binary(n, "Pow", out);
            case MAXIMUM: return binary(n, out == DType.BOOL ? "Or" : "Max", out); // ONNX's Max/Min take no bool
            case MINIMUM: return binary(n, out == DType.BOOL ? "And" : "Min", out);
            case EQ: return compare(n, "Equal");
            case NE: return node("Not", List.of(compare(n, "Equal")));
            case LT: return compare(n, "Less");
            case LE: return compare(n, "LessOrEqual");
            case GT: return compare(n, "Greater");
            case GE: return compare(n, "GreaterOrEqual");
            case LOGICAL_AND: return node("And", List.of(in(n, 0, DType.BOOL), in(n, 1, DType.BOOL)));
            case LOGICAL_OR: return node("Or", List.of(in(n, 0, DType.BOOL), in(n, 1, DType.BOOL)));
            case LOGICAL_XOR: return node("Xor", List.of(in(n, 0, DType.BOOL), in(n, 1, DType.BOOL)));
            case WHERE: return node("Where", List.of(in(n, 0, DType.BOOL), in(n, 1, out), in(n, 2, out)));
            case SUM: return reduce(n, "ReduceSum", out, true);
            case PROD: return reduce(n, "ReduceProd", out, false);
            case AMAX: return cast(reduce(n, "ReduceMax", out, false), out == DType.BOOL ? DType.INT64 : out, out);
            case AMIN: return cast(reduce(n, "ReduceMin", out, false), out == DType.BOOL ? DType.INT64 : out, out);
            case ALL: return cast(reduceOn(n, "ReduceMin", in(n, 0, DType.BOOL), DType.BOOL), DType.INT64, DType.BOOL);
            case ANY: return cast(reduceOn(n, "ReduceMax", in(n, 0, DType.BOOL), DType.BOOL), DType.INT64, DType.BOOL);
            case ARGMAX: return argReduce(n, "ArgMax");
            case ARGMIN: return argReduce(n, "ArgMin");
            case CUMSUM: return node("CumSum", List.of(in(n, 0, out), ints(true, a.getInt("dim"))));
            case SOFTMAX: return node("Softmax", List.of(in(n, 0, out)), attrInt("axis", a.getInt("dim")));
            case LOG_SOFTMAX: return node("LogSoftmax", List.of(in(n, 0, out)), attrInt("axis", a.getInt("dim")));
            case MATMUL: return node("MatMul", List.of(in(n, 0, out), in(n, 1, out)));
            case ADDMM: return node("Gemm", List.of(in(n, 1, out), in(n, 2, out), in(n, 0, out)));
            // allowzero: a 0 in a Kiln shape is an empty dim, never ONNX's default "copy the input's"
            case RESHAPE: return node("Reshape", List.of(in(n, 0), shape(a.getShape("shape"))), attrInt("allowzero", 1));
            case UNFLATTEN:
            case FLATTEN: return node("Reshape", List.of(in(n, 0), shape(n.type().shape())), attrInt("allowzero", 1));
            case PERMUTE: {
                int rank = g.typeOf(n.inputs().get(0)).rank();
                return node("Transpose", List.of(in(n, 0)), attrInts("perm", Arrays.stream(a.getInts("dims")).mapToLong(d -> d < 0 ? d + rank : d).toArray()));
            }
            case EXPAND: {
                Dim[] target = a.getShape("shape");
                Dim[] outShape = n.type().shape();
                Dim[] s = new Dim[target.length];
                for (int i = 0; i < s.length; i++) s[i] = target[i] == null ? outShape[i] : target[i];
                return node("Expand", List.of(in(n, 0), shape(s)));
            }
            case EXPAND_AS: return node("Expand", List.of(in(n, 0), node("Shape", List.of(in(n, 1)))));
            case SLICE: {
                int d = a.getInt("dim");
                return node("Slice", List.of(in(n, 0), ints(a.getInt("start")), ints(a.getInt("end") == Integer.MAX_VALUE ? Long.MAX_VALUE : a.getInt("end")),
                        ints(d), ints(a.getInt("step"))));
            }
            case SELECT: return node("Gather", List.of(in(n, 0), ints(true, a.getInt("index"))), attrInt("axis", a.getInt("dim")));
            case SQUEEZE: {
                int[] dims = a.getInts("dims");
                Dim[] inShape = g.typeOf(n.inputs().get(0)).shape();
                List<Long> axes = new ArrayList<>();
                for (int d = 0; d < inShape.length; d++) {
                    boolean listed = dims.length == 0;
                    for (int x : dims) listed |= (x < 0 ? x + inShape.length : x) == d;
                    if (listed && inShape[d].isConstant() && inShape[d].value() == 1) axes.add((long) d);
                }
                if (axes.isEmpty()) return node("Identity", List.of(in(n, 0)));
                return node("Squeeze", List.of(in(n, 0), ints(axes.stream().mapToLong(Long::longValue).toArray())));
            }
            case UNSQUEEZE: return node("Unsqueeze", List.of(in(n, 0), ints(a.getInt("dim"))));
            case CAT: {
                List<String> ins = new ArrayList<>();
                for (int i = 0; i < n.inputs().size(); i++) ins.add(in(n, i, out));
                return node("Concat", ins, attrInt("axis", a.getInt("dim")));
            }
            case PAD: return pad(n, out);
            case INDEX_SELECT: return node("Gather", List.of(in(n, 0), in(n, 1)), attrInt("axis", a.getInt("dim")));
            case GATHER: return node("GatherElements", List.of(in(n, 0), in(n, 1)), attrInt("axis", a.getInt("dim")));
            case SCATTER_ADD: return node("ScatterElements", List.of(in(n, 0, out), in(n, 1), in(n, 2, out)), attrInt("axis", a.getInt("dim")), attrString("reduction", "add"));
            case MAX_POOL2D: return node("MaxPool", List.of(in(n, 0)), maxPoolAttrs(n));
            case SCALED_DOT_PRODUCT_ATTENTION: return attention(n, a, out);
            case LAYER_NORM: return layerNorm(n, a, out);
            case CONV2D_WEIGHT_GRAD:
            case SCALED_DOT_PRODUCT_ATTENTION_GRAD:
            case SCALED_DOT_PRODUCT_ATTENTION_BACKWARD:
            case GELU_BACKWARD:
            case LAYER_NORM_GRAD:
            case SOFTMAX_BACKWARD:
                throw new OnnxException("node " + n.output() + " (" + op.opName() + ") is a training op; export an inference graph (traced with no grad)");
            case TRIL: return node("Trilu", List.of(in(n, 0), ints(true, a.getInt("diagonal"))), attrInt("upper", 0));
            case TRIU: return node("Trilu", List.of(in(n, 0), ints(true, a.getInt("diagonal"))), attrInt("upper", 1));
            case FLIP: {
                int[] dims = a.getInts("dims");
                long[] starts = new long[dims.length], ends = new long[dims.length], axes = new long[dims.length], steps = new long[dims.length];
                for (int i = 0; i < dims.length; i++) {
                    starts[i] = -1;
                    ends[i] = Long.MIN_VALUE;
                    axes[i] = dims[i];
                    steps[i] = -1;
                }
                return node("Slice", List.of(in(n, 0), ints(starts), ints(ends), ints(axes), ints(steps)));
            }
            case REPEAT: {
                int[] reps = a.getInts("repeats");
                int rank = g.typeOf(n.inputs().get(0)).rank();
                String x = in(n, 0);
                if (reps.length > rank) {
                    Dim[] padded = new Dim[reps.length];
                    Dim[] s = g.typeOf(n.inputs().get(0)).shape();
                    for (int i = 0; i < padded.length; i++) padded[i] = i < reps.length - rank ? Dim.of(1) : s[i - (reps.length - rank)];
                    x = node("Reshape", List.of(x, shape(padded)));
                }
                return node("Tile", List.of(x, ints(Arrays.stream(reps).asLongStream().toArray())));
            }
            case ONE_HOT: {
                String values = ints(0, 1);
                return node("OneHot", List.of(in(n, 0), ints(true, a.getInt("num_classes")), values), attrInt("axis", -1));
            }
            case SIZE: {
                int[] dims = a.getInts("dims");
                String shape = node("Shape", List.of(in(n, 0)));
                if (dims.length > 0) shape = node("Gather", List.of(shape, ints(Arrays.stream(dims).asLongStream().toArray())), attrInt("axis", 0));
                return node("ReduceProd", List.of(shape), attrInt("keepdims", 0));
            }
            case CONV2D: {
                int[] p = a.getInts("padding"), s = a.getInts("stride"), d = a.getInts("dilation");
                List<String> ins = new ArrayList<>(List.of(in(n, 0, out), in(n, 1, out)));
                if (n.inputs().size() > 2) ins.add(in(n, 2, out));
                return node("Conv", ins, attrInts("pads", p[0], p[1], p[0], p[1]), attrInts("strides", s[0], s[1]), attrInts("dilations", d[0], d[1]),
                        attrInt("group", a.getInt("groups")));
            }
            case CONV_TRANSPOSE2D: {
                int[] p = a.getInts("padding"), s = a.getInts("stride"), d = a.getInts("dilation"), op2 = a.getInts("output_padding");
                List<String> ins = new ArrayList<>(List.of(in(n, 0, out), in(n, 1, out)));
                if (n.inputs().size() > 2) ins.add(in(n, 2, out));
                return node("ConvTranspose", ins, attrInts("pads", p[0], p[1], p[0], p[1]), attrInts("strides", s[0], s[1]), attrInts("dilations", d[0], d[1]),
                        attrInts("output_padding", op2[0], op2[1]), attrInt("group", a.getInt("groups")));
            }
            case MAX_POOL2D_INDICES: {
                Dim[] inShape = g.typeOf(n.inputs().get(0)).shape();
                ProtoWriter[] attrs = maxPoolAttrs(n);
                ProtoWriter pool = new ProtoWriter();
                String values = fresh("maxpool_values"), indices = fresh("maxpool_indices");
                pool.string(1, in(n, 0)).string(2, values).string(2, indices).string(3, indices + "_MaxPool").string(4, "MaxPool");
                for (ProtoWriter at : attrs) pool.message(5, at);
                nodes.add(pool);
                // ONNX's index counts over the whole NCHW tensor, Kiln's within one H*W plane
                String plane = inShape[2].isConstant() && inShape[3].isConstant() ? ints(true, inShape[2].value() * inShape[3].value())
                        : node("Squeeze", List.of(node("Mul", List.of(dim(inShape[2]), dim(inShape[3]))), ints(0)));
                return node("Mod", List.of(indices, plane));
            }
            case RAND_LIKE:
                throw new OnnxException("node " + n.output() + " (rand_like: train-mode dropout?) has no deterministic ONNX equivalent; trace the model in eval mode");
            case ARGSORT:
            case TOPK_INDICES:
                throw new OnnxException("node " + n.output() + " (" + op.opName() + "): ONNX's TopK leaves the order of ties open, Kiln's is stable; not exported");
            default:
                throw new OnnxException("node " + n.output() + ": op " + op.opName() + " has no ONNX export yet");
        }
    }

    private String binary(Node n, String op, DType out) {
        DType t = out == DType.BOOL ? DType.BOOL : out;
        return node(op, List.of(in(n, 0, t), in(n, 1, t)));
    }

    private String compare(Node n, String op) {
        DType t = DType.promote(dtypeOf(n.inputs().get(0)), dtypeOf(n.inputs().get(1)));
        if (t == DType.BOOL && !op.equals("Equal")) t = DType.INT64; // ONNX orders numbers only
        return node(op, List.of(in(n, 0, t), in(n, 1, t)));
    }

    private long[] reduceAxes(Node n) {
        int[] dims = n.attrs().getInts("dims");
        int rank = g.typeOf(n.inputs().get(0)).rank();
        if (dims.length == 0) {
            long[] all = new long[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        return Arrays.stream(dims).asLongStream().toArray();
    }

    private String reduce(Node n, String op, DType out, boolean axesAsInput) {
        return reduceOn(n, op, in(n, 0, out), out);
    }

    /** ReduceSum takes axes as an input from opset 13; the others as an attribute until opset 18. */
    private String reduceOn(Node n, String op, String x, DType t) {
        long[] axes = reduceAxes(n);
        long keep = n.attrs().getBool("keepdim") ? 1 : 0;
        if (axes.length == 0) return node("Identity", List.of(x));
        if (t == DType.BOOL) x = cast(x, DType.BOOL, DType.INT64); // ReduceMin/Max do not take bool
        if (op.equals("ReduceSum")) return node(op, List.of(x, ints(axes)), attrInt("keepdims", keep));
        return node(op, List.of(x), attrInts("axes", axes), attrInt("keepdims", keep));
    }

    private String argReduce(Node n, String op) {
        Integer dim = n.attrs().getOptionalInt("dim");
        String x = in(n, 0);
        if (dtypeOf(n.inputs().get(0)) == DType.BOOL) x = cast(x, DType.BOOL, DType.INT64);
        if (dim == null) {
            x = node("Reshape", List.of(x, ints(-1)));
            return node(op, List.of(x), attrInt("axis", 0), attrInt("keepdims", 0));
        }
        return node(op, List.of(x), attrInt("axis", dim), attrInt("keepdims", n.attrs().getBool("keepdim") ? 1 : 0));
    }

    private String pad(Node n, DType out) {
        int[] p = n.attrs().getInts("pads");
        int rank = g.typeOf(n.inputs().get(0)).rank();
        long[] onnx = new long[2 * rank];
        for (int i = 0; i < p.length / 2; i++) {
            int d = rank - 1 - i; // Kiln lists the last dim first, (lo, hi) pairs
            onnx[d] = p[2 * i];
            onnx[rank + d] = p[2 * i + 1];
        }
        String mode = n.attrs().getString("mode");
        String m = mode.equals("replicate") ? "edge" : mode;
        List<String> ins = new ArrayList<>(List.of(in(n, 0, out), ints(onnx)));
        if (m.equals("constant")) ins.add(scalar(out, n.attrs().getFloat("value")));
        return node("Pad", ins, attrString("mode", m));
    }

}
