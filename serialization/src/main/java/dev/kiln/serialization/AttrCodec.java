package dev.kiln.serialization;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.DType;
import dev.kiln.backend.op.AttrSpec;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.SymbolicShape;
import dev.kiln.backend.shape.Dim;
import java.io.IOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Op attributes in JSON, typed by the op's schema rather than by the file: the schema says
 * dim is an INT, so {@code "dim": 1.5} or {@code "dim": "1"} is an error naming the field.
 * Range and choice checks are then the op's own ({@code OpDef.checkAttrs}).
 */
final class AttrCodec {
    private AttrCodec() {}

    /** The default rank limit (LoadLimits): a target shape has no more sizes than a type has dims. */
    private static final int MAX_RANK = LoadLimits.defaults().maxRank();

    static void write(JsonGenerator g, Attrs attrs) throws IOException {
        g.writeObjectFieldStart("attrs");
        for (String name : attrs.names()) {
            Object v = attrs.get(name);
            g.writeFieldName(name);
            if (v instanceof int[] a) {
                g.writeStartArray();
                for (int x : a) g.writeNumber(x);
                g.writeEndArray();
            } else if (v instanceof SymbolicShape s) {
                // symbolic sizes as the types write dims: "B", "2*T"; -1 stays a number
                g.writeStartArray();
                for (Dim d : s.dims()) {
                    if (d == null) g.writeNumber(-1);
                    else if (d.isConstant()) g.writeNumber(d.value());
                    else g.writeString(d.toString());
                }
                g.writeEndArray();
            } else if (v instanceof Integer i) g.writeNumber(i);
            else if (v instanceof Double d) writeDouble(g, d);
            else if (v instanceof Boolean b) g.writeBoolean(b);
            else if (v instanceof String s) g.writeString(s);
            else if (v instanceof DType t) g.writeString(t.shortName());
            else throw new IllegalArgumentException("attribute '" + name + "' has a value of type " + v.getClass().getSimpleName() + " that the format cannot store");
        }
        g.writeEndObject();
    }

    /** Finite doubles as JSON numbers (shortest round-trip form), the rest as strings. */
    static void writeDouble(JsonGenerator g, double d) throws IOException {
        if (Double.isNaN(d)) g.writeString("NaN");
        else if (Double.isInfinite(d)) g.writeString(d > 0 ? "Infinity" : "-Infinity");
        else g.writeNumber(d);
    }

    static Attrs read(Json f, Op op) {
        f.object();
        List<AttrSpec> specs = op.def().attrSpecs();
        Map<String, Object> values = new HashMap<>();
        for (Iterator<String> it = f.node().fieldNames(); it.hasNext(); ) {
            String name = it.next();
            Json v = f.get(name);
            AttrSpec spec = specs.stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow(() -> KilnFormatException.at(f.child(name),
                    "unknown attribute of " + op.opName() + " (expected " + specs.stream().map(AttrSpec::name).toList() + ")"));
            values.put(name, switch (spec.type()) {
                case INT -> v.intValue();
                case INTS -> {
                    List<Json> xs = v.array();
                    int[] a = new int[xs.size()];
                    for (int i = 0; i < a.length; i++) a[i] = xs.get(i).intValue();
                    yield a;
                }
                case SHAPE -> {
                    List<Json> xs = v.array();
                    if (xs.size() > MAX_RANK) throw v.error("a shape of " + xs.size() + " sizes exceeds the rank limit of " + MAX_RANK);
                    Dim[] d = new Dim[xs.size()];
                    boolean symbolic = false;
                    for (int i = 0; i < d.length; i++) {
                        Json x = xs.get(i);
                        if (x.node().isIntegralNumber() && x.longValue() == -1) continue; // null: -1
                        d[i] = TypeCodec.dim(x);
                        symbolic |= !d[i].isConstant();
                    }
                    yield symbolic ? new SymbolicShape(d) : new SymbolicShape(d).concrete();
                }
                case FLOAT -> v.doubleValue();
                case BOOL -> v.bool();
                case STRING -> v.string();
                case DTYPE -> TypeCodec.dtype(v);
            });
        }
        try {
            return op.def().checkAttrs(Attrs.ofMap(values));
        } catch (IllegalArgumentException e) {
            throw f.error(e.getMessage());
        }
    }
}
