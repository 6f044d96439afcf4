package dev.kiln.serve;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import dev.kiln.graph.GraphInput;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Routes every request, turns every failure into a status and a one-line JSON error, and records
 * the metrics. Nothing thrown here reaches the transport (which would drop the connection
 * without an answer).
 */
final class Api implements NettyTransport.Handler {
    private static final String MODELS = "/v1/models";

    private final ModelRepository models;
    private final Metrics metrics;
    private final ServeOptions options;
    private final BooleanSupplier draining;
    private final OpenInferenceV2 v2;

    Api(ModelRepository models, Metrics metrics, ServeOptions options, BooleanSupplier draining) {
        this.v2 = new OpenInferenceV2(models, draining);
        this.models = models;
        this.metrics = metrics;
        this.options = options;
        this.draining = draining;
    }

    @Override
    public void handle(HttpCall ex) {
        long start = System.nanoTime();
        String endpoint = "other";
        int status = 500;
        try {
            String path = ex.rawPath;
            if (path.equals("/healthz")) {
                endpoint = "healthz";
                allow(ex, "GET");
                boolean up = !draining.getAsBoolean();
                status = up ? 200 : 503;
                Responses.send(ex, status, Responses.JSON, Responses.object(g -> g.writeStringField("status", up ? "ok" : "draining")));
            } else if (path.equals("/metrics")) {
                endpoint = "metrics";
                allow(ex, "GET");
                status = 200;
                Responses.send(ex, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.text().getBytes(StandardCharsets.UTF_8));
            } else if (path.equals("/v2") || path.startsWith("/v2/")) {
                endpoint = "v2";
                endpoint = v2.handle(ex, path);
                status = ex.status();
            } else if (path.equals(MODELS) || path.equals(MODELS + "/")) {
                endpoint = "models";
                allow(ex, "GET");
                status = 200;
                Responses.send(ex, 200, Responses.JSON, index());
            } else if (path.startsWith(MODELS + "/")) {
                String rest = path.substring(MODELS.length() + 1);
                boolean predicting = rest.endsWith(":predict");
                if (predicting) rest = rest.substring(0, rest.length() - ":predict".length());
                String[] parts = rest.split("/", -1);
                if (parts.length != 1 && (parts.length != 3 || !parts[1].equals("versions"))) {
                    throw new ApiException(404, "no endpoint " + TensorJson.abbreviate(path) + " (" + MODELS + "/NAME[/versions/V][:predict])");
                }
                endpoint = predicting ? "predict" : "model";
                allow(ex, predicting ? "POST" : "GET");
                if (predicting) {
                    if (draining.getAsBoolean()) throw overloaded("the server is shutting down");
                    if (AdmissionExecutor.overLimit()) throw overloaded("too many requests in flight (--max-inflight " + options.maxInflight() + "); retry later");
                }
                LoadedModel m = models.acquire(decode(parts[0], "path"), parts.length == 3 ? decode(parts[2], "path") : null);
                try {
                    ex.model = m.name;
                    ex.version = m.versionText();
                    if (predicting) m.predict.handle(ex, query(ex));
                    else Responses.send(ex, 200, Responses.JSON, signature(m));
                    status = 200;
                } finally {
                    m.release();
                }
            } else {
                throw new ApiException(404, "no endpoint " + TensorJson.abbreviate(path) + " (see GET " + MODELS + ")");
            }
        } catch (ApiException e) {
            status = e.status;
            if (status == 503) ex.setResponseHeader("Retry-After", "1");
            trySendError(ex, status, e.getMessage());
        } catch (IOException e) {
            status = 500;
            trySendError(ex, 500, "internal error: " + e);
        } catch (OutOfMemoryError e) {
            // the memory budget should have refused this request; if the heap still ran out, the
            // client may retry once others are done
            status = 503;
            ex.setResponseHeader("Retry-After", "1");
            trySendError(ex, 503, "the server ran out of memory for this request; retry later");
        } catch (RuntimeException | Error e) {
            status = 500;
            trySendError(ex, 500, "internal error: " + e);
        } finally {
            metrics.request(endpoint, status, System.nanoTime() - start);
        }
    }

    private static ApiException overloaded(String message) { return new ApiException(503, message); }

    /** A 405 carries the Allow header (RFC 9110, 15.5.6). */
    private static void allow(HttpCall ex, String allowed) {
        String method = ex.method;
        if (method.equals(allowed)) return;
        ex.setResponseHeader("Allow", allowed);
        throw new ApiException(405, "method " + TensorJson.abbreviate(method) + " is not allowed here (use " + allowed + ")");
    }

    /** Percent-decoding that answers 400 for a malformed escape ({@code %zz}) instead of failing. */
    static String decode(String raw, String where) {
        try {
            return URLDecoder.decode(raw, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new ApiException(400, "malformed percent-encoding in the " + where + ": " + TensorJson.abbreviate(raw));
        }
    }

    private static void trySendError(HttpCall ex, int status, String message) {
        try {
            Responses.error(ex, status, message);
        } catch (RuntimeException e) {
            // the connection is gone: nothing more can be said
        }
    }

    private static Map<String, String> query(HttpCall ex) {
        Map<String, String> q = new HashMap<>();
        String raw = ex.rawQuery;
        if (raw == null) return q;
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq), "query");
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1), "query");
            q.put(k, v);
        }
        return q;
    }

    /** {@code GET /v1/models}: every model and its versions (the highest is the one {@code NAME:predict} runs). */
    private byte[] index() {
        return Responses.object(g -> {
            g.writeArrayFieldStart("models");
            for (String name : models.names()) {
                var versions = models.versions(name);
                if (versions == null) continue; // removed since the listing
                g.writeStartObject();
                g.writeStringField("name", name);
                g.writeArrayFieldStart("versions");
                for (long v : versions.keySet()) g.writeString(Long.toString(v));
                g.writeEndArray();
                g.writeStringField("latest", Long.toString(versions.lastKey()));
                g.writeEndObject();
            }
            g.writeEndArray();
        });
    }

    /** {@code GET /v1/models/NAME[/versions/V]}: the signature with symbolic dims as strings, and the artifact's header. */
    private byte[] signature(LoadedModel m) {
        ServedModel model = m.served;
        return Responses.object(g -> {
            g.writeStringField("name", m.name);
            g.writeStringField("model_version", m.versionText());
            var versions = models.versions(m.name);
            g.writeArrayFieldStart("versions");
            if (versions != null) for (long v : versions.keySet()) g.writeString(Long.toString(v));
            g.writeEndArray();
            g.writeStringField("graph", model.graph.name());
            g.writeStringField("format", "kiln-graph");
            g.writeStringField("version", model.artifact.version().toString());
            g.writeNumberField("opset", model.artifact.opset());
            g.writeStringField("producer", model.artifact.producer());
            g.writeArrayFieldStart("inputs");
            for (GraphInput in : model.graph.inputs()) tensorSpec(g, in.name(), in.type());
            g.writeEndArray();
            g.writeArrayFieldStart("outputs");
            List<String> names = model.outputNames;
            for (int i = 0; i < names.size(); i++) tensorSpec(g, names.get(i), model.graph.typeOf(model.graph.outputs().get(i)));
            g.writeEndArray();
            g.writeNumberField("parameters", model.parameterValues);
            g.writeNumberField("parameter_tensors", model.graph.params().size());
            g.writeObjectFieldStart("batching");
            g.writeBooleanField("enabled", m.batching());
            if (m.batching()) {
                g.writeStringField("dim", model.batchSymbol);
                g.writeNumberField("max_batch", options.maxBatch());
                g.writeNumberField("max_delay_ms", options.maxDelayMs());
            } else {
                g.writeStringField("reason", options.maxBatch() <= 1 ? "--max-batch is 1" : model.unbatchableReason);
            }
            g.writeEndObject();
        });
    }

    private static void tensorSpec(JsonGenerator g, String name, TensorType t) throws IOException {
        g.writeStartObject();
        g.writeStringField("name", name);
        g.writeStringField("dtype", t.dtype().shortName());
        g.writeArrayFieldStart("shape");
        for (Dim d : t.shape()) {
            if (d.isConstant()) g.writeNumber(d.value());
            else g.writeString(d.toString());
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
