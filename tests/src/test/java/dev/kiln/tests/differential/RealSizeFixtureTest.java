package dev.kiln.tests.differential;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.eager.Tensor;
import dev.kiln.eager.autograd.Autograd;
import dev.kiln.eager.nn.functional.F;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Kiln against PyTorch at the sizes users run (tests/tools/gen_realsize_fixtures.py): LeNet-5 at
 * batch 64, forward and every parameter's gradient, and a 3x3 stride-2 convolution at batch
 * 100 with its input, weight and bias gradients. Inputs and weights come from an integer hash
 * that both sides compute exactly, so only PyTorch's results are stored.
 */
class RealSizeFixtureTest {
    private static JsonNode doc;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = RealSizeFixtureTest.class.getResourceAsStream("/fixtures/realsize.json")) {
            if (in == null) throw new IllegalStateException("missing fixtures/realsize.json; run tests/tools/gen_realsize_fixtures.py");
            doc = new ObjectMapper().readTree(in);
        }
    }

    /** (h / 2^32 - 0.5) * scale for h = (i * 2654435761 + seed * 40503) mod 2^32, rounded to float (as the generator). */
    static Tensor value(int seed, double scale, int... shape) {
        int n = 1;
        for (int d : shape) n *= d;
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            long h = ((long) i * 2654435761L + seed * 40503L) & 0xFFFFFFFFL;
            v[i] = (float) ((h / 4294967296.0 - 0.5) * scale);
        }
        return Tensor.of(v, shape);
    }

    static float[] floats(JsonNode base64) {
        ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode(base64.asText())).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }

    /** Every element within rtol of the tensor's largest magnitude (float32 against float64 sums). */
    static void assertClose(float[] want, float[] got, double rtol, String what) {
        assertEquals(want.length, got.length, what + ": size");
        double scale = 0;
        for (float w : want) scale = Math.max(scale, Math.abs(w));
        for (int i = 0; i < want.length; i++) {
            int k = i;
            assertTrue(Math.abs(want[i] - got[i]) <= rtol * scale, () -> what + " at " + k + ": PyTorch " + want[k] + ", Kiln " + got[k]);
        }
    }

    @Test
    void lenetAtBatch64MatchesPyTorch() {
        JsonNode ref = doc.get("lenet_b64");
        ReproducibleWorkload.LeNet net = new ReproducibleWorkload.LeNet();
        int k = 0;
        try (var ng = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
                Tensor p = e.getValue();
                int fanIn = p.dim() > 1 ? p.shape(1) * (p.numel() / (p.shape(0) * p.shape(1))) : 16;
                p.copy_(value(100 + k++, 2.0 / Math.sqrt(fanIn), p.shape()));
            }
        }
        Tensor x = value(1, 2.0, 64, 1, 28, 28);
        long[] labels = new long[64];
        for (int i = 0; i < 64; i++) labels[i] = (i * 7 + 3) % 10;
        Tensor logits = net.call(x);
        Tensor loss = F.crossEntropy(logits, Tensor.of(labels, 64));
        loss.backward();
        assertClose(floats(ref.get("logits")), logits.detach().toFloatArray(), 1e-5, "logits");
        assertEquals(ref.get("loss").asDouble(), loss.item(), 1e-5, "loss");
        JsonNode grads = ref.get("grads");
        assertEquals(grads.size(), net.namedParameters().size(), "parameter count");
        for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
            assertTrue(grads.has(e.getKey()), "no PyTorch gradient for " + e.getKey());
            assertClose(floats(grads.get(e.getKey())), e.getValue().grad().toFloatArray(), 1e-4, "gradient of " + e.getKey());
        }
    }

    @Test
    void strideTwoConvAtBatch100MatchesPyTorch() {
        JsonNode ref = doc.get("conv_b100");
        Tensor x = value(11, 2.0, 100, 16, 17, 17).requiresGrad(true);
        Tensor w = value(12, 0.25, 32, 16, 3, 3).requiresGrad(true);
        Tensor b = value(13, 1.0, 32).requiresGrad(true);
        Tensor out = F.conv2d(x, w, b, new int[] {2, 2}, new int[] {1, 1}, new int[] {1, 1}, 1);
        Tensor gout = value(14, 2.0, out.shape());
        out.mul(gout).sum().backward();
        perSample(ref.get("out"), out, 15, "output");
        perSample(ref.get("grad_x"), x.grad(), 16, "input gradient");
        assertClose(floats(ref.get("grad_w")), w.grad().toFloatArray(), 1e-4, "weight gradient");
        assertClose(floats(ref.get("grad_b")), b.grad().toFloatArray(), 1e-4, "bias gradient");
    }

    /** The generator's per-sample sum and hash-weighted sum of each sample of t. */
    private static void perSample(JsonNode ref, Tensor t, int seed, String what) {
        int n = t.shape(0), per = t.numel() / n;
        float[] v = t.detach().contiguous().toFloatArray(), w = value(seed, 2.0, per).toFloatArray();
        for (int s = 0; s < n; s++) {
            double sum = 0, weighted = 0, mag = 0;
            for (int j = 0; j < per; j++) {
                sum += v[s * per + j];
                weighted += (double) v[s * per + j] * w[j];
                mag += Math.abs(v[s * per + j]);
            }
            double tol = 1e-5 * mag + 1e-6;
            double wantSum = ref.get("sum").get(s).asDouble(), wantWeighted = ref.get("weighted").get(s).asDouble();
            assertEquals(wantSum, sum, tol, what + " of sample " + s + " (sum)");
            assertEquals(wantWeighted, weighted, tol, what + " of sample " + s + " (weighted sum)");
        }
    }
}
