package dev.kiln.tests.conformance;

import com.fasterxml.jackson.databind.JsonNode;
import dev.kiln.backend.DType;
import dev.kiln.eager.Tensor;
import java.util.Arrays;

/** Compares a Kiln tensor with a fixture tensor: dtype, shape, then values (NaN equals NaN). */
final class Expect {
    private Expect() {}

    static void matches(String what, Tensor actual, JsonNode expected, double rtol, double atol) {
        String dt = expected.get("dtype").asText();
        int[] shape = Fixtures.ints(expected.get("shape"));
        if (actual == null) throw new AssertionError(what + ": Kiln gave null, PyTorch " + dt + Arrays.toString(shape));
        if (!actual.dtype().shortName().equals(dt) || !Arrays.equals(actual.shape(), shape)) {
            throw new AssertionError(what + ": Kiln gave " + actual.typeString() + ", PyTorch " + dt + Arrays.toString(shape));
        }
        JsonNode data = expected.get("data");
        DType t = actual.dtype();
        if (t == DType.INT64) {
            long[] a = actual.toLongArray();
            for (int i = 0; i < a.length; i++) {
                if (a[i] != data.get(i).asLong()) fail(what, i, a[i], data.get(i), actual);
            }
        } else if (t == DType.BOOL) {
            boolean[] a = actual.toBooleanArray();
            for (int i = 0; i < a.length; i++) {
                if (a[i] != data.get(i).asBoolean()) fail(what, i, a[i], data.get(i), actual);
            }
        } else {
            double[] a = actual.toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                double e = Fixtures.number(data.get(i));
                if (!close(a[i], e, rtol, atol)) fail(what, i, a[i], data.get(i), actual);
            }
        }
    }

    /** Infinities must match exactly (same sign); NaN only matches NaN. */
    static boolean close(double a, double e, double rtol, double atol) {
        if (Double.isNaN(a) || Double.isNaN(e)) return Double.isNaN(a) && Double.isNaN(e);
        if (Double.isInfinite(a) || Double.isInfinite(e)) return a == e;
        return Math.abs(a - e) <= atol + rtol * Math.abs(e);
    }

    private static void fail(String what, int i, Object actual, JsonNode expected, Tensor t) {
        throw new AssertionError(what + ": element " + i + " is " + actual + ", PyTorch " + expected + "\nKiln: " + t);
    }
}
