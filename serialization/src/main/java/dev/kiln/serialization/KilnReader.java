package dev.kiln.serialization;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Assumption;
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

    private final LoadLimits limits;
    private final Sidecars sidecars;
    private boolean lenient;
    private long totalBytes;
    private final Map<Value, TensorType> types = new HashMap<>();

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
        Json root = Json.root(StrictJson.parse(doc, limits, "artifact"));
        try (Sidecars sc = new Sidecars(folder, limits)) {
            return new KilnReader(limits, sc).artifact(root);
        }
    }

    private Artifact artifact(Json root) throws IOException {
        root.object();
        String format = root.string("format");
        if (!format.equals(FormatVersion.FORMAT_NAME)) throw root.get("format").error("'" + TypeCodec.abbreviate(format) + "' is not " + FormatVersion.FORMAT_NAME);
        FormatVersion version = FormatVersion.parse(root.get("version"));
        lenient = version.checkReadable(root.get("version"));
        root.onlyKeys(ROOT_KEYS, lenient);
        int opset = root.get("opset").intValue();
        if (opset < 1 || opset > FormatVersion.OPSET) {
            throw root.get("opset").error("opset " + opset + " is not supported by this reader (it knows opset 1 to " + FormatVersion.OPSET + ")");
        }
        String producer = root.string("producer");
        GraphBuilder b = Graph.builder(Names.check(root.get("name")));
        readInputs(root, b);
        readStored(root, "parameters", b);
        readStored(root, "constants", b);
        readNodes(root, b);
        readOutputs(root, b, version);
        readGuards(root, b);
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

    private void define(Json where, Value v, TensorType t) {
        if (types.putIfAbsent(v, t) != null) throw where.error(v + " is defined twice");
    }

    private void readInputs(Json root, GraphBuilder b) {
        for (Json in : root.get("inputs").array()) {
            in.onlyKeys(Set.of("name", "dtype", "shape"), lenient);
            String name = Names.check(in.get("name"));
            TensorType t = new TensorType(TypeCodec.dtype(in.get("dtype")), TypeCodec.shape(in.get("shape"), limits));
            define(in.get("name"), Value.input(name), t);
            b.addInput(name, t);
        }
    }

    private void readStored(Json root, String field, GraphBuilder b) throws IOException {
        for (Json p : root.arrayOrEmpty(field)) {
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
            define(p.get("name"), v, t);
            Strided data = TensorData.read(p.get("data"), dtype, shape, bytes, sidecars, lenient);
            if (field.equals("parameters")) b.addParam(name, t, data);
            else b.addConstant(name, t, data);
        }
    }

    private void readNodes(Json root, GraphBuilder b) {
        List<Json> nodes = root.get("nodes").array();
        if (nodes.size() > limits.maxNodes()) throw root.get("nodes").error(nodes.size() + " nodes exceed the limit of " + limits.maxNodes());
        // All ids first, so a reference to a later node is reported as a forward reference, not as missing.
        Map<Integer, Integer> position = new HashMap<>();
        for (int i = 0; i < nodes.size(); i++) {
            Json id = nodes.get(i).object().get("id");
            int v = id.intValue();
            if (v < 1) throw id.error("node id " + v + " must be positive");
            Integer prev = position.putIfAbsent(v, i);
            if (prev != null) throw id.error("node id " + v + " is already used by nodes[" + prev + "]");
        }
        for (Json n : nodes) b.addNode(readNode(n, position));
    }

    private Node readNode(Json n, Map<Integer, Integer> position) {
        n.onlyKeys(Set.of("id", "op", "inputs", "attrs", "type", "source"), lenient);
        int id = n.get("id").intValue();
        Json opField = n.get("op");
        Op op = Op.byName(opField.string());
        if (op == null) throw opField.error("unknown op '" + TypeCodec.abbreviate(opField.string()) + "' (not in opset " + FormatVersion.OPSET + ")");
        List<Json> ins = n.get("inputs").array();
        List<Value> inputs = new ArrayList<>(ins.size());
        TensorType[] inTypes = new TensorType[ins.size()];
        for (int i = 0; i < ins.size(); i++) {
            Json r = ins.get(i);
            Value v = ValueRefs.read(r);
            inTypes[i] = types.get(v);
            if (inTypes[i] == null) {
                if (v.kind() == Value.Kind.NODE && position.containsKey(v.nodeId())) {
                    throw r.error(v + " refers to nodes[" + position.get(v.nodeId()) + "], which is not defined before this node (a forward reference or a cycle)");
                }
                throw r.error(v + " is not defined (a dangling reference)");
            }
            inputs.add(v);
        }
        Attrs attrs = n.has("attrs") ? AttrCodec.read(n.get("attrs"), op) : checkedDefaults(n, op);
        TensorType declared = TypeCodec.type(n.get("type"), limits);
        TensorType inferred;
        try {
            inferred = op.def().inferType(inTypes, attrs);
        } catch (RuntimeException e) {
            // Shape rules see hostile types here (overflowing or inconsistent dims): any failure is the file's fault.
            throw n.error(op.opName() + " cannot be applied to " + java.util.Arrays.toString(inTypes) + ": " + e.getMessage());
        }
        if (!inferred.equals(declared)) throw n.get("type").error("declared " + declared + " but " + op.opName() + " of these inputs gives " + inferred);
        String source = n.stringOrNull("source");
        if (source != null && source.length() > 1024) throw n.get("source").error("source of " + source.length() + " characters exceeds 1024");
        Node node = new Node(id, op, inputs, attrs, declared, source);
        types.put(node.output(), declared);
        return node;
    }

    private static Attrs checkedDefaults(Json n, Op op) {
        try {
            return op.def().checkAttrs(Attrs.EMPTY);
        } catch (IllegalArgumentException e) {
            throw KilnFormatException.at(n.child("attrs"), e.getMessage());
        }
    }

    private void readOutputs(Json root, GraphBuilder b, FormatVersion version) {
        List<Json> outs = root.get("outputs").array();
        if (outs.isEmpty()) throw root.get("outputs").error("a graph needs at least one output");
        boolean named = version.minor() >= 2 || version.major() > 1;
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (int i = 0; i < outs.size(); i++) {
            Json o = outs.get(i);
            o.onlyKeys(named ? Set.of("ref", "type", "name") : Set.of("ref", "type"), lenient);
            Value v = defined(o.get("ref"));
            TensorType declared = TypeCodec.type(o.get("type"), limits);
            if (!declared.equals(types.get(v))) throw o.get("type").error("declared " + declared + " but " + v + " is " + types.get(v));
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

    private Value defined(Json ref) {
        Value v = ValueRefs.read(ref);
        if (!types.containsKey(v)) throw ref.error(v + " is not defined (a dangling reference)");
        return v;
    }

    private void readGuards(Json root, GraphBuilder b) {
        for (Json gd : root.arrayOrEmpty("guards")) {
            gd.onlyKeys(Set.of("kind", "description", "value", "expected", "source"), lenient);
            Value v = gd.has("value") ? defined(gd.get("value")) : null;
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
