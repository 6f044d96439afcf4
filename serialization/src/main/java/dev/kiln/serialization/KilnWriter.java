package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.Assumption;
import dev.kiln.graph.Graph;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.Guard;
import dev.kiln.graph.NamedTensor;
import dev.kiln.graph.Node;
import dev.kiln.graph.Value;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a graph as a {@code *.kiln.json} artifact (docs/format.md), weights embedded or in a sidecar. */
public final class KilnWriter {
    public static final String PRODUCER = "kiln " + dev.kiln.backend.KilnVersion.VERSION;

    /** Where the weights go: inside the JSON (small single-file artifacts) or a sidecar safetensors file. */
    public enum Weights { EMBEDDED, SIDECAR }

    private KilnWriter() {}

    public static void save(Graph g, Path file) throws IOException { save(g, file, Weights.EMBEDDED); }

    /**
     * Saves {@code g}. With {@link Weights#SIDECAR} the weights go to {@code NAME.safetensors}
     * next to {@code NAME.kiln.json}; the artifact refers to it by file name only.
     */
    public static void save(Graph g, Path file, Weights weights) throws IOException {
        Path folder = file.toAbsolutePath().getParent();
        String sidecar = weights == Weights.SIDECAR ? sidecarName(file) : null;
        Map<String, Strided> sideTensors = new LinkedHashMap<>();
        try (OutputStream out = Files.newOutputStream(file)) {
            write(g, out, sidecar, sideTensors);
        }
        if (sidecar != null) Safetensors.write(folder.resolve(sidecar), sideTensors, Map.of("format", FormatVersion.FORMAT_NAME, "graph", g.name()));
    }

    /** The artifact with embedded weights, as bytes. */
    public static byte[] toJson(Graph g) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            write(g, out, null, new LinkedHashMap<>());
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory cannot fail", e);
        }
        return out.toByteArray();
    }

    static String sidecarName(Path file) {
        String n = file.getFileName().toString();
        if (n.endsWith(".kiln.json")) n = n.substring(0, n.length() - ".kiln.json".length());
        else if (n.endsWith(".json")) n = n.substring(0, n.length() - ".json".length());
        return n + ".safetensors";
    }

    private static void write(Graph g, OutputStream out, String sidecar, Map<String, Strided> sideTensors) throws IOException {
        try (JsonGenerator j = new JsonFactory().createGenerator(out, JsonEncoding.UTF8)) {
            j.useDefaultPrettyPrinter();
            j.writeStartObject();
            j.writeStringField("format", FormatVersion.FORMAT_NAME);
            j.writeStringField("version", FormatVersion.CURRENT.toString());
            // the smallest opset with every op used: a graph of opset-1 ops stays readable by readers before 1.3
            j.writeNumberField("opset", Opsets.required(g));
            j.writeStringField("producer", PRODUCER);
            j.writeStringField("name", g.name());
            writeInputs(j, g);
            writeOutputs(j, g);
            writeTensors(j, "parameters", g.params(), "", sidecar, sideTensors);
            writeTensors(j, "constants", g.constants(), "const:", sidecar, sideTensors);
            writeNodes(j, g);
            writeGuards(j, g);
            j.writeArrayFieldStart("assumptions");
            for (Assumption a : g.assumptions()) {
                j.writeStartObject();
                j.writeStringField("kind", a.kind());
                j.writeStringField("description", a.description());
                if (a.source() != null) j.writeStringField("source", a.source());
                j.writeEndObject();
            }
            j.writeEndArray();
            j.writeObjectFieldStart("metadata");
            for (var e : g.metadata().entrySet()) j.writeStringField(e.getKey(), e.getValue());
            j.writeEndObject();
            j.writeEndObject();
        }
    }

    private static void writeInputs(JsonGenerator j, Graph g) throws IOException {
        j.writeArrayFieldStart("inputs");
        for (GraphInput in : g.inputs()) {
            j.writeStartObject();
            j.writeStringField("name", in.name());
            j.writeStringField("dtype", in.type().dtype().shortName());
            TypeCodec.writeShape(j, "shape", in.type().shape());
            j.writeEndObject();
        }
        j.writeEndArray();
    }

    private static void writeOutputs(JsonGenerator j, Graph g) throws IOException {
        j.writeArrayFieldStart("outputs");
        for (int i = 0; i < g.outputs().size(); i++) {
            Value v = g.outputs().get(i);
            j.writeStartObject();
            j.writeStringField("name", g.outputNames().get(i));
            j.writeStringField("ref", ValueRefs.write(v));
            TypeCodec.writeType(j, "type", g.typeOf(v));
            j.writeEndObject();
        }
        j.writeEndArray();
    }

    private static void writeNodes(JsonGenerator j, Graph g) throws IOException {
        j.writeArrayFieldStart("nodes");
        for (Node n : g.nodes()) writeNode(j, n);
        j.writeEndArray();
    }

    private static void writeGuards(JsonGenerator j, Graph g) throws IOException {
        j.writeArrayFieldStart("guards");
        for (Guard gd : g.guards()) writeGuard(j, gd);
        j.writeEndArray();
    }

    /** Sidecar keys: parameters by name (what Python tools expect), constants as const:NAME. */
    private static void writeTensors(JsonGenerator j, String field, List<NamedTensor> ts, String keyPrefix, String sidecar,
                                     Map<String, Strided> sideTensors) throws IOException {
        j.writeArrayFieldStart(field);
        for (NamedTensor t : ts) {
            if (t.data() == null) throw new IllegalArgumentException(field + " " + t.name() + " has no data; the format stores weights with the graph");
            if (!t.type().isStatic()) throw new IllegalArgumentException(field + " " + t.name() + " has symbolic type " + t.type() + "; stored tensors need static shapes");
            j.writeStartObject();
            j.writeStringField("name", t.name());
            j.writeStringField("dtype", t.type().dtype().shortName());
            TypeCodec.writeShape(j, "shape", t.type().shape());
            byte[] bytes = TensorBytes.toBytes(t.data());
            if (sidecar == null) {
                TensorData.writeEmbedded(j, bytes);
            } else {
                String key = keyPrefix + t.name();
                if (sideTensors.put(key, t.data()) != null) throw new IllegalArgumentException("two stored tensors map to the safetensors key '" + key + "'");
                TensorData.writeSidecar(j, bytes, sidecar, key);
            }
            j.writeEndObject();
        }
        j.writeEndArray();
    }

    /** An ordinary node has one {@code type}; a control-flow node has {@code types} (all outputs, even one) and its {@code bodies}, last. */
    private static void writeNode(JsonGenerator j, Node n) throws IOException {
        j.writeStartObject();
        j.writeNumberField("id", n.id());
        j.writeStringField("op", n.op().opName());
        j.writeArrayFieldStart("inputs");
        for (Value v : n.inputs()) j.writeString(ValueRefs.write(v));
        j.writeEndArray();
        if (!n.attrs().names().isEmpty()) AttrCodec.write(j, n.attrs());
        boolean control = n.op().def().isControlFlow();
        if (control) {
            j.writeArrayFieldStart("types");
            for (TensorType t : n.types()) TypeCodec.writeType(j, null, t);
            j.writeEndArray();
        } else {
            TypeCodec.writeType(j, "type", n.type());
        }
        if (n.source() != null) j.writeStringField("source", n.source());
        if (control) {
            j.writeArrayFieldStart("bodies");
            for (Graph body : n.bodies()) writeBody(j, n, body);
            j.writeEndArray();
        }
        j.writeEndObject();
    }

    /**
     * A body is written like the root less what a body cannot have: no parameters (it reads weights
     * as captured inputs), no ledger or metadata (the tracer keeps a body's ledger in the enclosing
     * graph's). Its constants are always embedded: they are small scalars in practice, and a body
     * then needs no sidecar key of its own.
     */
    private static void writeBody(JsonGenerator j, Node n, Graph body) throws IOException {
        String what = n.describe() + ": body '" + body.name() + "'";
        if (!body.params().isEmpty()) throw new IllegalArgumentException(what + " has parameters; a body reads weights as inputs the node passes in (captures)");
        if (!body.assumptions().isEmpty() || !body.metadata().isEmpty()) {
            throw new IllegalArgumentException(what + " has assumptions or metadata, which the format keeps only at the top level (the tracer moves a body's ledger there)");
        }
        j.writeStartObject();
        j.writeStringField("name", body.name());
        writeInputs(j, body);
        writeOutputs(j, body);
        writeTensors(j, "constants", body.constants(), "", null, Map.of());
        writeNodes(j, body);
        writeGuards(j, body);
        j.writeEndObject();
    }

    private static void writeGuard(JsonGenerator j, Guard gd) throws IOException {
        j.writeStartObject();
        j.writeStringField("kind", gd.kind());
        j.writeStringField("description", gd.description());
        if (gd.value() != null) j.writeStringField("value", ValueRefs.write(gd.value()));
        j.writeArrayFieldStart("expected");
        for (double d : gd.expected()) AttrCodec.writeDouble(j, d);
        j.writeEndArray();
        if (gd.source() != null) j.writeStringField("source", gd.source());
        j.writeEndObject();
    }
}
