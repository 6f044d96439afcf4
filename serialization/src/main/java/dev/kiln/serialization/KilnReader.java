package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.ControlFlowTypes;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphBuilder;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.Guard;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import dev.kiln.graph.Verifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Loads {@code *.kiln.json} artifacts from untrusted sources. Syntax limits come first
 * ({@link StrictJson}), then every field is checked where it is read, each size before its
 * allocation, and finally the {@link Verifier} runs on the assembled graph. Every failure is
 * a {@link KilnFormatException} naming the JSON path of the field.
 */
public final class KilnReader {
    private static final Set<String> ROOT_KEYS = Set.of("format", "version", "opset", "producer", "name", "inputs", "outputs",
            "parameters", "constants", "nodes", "guards", "assumptions", "metadata");
    /** A body is a graph less parameters (captured inputs instead), ledger and metadata. */
    private static final Set<String> BODY_KEYS = Set.of("name", "inputs", "outputs", "constants", "nodes", "guards");
    private static final Set<String> NODE_KEYS_1_2 = Set.of("id", "op", "inputs", "attrs", "type", "source");
    private static final Set<String> NODE_KEYS = Set.of("id", "op", "inputs", "attrs", "type", "types", "source", "bodies");

    private final LoadLimits limits;
    private final Sidecars sidecars;
    private boolean lenient;
    private FormatVersion version;
    private int opset;
    private long totalBytes;
    private long totalNodes;

    /**
     * The values one graph defines, with the positions of its node ids. The root and every body
     * have their own: a body sees only its inputs, constants and nodes, never an enclosing value
     * (the node passes those in as captures), and its node ids are its own.
     */
    private static final class Scope {
        final Scope enclosing;
        final Map<Value, TensorType> types = new HashMap<>();
        final Map<Integer, Integer> position = new HashMap<>();
        final Map<Integer, Integer> outputCount = new HashMap<>();

        Scope(Scope enclosing) { this.enclosing = enclosing; }

        /** Whether an enclosing graph defines {@code v}: only for a clearer message, never to resolve it. */
        boolean enclosingDefines(Value v) {
            for (Scope s = enclosing; s != null; s = s.enclosing) if (s.types.containsKey(v)) return true;
            return false;
        }
    }

    private KilnReader(LoadLimits limits, Sidecars sidecars) {
        this.limits = limits;
        this.sidecars = sidecars;
    }

    public static Graph load(Path file) throws IOException { return read(file, LoadLimits.defaults()).graph(); }

    public static Artifact read(Path file) throws IOException { return read(file, LoadLimits.defaults()); }

    public static Artifact read(Path file, LoadLimits limits) throws IOException {
        String what = file.getFileName().toString();
        long size = Files.size(file);
        if (size > limits.maxDocumentBytes()) throw KilnFormatException.at(what, "file of " + size + " bytes exceeds the limit of " + limits.maxDocumentBytes()
                + LoadLimits.HEAP_HINT);
        return read(Files.readAllBytes(file), file.toAbsolutePath().getParent(), limits);
    }

    /** Loads an in-memory document with embedded weights (sidecar references are refused). */
    public static Artifact fromJson(byte[] doc, LoadLimits limits) {
        try {
            return read(doc, null, limits);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("no file is read without a folder", e);
        }
    }

    /** Loads a document; sidecar files are looked up in {@code folder} (null: none allowed). */
    public static Artifact read(byte[] doc, Path folder, LoadLimits limits) throws IOException {
        Json root = Json.root(StrictJson.parse(doc, limits, "artifact", limits.jsonDepth()));
        try (Sidecars sc = new Sidecars(folder, limits)) {
            return new KilnReader(limits, sc).artifact(root);
        }
    }

    private Artifact artifact(Json root) throws IOException {
        root.object();
        String format = root.string("format");
        if (!format.equals(FormatVersion.FORMAT_NAME)) throw root.get("format").error("'" + TypeCodec.abbreviate(format) + "' is not " + FormatVersion.FORMAT_NAME);
        version = FormatVersion.parse(root.get("version"));
        lenient = version.checkReadable(root.get("version"));
        root.onlyKeys(ROOT_KEYS, lenient);
        opset = root.get("opset").intValue();
        if (opset < 1 || opset > FormatVersion.OPSET) {
            throw root.get("opset").error("opset " + opset + " is not supported by this reader (it knows opset 1 to " + FormatVersion.OPSET + ")");
        }
        String producer = root.string("producer");
        GraphBuilder b = Graph.builder(Names.check(root.get("name")));
        Scope scope = new Scope(null);
        readInputs(root, b, scope);
        readStored(root, "parameters", b, scope, false);
        readStored(root, "constants", b, scope, false);
        readNodes(root, b, scope, 0);
        readOutputs(root, b, scope);
        readGuards(root, b, scope);
        readAssumptions(root, b);
        readMetadata(root, b);
        Graph g = b.build();
        try {
            Verifier.verify(g);
        } catch (GraphException e) {
            throw new KilnFormatException("graph: " + e.getMessage(), e);
        }
        return new Artifact(g, version, opset, producer);
    }

    private static void define(Json where, Scope scope, Value v, TensorType t) {
        if (scope.types.putIfAbsent(v, t) != null) throw where.error(v + " is defined twice");
    }

    private void readInputs(Json graph, GraphBuilder b, Scope scope) {
        for (Json in : graph.get("inputs").array()) {
            in.onlyKeys(Set.of("name", "dtype", "shape"), lenient);
            String name = Names.check(in.get("name"));
            TensorType t = new TensorType(TypeCodec.dtype(in.get("dtype")), TypeCodec.shape(in.get("shape"), limits));
            define(in.get("name"), scope, Value.input(name), t);
            b.addInput(name, t);
        }
    }

    /** Parameters or constants; a body's constants are embedded ({@code embeddedOnly}), a sidecar holds the root's weights only. */
    private void readStored(Json graph, String field, GraphBuilder b, Scope scope, boolean embeddedOnly) throws IOException {
        for (Json p : graph.arrayOrEmpty(field)) {
            p.onlyKeys(Set.of("name", "dtype", "shape", "data"), lenient);
            String name = Names.check(p.get("name"));
            DType dtype = TypeCodec.dtype(p.get("dtype"));
            long[] shape = TypeCodec.staticShape(p.get("shape"), limits);
            long bytes = TensorBytes.checkedByteSize(dtype, shape, limits.maxTensorBytes(), p.child("shape"));
            totalBytes += bytes;
            if (totalBytes > limits.maxTotalBytes()) throw p.get("shape").error("the weights so far need " + totalBytes + " bytes, more than the limit of " + limits.maxTotalBytes()
                    + LoadLimits.HEAP_HINT);
            TensorType t = TensorType.of(dtype, TensorBytes.toIntShape(shape));
            Value v = field.equals("parameters") ? Value.param(name) : Value.constant(name);
            define(p.get("name"), scope, v, t);
            Json data = p.get("data");
            if (embeddedOnly && !data.object().string("encoding").equals("base64")) {
                throw data.get("encoding").error("a body's constants are embedded (encoding base64); sidecar files hold the top-level graph's weights only");
            }
            Strided tensor = TensorData.read(data, dtype, shape, bytes, sidecars, lenient);
            if (field.equals("parameters")) b.addParam(name, t, tensor);
            else b.addConstant(name, t, tensor);
        }
    }

    private void readNodes(Json graph, GraphBuilder b, Scope scope, int depth) throws IOException {
        List<Json> nodes = graph.get("nodes").array();
        // counted before they are read: bodies' nodes add to the root's, so nesting cannot multiply the limit
        totalNodes += nodes.size();
        if (totalNodes > limits.maxNodes()) {
            throw graph.get("nodes").error(depth == 0 ? nodes.size() + " nodes exceed the limit of " + limits.maxNodes()
                    : nodes.size() + " nodes, " + totalNodes + " with the nodes read before them (bodies included), exceed the limit of " + limits.maxNodes());
        }
        // All ids first, so a reference to a later node is reported as a forward reference, not as missing.
        for (int i = 0; i < nodes.size(); i++) {
            Json id = nodes.get(i).object().get("id");
            int v = id.intValue();
            if (v < 1) throw id.error("node id " + v + " must be positive");
            Integer prev = scope.position.putIfAbsent(v, i);
            if (prev != null) throw id.error("node id " + v + " is already used by nodes[" + prev + "]");
        }
        for (Json n : nodes) b.addNode(readNode(n, scope, depth));
    }

    private Node readNode(Json n, Scope scope, int depth) throws IOException {
        boolean controlFlowFormat = version.atLeast(FormatVersion.CONTROL_FLOW);
        // the op first: control flow in a file before 1.3 is reported as such, not as its unknown fields
        Op op = readOp(n.object().get("op"), controlFlowFormat);
        n.onlyKeys(controlFlowFormat ? NODE_KEYS : NODE_KEYS_1_2, lenient);
        int id = n.get("id").intValue();
        List<Json> ins = n.get("inputs").array();
        List<Value> inputs = new ArrayList<>(ins.size());
        TensorType[] inTypes = new TensorType[ins.size()];
        for (int i = 0; i < ins.size(); i++) {
            Json r = ins.get(i);
            Value v = ValueRefs.read(r);
            inTypes[i] = resolve(r, v, scope);
            inputs.add(v);
        }
        Attrs attrs = n.has("attrs") ? AttrCodec.read(n.get("attrs"), op) : checkedDefaults(n, op);
        List<TensorType> types;
        List<Graph> bodies;
        if (op.def().isControlFlow()) {
            types = controlTypes(n, op);
            bodies = readBodies(n, scope, depth);
            checkBodyTypes(n, op, attrs, inTypes, bodies, types);
        } else {
            bodies = List.of();
            types = List.of(ordinaryType(n, op, attrs, inTypes));
        }
        String source = n.stringOrNull("source");
        if (source != null && source.length() > 1024) throw n.get("source").error("source of " + source.length() + " characters exceeds 1024");
        Node node = new Node(id, op, inputs, attrs, types, source, bodies);
        for (int i = 0; i < types.size(); i++) scope.types.put(node.output(i), types.get(i));
        scope.outputCount.put(id, types.size());
        return node;
    }

    /**
     * The op named by the file, which its declared opset must have. Files before 1.3 declared opset
     * 1 whatever ops they held, so only their control flow (which needs 1.3's fields) is refused.
     */
    private Op readOp(Json field, boolean controlFlowFormat) {
        Op op = Op.byName(field.string());
        if (op == null) throw field.error("unknown op '" + TypeCodec.abbreviate(field.string()) + "' (not in opset " + FormatVersion.OPSET + ")");
        if (!controlFlowFormat) {
            if (op.def().isControlFlow()) throw field.error("op " + op.opName() + " needs format " + FormatVersion.CONTROL_FLOW + " or later, but the file is " + version);
        } else if (Opsets.introduced(op) > opset) {
            throw field.error("op " + op.opName() + " is in opset " + Opsets.introduced(op) + ", but the file declares opset " + opset);
        }
        return op;
    }

    /** The type of value {@code v} that field {@code r} refers to, which this graph must define before here. */
    private static TensorType resolve(Json r, Value v, Scope scope) {
        TensorType t = scope.types.get(v);
        if (t != null) return t;
        if (v.kind() == Value.Kind.NODE) {
            Integer count = scope.outputCount.get(v.nodeId());
            if (count != null) throw r.error(v + " is not defined (a dangling reference: node %" + v.nodeId() + " has " + count + " output" + (count == 1 ? "" : "s") + ")");
            if (scope.position.containsKey(v.nodeId())) {
                throw r.error(v + " refers to nodes[" + scope.position.get(v.nodeId()) + "], which is not defined before this node (a forward reference or a cycle)");
            }
        }
        if (scope.enclosingDefines(v)) {
            throw r.error(v + " is not defined (a dangling reference): it belongs to an enclosing graph, and a body reads enclosing values only"
                    + " as inputs the node passes in (captures)");
        }
        throw r.error(v + " is not defined (a dangling reference)");
    }

    /** An ordinary node's one {@code type}, which must equal its op's shape rule applied to its inputs. */
    private TensorType ordinaryType(Json n, Op op, Attrs attrs, TensorType[] inTypes) {
        if (n.has("types")) throw n.get("types").error(op.opName() + " has one output, declared as \"type\" (\"types\" is for control-flow nodes)");
        if (n.has("bodies")) throw n.get("bodies").error(op.opName() + " is not a control-flow op and holds no bodies");
        TensorType declared = TypeCodec.type(n.get("type"), limits);
        TensorType inferred;
        try {
            inferred = op.def().inferType(inTypes, attrs);
        } catch (RuntimeException e) {
            // Shape rules see hostile types here (overflowing or inconsistent dims): any failure is the file's fault.
            throw n.error(op.opName() + " cannot be applied to " + java.util.Arrays.toString(inTypes) + ": " + e.getMessage());
        }
        if (!inferred.equals(declared)) throw n.get("type").error("declared " + declared + " but " + op.opName() + " of these inputs gives " + inferred);
        return declared;
    }

    /** A control-flow node's {@code types}: every output, output 0 first, always an array (even of one). */
    private List<TensorType> controlTypes(Json n, Op op) {
        if (n.has("type")) throw n.get("type").error(op.opName() + " is a control-flow node: its outputs are declared as \"types\", an array");
        List<Json> ts = n.get("types").array();
        if (ts.isEmpty()) throw n.get("types").error("a node has at least one output");
        List<TensorType> declared = new ArrayList<>(ts.size());
        for (Json t : ts) declared.add(TypeCodec.type(t, limits));
        return declared;
    }

    /** A control-flow node's {@code bodies}, each one level deeper than the node. */
    private List<Graph> readBodies(Json n, Scope scope, int depth) throws IOException {
        List<Json> bs = n.get("bodies").array();
        if (!bs.isEmpty() && depth + 1 > limits.maxBodyDepth()) {
            throw n.get("bodies").error("bodies nest " + (depth + 1) + " levels deep, more than the limit of " + limits.maxBodyDepth() + " (LoadLimits.maxBodyDepth)");
        }
        List<Graph> bodies = new ArrayList<>(bs.size());
        for (Json body : bs) bodies.add(readBody(body, scope, depth + 1));
        return bodies;
    }

    /** The declared types must be what the bodies give ({@link ControlFlowTypes}, the one rule). */
    private static void checkBodyTypes(Json n, Op op, Attrs attrs, TensorType[] inTypes, List<Graph> bodies, List<TensorType> declared) {
        List<TensorType> inferred;
        try {
            inferred = ControlFlowTypes.infer(op, attrs, bodies, inTypes);
        } catch (RuntimeException e) {
            // the rule lines the bodies up with hostile inputs and with each other: any failure is the file's fault
            throw n.error(op.opName() + " cannot be applied to " + java.util.Arrays.toString(inTypes) + " with these bodies: " + e.getMessage());
        }
        if (!inferred.equals(declared)) throw n.get("types").error("declared " + declared + " but the bodies of " + op.opName() + " give " + inferred);
    }

    /** A body: a graph of its own, read with a fresh scope; its nodes count against the artifact's node limit. */
    private Graph readBody(Json body, Scope enclosing, int depth) throws IOException {
        body.object();
        if (body.has("parameters")) {
            throw body.get("parameters").error("a body has no parameters: it reads weights as inputs the node passes in (captures)");
        }
        body.onlyKeys(BODY_KEYS, lenient);
        Scope scope = new Scope(enclosing);
        GraphBuilder b = Graph.builder(Names.check(body.get("name")));
        readInputs(body, b, scope);
        readStored(body, "constants", b, scope, true);
        readNodes(body, b, scope, depth);
        readOutputs(body, b, scope);
        readGuards(body, b, scope);
        try {
            return b.build();
        } catch (GraphException e) {
            throw body.error(e.getMessage());
        }
    }

    private static Attrs checkedDefaults(Json n, Op op) {
        try {
            return op.def().checkAttrs(Attrs.EMPTY);
        } catch (IllegalArgumentException e) {
            throw KilnFormatException.at(n.child("attrs"), e.getMessage());
        }
    }

    private void readOutputs(Json graph, GraphBuilder b, Scope scope) {
        List<Json> outs = graph.get("outputs").array();
        if (outs.isEmpty()) throw graph.get("outputs").error("a graph needs at least one output");
        boolean named = version.minor() >= 2 || version.major() > 1;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < outs.size(); i++) {
            Json o = outs.get(i);
            o.onlyKeys(named ? Set.of("ref", "type", "name") : Set.of("ref", "type"), lenient);
            Value v = defined(o.get("ref"), scope);
            TensorType declared = TypeCodec.type(o.get("type"), limits);
            if (!declared.equals(scope.types.get(v))) throw o.get("type").error("declared " + declared + " but " + v + " is " + scope.types.get(v));
            String name;
            if (named) {
                Json n = o.get("name");
                name = n.string();
                if (name.isEmpty() || name.length() > 256 || name.chars().anyMatch(Character::isISOControl)) throw n.error("an output name has 1 to 256 printable characters");
                if (!seen.add(name)) throw n.error("two outputs are named '" + TypeCodec.abbreviate(name) + "'");
            } else {
                // before 1.2, clients knew outputs by the value they return ("3" for node 3):
                // old artifacts keep those names
                String legacy = v.name();
                name = seen.add(legacy) ? legacy : legacy + "_" + i;
                seen.add(name);
            }
            b.output(v, name);
        }
    }

    private static Value defined(Json ref, Scope scope) {
        Value v = ValueRefs.read(ref);
        resolve(ref, v, scope);
        return v;
    }

    private void readGuards(Json graph, GraphBuilder b, Scope scope) {
        for (Json gd : graph.arrayOrEmpty("guards")) {
            gd.onlyKeys(Set.of("kind", "description", "value", "expected", "source"), lenient);
            Value v = gd.has("value") ? defined(gd.get("value"), scope) : null;
            List<Json> xs = gd.get("expected").array();
            double[] expected = new double[xs.size()];
            for (int i = 0; i < expected.length; i++) expected[i] = xs.get(i).doubleValue();
            b.addGuard(new Guard(gd.string("kind"), gd.string("description"), v, expected, gd.stringOrNull("source")));
        }
    }

    private void readAssumptions(Json root, GraphBuilder b) {
        for (Json a : root.arrayOrEmpty("assumptions")) {
            a.onlyKeys(Set.of("kind", "description", "source"), lenient);
            b.addAssumption(new Assumption(a.string("kind"), a.string("description"), a.stringOrNull("source")));
        }
    }

    private void readMetadata(Json root, GraphBuilder b) {
        if (!root.has("metadata")) return;
        Json m = root.get("metadata").object();
        for (var it = m.node().fieldNames(); it.hasNext(); ) {
            String k = it.next();
            b.putMetadata(k, m.get(k).string());
        }
    }
}
