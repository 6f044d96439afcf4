package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.DType;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import java.io.IOException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Dtypes and symbolic shapes in JSON: a dim is an integer or a string monomial like {@code "N"}
 * or {@code "2*N*T"}, exactly the form the text printer uses.
 */
final class TypeCodec {
    private static final Pattern SYMBOL = Pattern.compile("[A-Za-z][A-Za-z0-9_]{0,63}");
    private static final Pattern COEFF = Pattern.compile("[1-9][0-9]{0,17}");

    private TypeCodec() {}

    static void writeShape(JsonGenerator g, String field, Dim[] shape) throws IOException {
        g.writeArrayFieldStart(field);
        for (Dim d : shape) {
            if (d.isConstant()) g.writeNumber(d.value());
            else g.writeString(d.toString());
        }
        g.writeEndArray();
    }

    /** Writes {@code t} as the object field {@code field}, or as an array element when {@code field} is null. */
    static void writeType(JsonGenerator g, String field, TensorType t) throws IOException {
        if (field != null) g.writeObjectFieldStart(field);
        else g.writeStartObject();
        g.writeStringField("dtype", t.dtype().shortName());
        writeShape(g, "shape", t.shape());
        g.writeEndObject();
    }

    static DType dtype(Json f) {
        String s = f.string();
        for (DType t : DType.values()) if (t.shortName().equals(s)) return t;
        throw f.error("unknown dtype '" + s + "' (expected one of bool, i64, f32, f64)");
    }

    static Dim[] shape(Json f, LoadLimits limits) {
        List<Json> dims = f.array();
        if (dims.size() > limits.maxRank()) throw f.error("rank " + dims.size() + " exceeds the limit of " + limits.maxRank());
        Dim[] out = new Dim[dims.size()];
        for (int i = 0; i < out.length; i++) out[i] = dim(dims.get(i));
        return out;
    }

    static Dim dim(Json f) {
        if (f.node().isIntegralNumber()) {
            long v = f.longValue();
            if (v < 0) throw f.error("negative dimension " + v);
            if (v > Integer.MAX_VALUE) throw f.error("dimension " + v + " exceeds 2^31-1");
            return Dim.of(v);
        }
        if (!f.node().isTextual()) throw f.error("a dim must be an integer or a symbol like \"N\", got " + Json.kind(f.node()));
        String s = f.string();
        Dim d = Dim.of(1);
        boolean symbolic = false;
        // counted before splitting: a string of millions of '*' must not become an array of millions
        if (s.chars().filter(ch -> ch == '*').count() > 15) throw f.error("dim '" + abbreviate(s) + "' has more than 16 factors");
        String[] parts = s.split("\\*", -1);
        try {
            for (String p : parts) {
                if (SYMBOL.matcher(p).matches()) {
                    d = d.times(Dim.symbol(p));
                    symbolic = true;
                } else if (COEFF.matcher(p).matches()) {
                    d = d.times(Dim.of(Long.parseLong(p)));
                } else {
                    throw f.error("dim '" + abbreviate(s) + "' is not an integer or a product of symbols like N or 2*N");
                }
            }
        } catch (ArithmeticException e) {
            throw f.error("dim '" + abbreviate(s) + "' overflows 64 bits");
        }
        if (!symbolic) throw f.error("dim '" + abbreviate(s) + "' has no symbol; write constant dims as JSON integers");
        if (!d.toString().equals(s)) throw f.error("dim '" + abbreviate(s) + "' is not in normal form (write '" + d + "')");
        return d;
    }

    static TensorType type(Json f, LoadLimits limits) {
        f.onlyKeys(java.util.Set.of("dtype", "shape"), false);
        return new TensorType(dtype(f.get("dtype")), shape(f.get("shape"), limits));
    }

    /** Concrete dims of a stored tensor (parameters and constants have no symbols). */
    static long[] staticShape(Json f, LoadLimits limits) {
        List<Json> dims = f.array();
        if (dims.size() > limits.maxRank()) throw f.error("rank " + dims.size() + " exceeds the limit of " + limits.maxRank());
        long[] out = new long[dims.size()];
        for (int i = 0; i < out.length; i++) {
            Json d = dims.get(i);
            if (!d.node().isIntegralNumber()) throw d.error("a stored tensor's dims must be integers, got " + Json.kind(d.node()));
            out[i] = d.longValue();
        }
        return out;
    }

    static String abbreviate(String s) { return s.length() <= 40 ? s : s.substring(0, 37) + "..."; }
}
