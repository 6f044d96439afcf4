package dev.kiln.serve;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import dev.kiln.graph.GraphException;
import dev.kiln.graph.GraphInput;
import dev.kiln.graph.SymbolBindings;
import dev.kiln.serialization.KilnFormatException;
import dev.kiln.serialization.LoadLimits;
import dev.kiln.serialization.Npy;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** {@code POST /v1/models/NAME:predict}: decode the inputs, check them, run (batched or alone), encode the outputs. */
final class Predict {
    private final ServedModel model;
    private final DynamicBatcher batcher;
    private final Metrics metrics;
    private final long maxBodyBytes;
    private final LoadLimits limits = LoadLimits.defaults();

    /** {@code batcher} is null when requests run one by one. */
    Predict(ServedModel model, DynamicBatcher batcher, Metrics metrics, long maxBodyBytes) {
        this.model = model;
        this.batcher = batcher;
        this.metrics = metrics;
        this.maxBodyBytes = maxBodyBytes;
    }

    void handle(HttpCall ex, Map<String, String> query) throws IOException {
        byte[] body = ex.body; // the transport read it within --max-body-bytes
        List<Strided> outputs = infer(ex, given(ex, query, body));
        String accept = ex.header("Accept");
        if (accept != null && accept.contains(Responses.NPY)) {
            String name = query.getOrDefault("output", model.outputNames.get(0));
            int i = model.outputNames.indexOf(name);
            if (i < 0) throw new ApiException(400, "the model has no output named '" + TensorJson.abbreviate(name) + "' (its outputs: " + String.join(", ", model.outputNames) + ")");
            ByteArrayOutputStream npy = new ByteArrayOutputStream();
            Npy.write(npy, outputs.get(i));
            Responses.send(ex, 200, Responses.NPY, npy.toByteArray());
        } else {
            Map<String, Strided> named = new LinkedHashMap<>();
            for (int i = 0; i < outputs.size(); i++) named.put(model.outputNames.get(i), outputs.get(i));
            Responses.send(ex, 200, Responses.JSON, TensorJson.writeOutputs(named));
        }
    }

    /**
     * The protocol-independent part of a prediction: the named inputs in the graph's order,
     * their dtypes and shapes checked, memory reserved for the outputs, the model run (batched
     * or alone).
     */
    List<Strided> infer(HttpCall ex, Map<String, Strided> given) {
        List<Strided> ordered = new ArrayList<>();
        for (GraphInput in : model.graph.inputs()) {
            Strided x = given.get(in.name());
            if (x == null) throw new ApiException(400, "missing input '" + in.name() + "' (" + in.type() + ")");
            ordered.add(x);
        }
        for (String name : given.keySet()) {
            DType want = model.inputDtypes.get(name);
            if (want == null) throw new ApiException(400, "the model has no input named '" + TensorJson.abbreviate(name) + "' (its inputs: " + String.join(", ", model.inputDtypes.keySet()) + ")");
            if (given.get(name).dtype() != want) {
                throw new ApiException(400, "input '" + name + "' must be " + want.shortName() + ", got " + given.get(name).dtype().shortName());
            }
        }
        SymbolBindings bindings;
        try {
            bindings = SymbolBindings.bind(model.graph, ordered);
        } catch (GraphException e) {
            throw new ApiException(400, e.getMessage());
        }
        // the outputs and their encoding (JSON: up to ~16 characters a number) before running
        long outBytes = 0;
        for (var v : model.graph.outputs()) {
            long n = 1;
            for (dev.kiln.backend.shape.Dim d : model.graph.typeOf(v).shape()) n = Math.multiplyExact(n, bindings.eval(d));
            outBytes = Math.addExact(outBytes, Math.multiplyExact(20L, n));
        }
        ex.reserve(outBytes, "this request's outputs");
        return run(ordered);
    }

    private Map<String, Strided> given(HttpCall ex, Map<String, String> query, byte[] body) throws IOException {
        String type = ex.header("Content-Type");
        String mime = type == null ? Responses.JSON : type.split(";", 2)[0].trim().toLowerCase(java.util.Locale.ROOT);
        Map<String, Strided> given;
        if (mime.equals(Responses.NPY)) {
            String name = query.get("input");
            if (name == null) {
                if (model.graph.inputs().size() != 1) {
                    throw new ApiException(400, "an .npy body needs ?input=NAME for a model with " + model.graph.inputs().size() + " inputs");
                }
                name = model.graph.inputs().get(0).name();
            }
            if (!model.inputDtypes.containsKey(name)) throw new ApiException(400, "the model has no input named '" + TensorJson.abbreviate(name) + "'");
            try {
                given = Map.of(name, Npy.read(new ByteArrayInputStream(body), body.length, limits, "body"));
            } catch (KilnFormatException e) {
                throw new ApiException(400, e.getMessage());
            }
        } else if (mime.equals(Responses.JSON)) {
            given = TensorJson.parseInputs(body, model.inputDtypes, limits.maxRank());
        } else {
            throw new ApiException(415, "unsupported Content-Type '" + TensorJson.abbreviate(type) + "' (use application/json or application/x-npy)");
        }
        return given;
    }

    private List<Strided> run(List<Strided> inputs) {
        try {
            if (batcher != null) return batcher.submit(inputs).get();
            List<Strided> out = model.run(inputs);
            metrics.batch(inputs.isEmpty() || inputs.get(0).rank() == 0 ? 1 : inputs.get(0).shape()[0], 1);
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "the server is shutting down");
        } catch (ExecutionException | CompletionException e) {
            throw modelFailure(e.getCause());
        } catch (GraphException | IllegalArgumentException | IndexOutOfBoundsException e) {
            throw modelFailure(e);
        }
    }

    /** A model that fails on checked inputs failed on their values (a guard, an index out of range): the request's fault. */
    private static RuntimeException modelFailure(Throwable t) {
        if (t instanceof ApiException a) return a;
        if (t instanceof GraphException || t instanceof IllegalArgumentException || t instanceof IndexOutOfBoundsException) {
            return new ApiException(400, "the model failed on this input: " + t.getMessage());
        }
        return t instanceof RuntimeException r ? r : new IllegalStateException(t);
    }
}
