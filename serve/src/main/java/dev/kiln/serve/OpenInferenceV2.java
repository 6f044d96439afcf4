package dev.kiln.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.Copy;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.GraphInput;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * The KServe Open Inference Protocol v2 (REST) beside Kiln's own API: health, server and model
 * metadata, readiness, and {@code POST /v2/models/NAME[/versions/1]/infer} with named, typed,
 * shaped tensors ({@code {"inputs": [{"name", "shape", "datatype", "data"}]}}, data flat or
 * nested, in C order). Datatypes BOOL, INT64, FP32, FP64 (Kiln's); the binary extension is not
 * implemented. Without {@code /versions/V} a request gets the model's highest version.
 */
final class OpenInferenceV2 {
    private static final JsonFactory JSON = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(400).build()).build();

    private final ModelRepository models;
    private final BooleanSupplier draining;

    OpenInferenceV2(ModelRepository models, BooleanSupplier draining) {
        this.models = models;
        this.draining = draining;
    }

    /** Answers one /v2 request; returns the metrics endpoint name. */
    String handle(HttpCall ex, String path) throws IOException {
        String[] p = path.substring(1).split("/", -1); // "v2", ...
        if (p.length == 1) {
            get(ex);
            Responses.send(ex, 200, Responses.JSON, Responses.object(g -> {
                g.writeStringField("name", "kiln");
                g.writeStringField("version", dev.kiln.backend.KilnVersion.VERSION);
                g.writeArrayFieldStart("extensions");
                g.writeEndArray();
            }));
            return "v2_server";
        }
        if (p.length == 3 && p[1].equals("health")) {
            get(ex);
            boolean up = !draining.getAsBoolean() && !models.names().isEmpty();
            if (p[2].equals("live")) {
                Responses.send(ex, 200, Responses.JSON, Responses.object(g -> g.writeBooleanField("live", true)));
            } else if (p[2].equals("ready")) {
                Responses.send(ex, up ? 200 : 503, Responses.JSON, Responses.object(g -> g.writeBooleanField("ready", up)));
            } else {
                throw new ApiException(404, "no endpoint /v2/health/" + TensorJson.abbreviate(p[2]) + " (live or ready)");
            }
            return "v2_health";
        }
        if (p.length >= 3 && p[1].equals("models")) {
            int at = 3;
            String version = null;
            if (p.length >= 5 && p[3].equals("versions")) {
                version = Api.decode(p[4], "path");
                at = 5;
            }
            String route = p.length == at ? "" : p.length == at + 1 ? p[at] : null;
            if (route != null && (route.isEmpty() || route.equals("ready") || route.equals("infer"))) {
                if (route.equals("infer")) {
                    if (!ex.method.equals("POST")) {
                        ex.setResponseHeader("Allow", "POST");
                        throw new ApiException(405, "method " + TensorJson.abbreviate(ex.method) + " is not allowed here (use POST)");
                    }
                    if (draining.getAsBoolean()) throw new ApiException(503, "the server is shutting down");
                    if (AdmissionExecutor.overLimit()) throw new ApiException(503, "too many requests in flight; retry later");
                } else {
                    get(ex);
                }
                LoadedModel m = models.acquire(Api.decode(p[2], "path"), version);
                try {
                    ex.model = m.name;
                    ex.version = m.versionText();
                    switch (route) {
                        case "" -> {
                            Responses.send(ex, 200, Responses.JSON, metadata(m));
                            return "v2_model";
                        }
                        case "ready" -> {
                            boolean up = !draining.getAsBoolean();
                            Responses.send(ex, up ? 200 : 503, Responses.JSON, Responses.object(g -> {
                                g.writeStringField("name", m.name);
                                g.writeBooleanField("ready", up);
                            }));
                            return "v2_ready";
                        }
                        default -> {
                            infer(ex, m);
                            return "v2_infer";
                        }
                    }
                } finally {
                    m.release();
                }
            }
        }
        throw new ApiException(404, "no endpoint " + TensorJson.abbreviate(path) + " (the v2 API: /v2, /v2/health/{live,ready}, /v2/models/NAME"
                + "[/versions/V][/ready|/infer])");
    }

    private static void get(HttpCall ex) {
        if (ex.method.equals("GET")) return;
        ex.setResponseHeader("Allow", "GET");
        throw new ApiException(405, "method " + TensorJson.abbreviate(ex.method) + " is not allowed here (use GET)");
    }

    static String datatype(DType t) {
        return switch (t) {
            case FLOAT32 -> "FP32";
            case FLOAT64 -> "FP64";
            case INT64 -> "INT64";
            case BOOL -> "BOOL";
        };
    }

    private static DType dtype(String datatype, String path) {
        return switch (datatype) {
            case "FP32" -> DType.FLOAT32;
            case "FP64" -> DType.FLOAT64;
            case "INT64" -> DType.INT64;
            case "BOOL" -> DType.BOOL;
            default -> throw new ApiException(400, path + ": datatype '" + TensorJson.abbreviate(datatype) + "' is not supported (BOOL, INT64, FP32, FP64)");
        };
    }

    private byte[] metadata(LoadedModel m) {
        ServedModel model = m.served;
        var versions = models.versions(m.name);
        return Responses.object(g -> {
            g.writeStringField("name", m.name);
            g.writeArrayFieldStart("versions");
            if (versions != null) for (long v : versions.keySet()) g.writeString(Long.toString(v));
            g.writeEndArray();
            g.writeStringField("platform", "kiln");
            g.writeArrayFieldStart("inputs");
            for (GraphInput in : model.graph.inputs()) spec(g, in.name(), in.type());
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            for (int i = 0; i < model.outputNames.size(); i++) spec(g, model.outputNames.get(i), model.graph.typeOf(model.graph.outputs().get(i)));
            g.writeEndArray();
        });
    }

    /** A tensor's metadata: symbolic dims are -1, as the protocol has it. */
    private static void spec(JsonGenerator g, String name, TensorType t) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("datatype", datatype(t.dtype()));
        g.writeArrayFieldStart("shape");
        for (Dim d : t.shape()) g.writeNumber(d.isConstant() ? d.value() : -1);
        g.writeEndArray();
        g.writeEndObject();
    }

    private void infer(HttpCall ex, LoadedModel m) throws IOException {
        ServedModel model = m.served;
        String type = ex.header("Content-Type");
        if (type != null && !type.split(";", 2)[0].trim().equalsIgnoreCase(Responses.JSON)) {
            throw new ApiException(415, "unsupported Content-Type '" + TensorJson.abbreviate(type) + "' (the v2 API takes application/json; the binary extension is not implemented)");
        }
        Request r = parse(ex.body, model);
        List<Strided> outputs = m.predict.infer(ex, r.inputs);
        List<String> wanted = r.outputs.isEmpty() ? model.outputNames : r.outputs;
        for (String w : wanted) {
            if (!model.outputNames.contains(w)) throw new ApiException(400, "the model has no output named '" + TensorJson.abbreviate(w) + "' (its outputs: " + String.join(", ", model.outputNames) + ")");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(bytes)) {
            g.writeStartObject();
            g.writeStringField("model_name", m.name);
            g.writeStringField("model_version", m.versionText());
            if (r.id != null) g.writeStringField("id", r.id);
            g.writeArrayFieldStart("outputs");
            for (String w : wanted) {
                Strided t = Copy.contiguousOf(outputs.get(model.outputNames.indexOf(w)), outputs.get(model.outputNames.indexOf(w)).dtype());
                g.writeStartObject();
                g.writeStringField("name", w);
                g.writeStringField("datatype", datatype(t.dtype()));
                g.writeArrayFieldStart("shape");
                for (int d : t.shape()) g.writeNumber(d);
                g.writeEndArray();
                g.writeArrayFieldStart("data");
                Storage s = t.storage();
                int n = t.numel(), o = t.offset();
                for (int i = 0; i < n; i++) {
                    switch (t.dtype()) {
                        case FLOAT32 -> g.writeNumber(s.f32()[o + i]);
                        case FLOAT64 -> g.writeNumber(s.f64()[o + i]);
                        case INT64 -> g.writeNumber(s.i64()[o + i]);
                        case BOOL -> g.writeBoolean(s.bool()[o + i]);
                    }
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        bytes.write('\n');
        Responses.send(ex, 200, Responses.JSON, bytes.toByteArray());
    }

    private record Request(String id, Map<String, Strided> inputs, List<String> outputs) {}

    /**
     * Streams the request: each input's datatype must come before its data (as the clients send
     * it), so numbers are read once, in their own type, with the shape checked against the count.
     */
    private Request parse(byte[] body, ServedModel model) {
        try (JsonParser p = JSON.createParser(body)) {
            need(p.nextToken() == JsonToken.START_OBJECT, "the body must be a JSON object {\"inputs\": [...]}");
            String id = null;
            Map<String, Strided> inputs = null;
            List<String> outputs = new ArrayList<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken v = p.nextToken();
                switch (key) {
                    case "id" -> {
                        need(v == JsonToken.VALUE_STRING, "id must be a string");
                        id = TensorJson.abbreviate(p.getText());
                    }
                    case "parameters" -> p.skipChildren();
                    case "inputs" -> {
                        need(v == JsonToken.START_ARRAY, "inputs must be an array of tensors");
                        inputs = new LinkedHashMap<>();
                        int i = 0;
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            String path = "inputs[" + i++ + "]";
                            var t = tensor(p, path, model);
                            if (inputs.put(t.name, t.data) != null) throw new ApiException(400, path + ": input '" + t.name + "' is given twice");
                        }
                    }
                    case "outputs" -> {
                        need(v == JsonToken.START_ARRAY, "outputs must be an array of {\"name\": ...}");
                        while (p.nextToken() == JsonToken.START_OBJECT) {
                            String name = null;
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String k = p.currentName();
                                p.nextToken();
                                if (k.equals("name")) name = p.getText();
                                else p.skipChildren();
                            }
                            need(name != null, "each requested output needs a name");
                            outputs.add(name);
                        }
                    }
                    default -> throw new ApiException(400, "unknown field '" + TensorJson.abbreviate(key) + "' (a v2 request has id, parameters, inputs, outputs)");
                }
            }
            need(inputs != null, "the body has no \"inputs\" field");
            need(p.nextToken() == null, "trailing content after the JSON object");
            return new Request(id, inputs, outputs);
        } catch (JsonProcessingException e) {
            throw new ApiException(400, "malformed JSON: " + e.getOriginalMessage().lines().findFirst().orElse(""));
        } catch (IOException e) {
            throw new ApiException(400, "malformed JSON: " + e.getMessage());
        }
    }

    private record Named(String name, Strided data) {}

    private Named tensor(JsonParser p, String path, ServedModel model) throws IOException {
        String name = null;
        DType dtype = null;
        int[] shape = null;
        TensorJson.Flat data = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String key = p.currentName();
            JsonToken v = p.nextToken();
            switch (key) {
                case "name" -> {
                    need(v == JsonToken.VALUE_STRING, path + ".name must be a string");
                    name = p.getText();
                    DType want = model.inputDtypes.get(name);
                    if (want == null) throw new ApiException(400, path + ": the model has no input named '" + TensorJson.abbreviate(name) + "' (its inputs: " + String.join(", ", model.inputDtypes.keySet()) + ")");
                }
                case "datatype" -> {
                    need(v == JsonToken.VALUE_STRING, path + ".datatype must be a string");
                    dtype = dtype(p.getText(), path);
                }
                case "shape" -> {
                    need(v == JsonToken.START_ARRAY, path + ".shape must be an array of sizes");
                    List<Integer> s = new ArrayList<>();
                    while (p.nextToken() == JsonToken.VALUE_NUMBER_INT) {
                        long d = p.getLongValue();
                        need(d >= 0 && d <= Integer.MAX_VALUE, path + ".shape has size " + d);
                        need(s.size() < 32, path + ".shape has more than 32 dims");
                        s.add((int) d);
                    }
                    need(p.currentToken() == JsonToken.END_ARRAY, path + ".shape must hold integers");
                    shape = s.stream().mapToInt(Integer::intValue).toArray();
                }
                case "data" -> {
                    need(dtype != null, path + ": \"datatype\" must come before \"data\"");
                    data = new TensorJson.Flat(dtype);
                    flatten(p, data, path + ".data", 0);
                }
                case "parameters" -> p.skipChildren();
                default -> throw new ApiException(400, path + ": unknown field '" + TensorJson.abbreviate(key) + "' (name, shape, datatype, data, parameters)");
            }
        }
        need(name != null && shape != null && dtype != null && data != null, path + " needs name, shape, datatype and data");
        return new Named(name, data.toTensor(shape, path));
    }

    /** Adds the scalars of a (possibly nested) array in C order. */
    private static void flatten(JsonParser p, TensorJson.Flat into, String path, int depth) throws IOException {
        if (p.currentToken() != JsonToken.START_ARRAY) {
            into.add(p, path);
            return;
        }
        need(depth < 33, path + " nests deeper than 32");
        while (p.nextToken() != JsonToken.END_ARRAY) {
            need(p.currentToken() != null, path + ": the array does not end");
            flatten(p, into, path, depth + 1);
        }
    }

    private static void need(boolean ok, String message) {
        if (!ok) throw new ApiException(400, message);
    }
}
