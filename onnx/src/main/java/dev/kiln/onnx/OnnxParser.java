package dev.kiln.onnx;

import dev.kiln.onnx.OnnxProto.Attribute;
import dev.kiln.onnx.OnnxProto.DimInfo;
import dev.kiln.onnx.OnnxProto.Graph;
import dev.kiln.onnx.OnnxProto.Model;
import dev.kiln.onnx.OnnxProto.Node;
import dev.kiln.onnx.OnnxProto.Tensor;
import dev.kiln.onnx.OnnxProto.ValueInfo;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses an ONNX ModelProto from its wire format. The file is untrusted: lengths are checked
 * against what remains before any slice, strings against {@link LoadLimits#maxStringLength},
 * node counts against {@link LoadLimits#maxNodes}, subgraph nesting against
 * {@link LoadLimits#maxNestingDepth}, and repeated numbers are bounded by the bytes that hold
 * them. Tensor data stays a view into the file until the importer checks its size.
 */
final class OnnxParser {
    private final LoadLimits limits;
    private int nodes;
    /**
     * Messages parsed (nodes, initializers, attributes, value infos, dims): each costs a record
     * and its lists, far more than its few bytes in the file, so their number is bounded by the
     * file's size rather than trusted.
     */
    private long messages;
    private final long messageBudget;

    private OnnxParser(LoadLimits limits, long fileBytes) {
        this.limits = limits;
        this.messageBudget = 4096 + fileBytes / 8;
    }

    static Model parse(ByteBuffer file, String what, LoadLimits limits) {
        if (!file.hasRemaining()) throw KilnFormatException.at(what, "the file is empty, not an ONNX model");
        return new OnnxParser(limits, file.remaining()).model(new ProtoReader(file, what));
    }

    private void count(ProtoReader r) {
        if (++messages > messageBudget) throw r.error("more than " + messageBudget + " messages for a file of this size (empty or tiny messages in bulk)");
    }

    private Model model(ProtoReader r) {
        long ir = -1;
        Map<String, Long> opsets = new LinkedHashMap<>();
        String producer = "", producerVersion = "";
        Graph graph = null;
        Map<String, String> metadata = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> ir = r.int64("ir_version");
                case 2 -> producer = r.string("producer_name", limits.maxStringLength());
                case 3 -> producerVersion = r.string("producer_version", limits.maxStringLength());
                case 7 -> {
                    if (graph != null) throw r.error("a second graph");
                    graph = graph(r.message("graph", r.where + ".graph"), 0);
                }
                case 8 -> {
                    ProtoReader o = r.message("opset_import", r.where + ".opset_import");
                    String domain = "";
                    long version = -1;
                    while (o.next()) {
                        if (o.field() == 1) domain = o.string("domain", 256);
                        else if (o.field() == 2) version = o.int64("version");
                        else o.skip();
                    }
                    opsets.put(domain, version);
                }
                case 14 -> {
                    ProtoReader e = r.message("metadata_props", r.where + ".metadata_props");
                    String k = "", v = "";
                    while (e.next()) {
                        if (e.field() == 1) k = e.string("key", limits.maxStringLength());
                        else if (e.field() == 2) v = e.string("value", limits.maxStringLength());
                        else e.skip();
                    }
                    metadata.put(k, v);
                }
                case 25 -> throw r.error("the model defines local functions (ModelProto.functions), which Kiln does not import");
                default -> r.skip();
            }
        }
        if (ir < 0) throw KilnFormatException.at(r.where, "no ir_version: not an ONNX ModelProto");
        if (graph == null) throw KilnFormatException.at(r.where, "no graph");
        return new Model(ir, Collections.unmodifiableMap(opsets), producer, producerVersion, graph, Collections.unmodifiableMap(metadata));
    }

    private Graph graph(ProtoReader r, int depth) {
        if (depth > limits.maxNestingDepth()) throw r.error("subgraphs nest deeper than " + limits.maxNestingDepth() + " levels");
        String name = "";
        List<Node> ns = new ArrayList<>();
        List<Tensor> inits = new ArrayList<>();
        List<ValueInfo> ins = new ArrayList<>(), outs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> {
                    count(r);
                    if (++nodes > limits.maxNodes()) throw r.error("more than " + limits.maxNodes() + " nodes (LoadLimits.maxNodes)");
                    ns.add(node(r.message("node", r.where + ".node[" + ns.size() + "]"), depth));
                }
                case 2 -> name = r.string("name", limits.maxStringLength());
                case 5 -> {
                    count(r);
                    inits.add(tensor(r.message("initializer", r.where + ".initializer[" + inits.size() + "]")));
                }
                case 11 -> {
                    count(r);
                    ins.add(valueInfo(r.message("input", r.where + ".input[" + ins.size() + "]")));
                }
                case 12 -> {
                    count(r);
                    outs.add(valueInfo(r.message("output", r.where + ".output[" + outs.size() + "]")));
                }
                case 15 -> throw r.error("sparse initializers are not supported");
                default -> r.skip();
            }
        }
        return new Graph(name, List.copyOf(ns), List.copyOf(inits), List.copyOf(ins), List.copyOf(outs));
    }

    private Node node(ProtoReader r, int depth) {
        List<String> in = new ArrayList<>(), out = new ArrayList<>();
        String name = "", op = "", domain = "";
        Map<String, Attribute> attrs = new LinkedHashMap<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> in.add(r.string("input", limits.maxStringLength()));
                case 2 -> out.add(r.string("output", limits.maxStringLength()));
                case 3 -> name = r.string("name", limits.maxStringLength());
                case 4 -> op = r.string("op_type", 256);
                case 5 -> {
                    count(r);
                    Attribute a = attribute(r.message("attribute", r.where + ".attribute[" + attrs.size() + "]"), depth);
                    if (attrs.put(a.name(), a) != null) throw r.error("attribute '" + a.name() + "' appears twice");
                }
                case 7 -> domain = r.string("domain", 256);
                default -> r.skip();
            }
        }
        if (op.isEmpty()) throw KilnFormatException.at(r.where, "a node without op_type");
        return new Node(name, op, domain, List.copyOf(in), List.copyOf(out), Collections.unmodifiableMap(attrs));
    }

    private Attribute attribute(ProtoReader r, int depth) {
        String name = "", s = null;
        int type = 0;
        float f = 0;
        long i = 0;
        Tensor t = null;
        Graph g = null;
        FloatList floats = new FloatList();
        LongList ints = new LongList();
        List<String> strings = new ArrayList<>();
        List<Graph> graphs = new ArrayList<>();
        while (r.next()) {
            switch (r.field()) {
                case 1 -> name = r.string("name", 256);
                case 20 -> type = r.int32("type");
                case 2 -> f = r.float32("f");
                case 3 -> i = r.int64("i");
                case 4 -> s = r.string("s", limits.maxStringLength());
                case 5 -> t = tensor(r.message("t", r.where + ".t"));
                case 6 -> g = graph(r.message("g", r.where + ".g"), depth + 1);
                case 7 -> r.float32s("floats", floats::add);
                case 8 -> r.int64s("ints", ints::add);
                case 9 -> strings.add(r.string("strings", limits.maxStringLength()));
                case 11 -> graphs.add(graph(r.message("graphs", r.where + ".graphs"), depth + 1));
                case 21 -> throw r.error("attribute references (ref_attr_name) belong in functions, which Kiln does not import");
                default -> r.skip();
            }
        }
        return new Attribute(name, type, f, i, s, t, g, floats.toArray(), ints.toArray(), List.copyOf(strings), List.copyOf(graphs));
    }

    private Tensor tensor(ProtoReader r) {
        String name = "", location = null;
        int type = 0;
        LongList dims = new LongList(), int64s = new LongList(), int32s = new LongList();
        FloatList floats = new FloatList();
        DoubleList doubles = new DoubleList();
        ByteBuffer raw = null;
        long offset = 0, length = -1;
        boolean external = false;
        while (r.next()) {
            switch (r.field()) {
                case 1 -> r.int64s("dims", v -> {
                    if (dims.size() >= limits.maxRank()) throw r.error("a tensor with more than " + limits.maxRank() + " dims");
                    dims.add(v);
                });
                case 2 -> type = r.int32("data_type");
                case 3 -> throw r.error("segmented tensors are not supported");
                case 4 -> r.float32s("float_data", floats::add);
                case 5 -> r.int64s("int32_data", int32s::add);
                case 6 -> throw r.error("string tensors are not supported (Kiln has no string dtype)");
                case 7 -> r.int64s("int64_data", int64s::add);
                case 8 -> name = r.string("name", limits.maxStringLength());
                case 9 -> raw = r.bytes("raw_data");
                case 10 -> r.float64s("double_data", doubles::add);
                case 13 -> {
                    ProtoReader e = r.message("external_data", r.where + ".external_data");
                    String k = "", v = "";
                    while (e.next()) {
                        if (e.field() == 1) k = e.string("key", 256);
                        else if (e.field() == 2) v = e.string("value", 4096);
                        else e.skip();
                    }
                    switch (k) {
                        case "location" -> location = v;
                        case "offset" -> offset = parseLong(r, "external_data offset", v);
                        case "length" -> length = parseLong(r, "external_data length", v);
                        default -> { } // checksum and others: not needed to read the bytes
                    }
                }
                case 14 -> external = r.int32("data_location") == 1;
                default -> r.skip();
            }
        }
        if (external && location == null) throw KilnFormatException.at(r.where, "data_location is EXTERNAL but external_data has no location");
        if (!external && location != null) throw KilnFormatException.at(r.where, "external_data without data_location EXTERNAL");
        double[] ds = doubles.toArray();
        long[] i32 = int32s.toArray();
        int[] is = new int[i32.length];
        for (int k = 0; k < is.length; k++) is[k] = (int) i32[k];
        return new Tensor(name, type, dims.toArray(), raw, floats.toArray(), int64s.toArray(), is, ds, location, offset, length);
    }

    private static long parseLong(ProtoReader r, String what, String v) {
        try {
            long n = Long.parseLong(v);
            if (n < 0) throw r.error(what + " is negative: " + v);
            return n;
        } catch (NumberFormatException e) {
            throw r.error(what + " '" + v + "' is not a number");
        }
    }

    private ValueInfo valueInfo(ProtoReader r) {
        String name = "";
        int elem = 0;
        List<DimInfo> dims = new ArrayList<>();
        boolean hasShape = false;
        while (r.next()) {
            if (r.field() == 1) {
                name = r.string("name", limits.maxStringLength());
            } else if (r.field() == 2) {
                ProtoReader type = r.message("type", r.where + ".type");
                while (type.next()) {
                    if (type.field() != 1) {
                        if (type.wire() == ProtoReader.LEN && (type.field() == 4 || type.field() == 5 || type.field() == 8 || type.field() == 9))
                            throw type.error("value '" + name + "' is a sequence, map or optional; Kiln imports tensors only");
                        type.skip();
                        continue;
                    }
                    ProtoReader tt = type.message("tensor_type", type.where + ".tensor_type");
                    while (tt.next()) {
                        if (tt.field() == 1) {
                            elem = tt.int32("elem_type");
                        } else if (tt.field() == 2) {
                            hasShape = true;
                            ProtoReader shape = tt.message("shape", tt.where + ".shape");
                            while (shape.next()) {
                                if (shape.field() != 1) {
                                    shape.skip();
                                    continue;
                                }
                                if (dims.size() >= limits.maxRank()) throw shape.error("more than " + limits.maxRank() + " dims");
                                ProtoReader d = shape.message("dim", shape.where + ".dim[" + dims.size() + "]");
                                long value = -1;
                                String param = null;
                                while (d.next()) {
                                    if (d.field() == 1) value = d.int64("dim_value");
                                    else if (d.field() == 2) param = d.string("dim_param", 256);
                                    else d.skip();
                                }
                                dims.add(new DimInfo(value, param));
                            }
                        } else {
                            tt.skip();
                        }
                    }
                }
            } else {
                r.skip();
            }
        }
        return new ValueInfo(name, elem, List.copyOf(dims), hasShape);
    }

    /** A growable long[] (repeated fields are bounded by the bytes that encode them). */
    static final class LongList {
        private long[] a = new long[0]; // allocated on the first value: most fields are absent
        private int n;

        int size() { return n; }

        void add(long v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, Math.max(8, n * 2));
            a[n++] = v;
        }

        long[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }

    static final class DoubleList {
        private double[] a = new double[0];
        private int n;

        void add(double v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, Math.max(8, n * 2));
            a[n++] = v;
        }

        double[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }

    static final class FloatList {
        private float[] a = new float[0];
        private int n;

        void add(float v) {
            if (n == a.length) a = java.util.Arrays.copyOf(a, Math.max(8, n * 2));
            a[n++] = v;
        }

        float[] toArray() { return java.util.Arrays.copyOf(a, n); }
    }
}
