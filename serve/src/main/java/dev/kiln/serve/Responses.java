package dev.kiln.serve;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writing answers: a body with its length, and the one-line {@code {"error": ...}} of every refusal. */
final class Responses {
    static final String JSON = "application/json";
    static final String NPY = "application/x-npy";
    private static final JsonFactory FACTORY = new JsonFactory();

    private Responses() {}

    static void send(HttpCall call, int status, String contentType, byte[] body) { call.respond(status, contentType, body); }

    static void error(HttpCall call, int status, String message) { send(call, status, JSON, errorBody(message)); }

    static byte[] errorBody(String message) {
        String line = message == null ? "unknown error" : message.lines().findFirst().orElse("unknown error");
        return object(g -> g.writeStringField("error", line));
    }

    interface Fields {
        void write(JsonGenerator g) throws IOException;
    }

    /** One JSON object on one line, written by {@code fields}. */
    static byte[] object(Fields fields) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(bytes)) {
            g.writeStartObject();
            fields.write(g);
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException("writing to memory", e);
        }
        bytes.write('\n');
        return bytes.toByteArray();
    }
}
