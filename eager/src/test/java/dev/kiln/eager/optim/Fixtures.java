package dev.kiln.eager.optim;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kiln.eager.Tensor;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

/** Reads the PyTorch reference runs written by tests/tools/gen_optim_fixtures.py. */
public final class Fixtures {
    private Fixtures() {}

    public static Object load(String name) {
        try (InputStream in = Fixtures.class.getResourceAsStream("/optim-fixtures/" + name)) {
            if (in == null) throw new IllegalStateException("missing fixture " + name + "; run /usr/bin/python3 tests/tools/gen_optim_fixtures.py");
            return new ObjectMapper().readValue(in, Object.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> map(Object o) { return (Map<String, Object>) o; }

    @SuppressWarnings("unchecked")
    public static List<Object> list(Object o) { return (List<Object>) o; }

    public static double[] doubles(Object o) {
        List<Object> l = list(o);
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) out[i] = ((Number) l.get(i)).doubleValue();
        return out;
    }

    public static float[] floats(Object o) {
        double[] d = doubles(o);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }

    public static Tensor tensor(Object values, int... shape) { return Tensor.of(floats(values), shape); }

    /** |actual - expected| <= tol * (1 + |expected|) element-wise, with a message naming the first mismatch. */
    public static void assertClose(double[] expected, double[] actual, double tol, String what) {
        if (expected.length != actual.length) throw new AssertionError(what + ": length " + actual.length + ", expected " + expected.length);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])))) {
                throw new AssertionError(what + "[" + i + "]: " + actual[i] + ", expected " + expected[i] + " (tolerance " + tol + ")");
            }
        }
    }
}
