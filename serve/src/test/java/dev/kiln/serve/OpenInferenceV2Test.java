package dev.kiln.serve;

import static dev.kiln.serve.ServeFixtures.JSON;
import static dev.kiln.serve.ServeFixtures.artifact;
import static dev.kiln.serve.ServeFixtures.assertError;
import static dev.kiln.serve.ServeFixtures.body;
import static dev.kiln.serve.ServeFixtures.get;
import static dev.kiln.serve.ServeFixtures.matrix;
import static dev.kiln.serve.ServeFixtures.mlp;
import static dev.kiln.serve.ServeFixtures.options;
import static dev.kiln.serve.ServeFixtures.post;
import static dev.kiln.serve.ServeFixtures.predict;
import static dev.kiln.serve.ServeFixtures.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.Strided;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The KServe Open Inference Protocol v2 endpoints, answering as Kiln's own predict does. */
class OpenInferenceV2Test {
    @TempDir
    Path dir;
    ModelServer server;

    @BeforeEach
    void start() throws Exception { server = ModelServer.start(artifact(mlp(), dir), options()); }

    @AfterEach
    void stop() { server.stop(1); }

    static String v2Body(Strided x, boolean nested) {
        StringBuilder s = new StringBuilder("{\"id\": \"req-7\", \"inputs\": [{\"name\": \"x\", \"shape\": [" + x.shape()[0] + ", " + x.shape()[1]
                + "], \"datatype\": \"FP32\", \"data\": [");
        float[] a = x.storage().f32();
        for (int i = 0; i < x.shape()[0]; i++) {
            if (nested) s.append(i == 0 ? "[" : ", [");
            for (int j = 0; j < x.shape()[1]; j++) s.append(j == 0 && (nested || i == 0) ? "" : ", ").append(a[i * x.shape()[1] + j]);
            if (nested) s.append(']');
        }
        return s.append("]}]}").toString();
    }

    @Test
    void healthMetadataAndReadiness() throws Exception {
        assertEquals("{\"live\":true}", get(server, "/v2/health/live").body().trim());
        assertEquals("{\"ready\":true}", get(server, "/v2/health/ready").body().trim());
        assertEquals("kiln", JSON.readTree(get(server, "/v2").body()).get("name").asText());
        JsonNode m = JSON.readTree(get(server, "/v2/models/mlp").body());
        assertEquals("mlp", m.get("name").asText());
        assertEquals("1", m.get("versions").get(0).asText());
        assertEquals("FP32", m.get("inputs").get(0).get("datatype").asText());
        assertEquals("[-1,16]", m.get("inputs").get(0).get("shape").toString());
        assertEquals(200, get(server, "/v2/models/mlp/versions/1/ready").statusCode());
        assertError(get(server, "/v2/models/mlp/versions/2"), 404, "has no version '2'");
        assertError(get(server, "/v2/models/other/ready"), 404, "no model named 'other'");
    }

    @Test
    void inferEqualsKilnsOwnPredictFlatOrNested() throws Exception {
        Strided x = randn(new Random(21), 3, 16);
        float[][] want = matrix(JSON.readTree(predict(server, body("x", x)).body()).get("outputs").elements().next());
        for (boolean nested : new boolean[] {false, true}) {
            HttpResponse<String> r = post(server, "/v2/models/mlp/infer", "application/json", v2Body(x, nested));
            assertEquals(200, r.statusCode(), r.body());
            JsonNode o = JSON.readTree(r.body());
            assertEquals("mlp", o.get("model_name").asText());
            assertEquals("req-7", o.get("id").asText());
            JsonNode out = o.get("outputs").get(0);
            assertEquals("FP32", out.get("datatype").asText());
            assertEquals("[3,10]", out.get("shape").toString());
            float[] got = new float[30];
            for (int i = 0; i < 30; i++) got[i] = Float.parseFloat(out.get("data").get(i).asText());
            for (int i = 0; i < 3; i++) assertArrayEquals(want[i], java.util.Arrays.copyOfRange(got, 10 * i, 10 * i + 10), 0f, "nested " + nested);
        }
    }

    @Test
    void badRequestsNameTheProblem() throws Exception {
        String path = "/v2/models/mlp/infer";
        assertError(post(server, path, "application/json", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16], \"datatype\": \"INT8\", \"data\": [1]}]}"), 400,
                "datatype 'INT8' is not supported");
        assertError(post(server, path, "application/json", "{\"inputs\": [{\"name\": \"x\", \"shape\": [2, 16], \"datatype\": \"FP32\", \"data\": [1, 2]}]}"), 400,
                "ragged array (2 numbers for shape [2, 16])");
        assertError(post(server, path, "application/json", "{\"inputs\": [{\"name\": \"x\", \"data\": [1], \"datatype\": \"FP32\", \"shape\": [1]}]}"), 400,
                "\"datatype\" must come before \"data\"");
        assertError(post(server, path, "application/json", "{\"inputs\": [{\"name\": \"y\", \"shape\": [1], \"datatype\": \"FP32\", \"data\": [1]}]}"), 400,
                "no input named 'y'");
        assertError(post(server, path, "application/json", "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 16], \"datatype\": \"FP64\", \"data\": "
                + "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]}]}"), 400, "input 'x' must be f32, got f64");
        assertError(get(server, path), 405, "use POST");
    }
}
