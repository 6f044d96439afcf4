package dev.kiln.serialization;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kiln.backend.DType;
import dev.kiln.backend.op.AttrSpec;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import java.io.ByteArrayOutputStream;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every op of the closed vocabulary survives JSON (DESIGN.md, "One op vocabulary"): its name
 * resolves back to it, and attrs with a non-default value for every attribute of its schema
 * are written and read back equal.
 */
class OpAttrRoundTripTest {
    static Object sample(AttrSpec s) {
        return switch (s.type()) {
            case INT -> (int) Math.max(s.min(), Math.min(3, s.max()));
            case INTS -> new int[] {(int) Math.max(s.min(), Math.min(2, s.max())), (int) Math.max(s.min(), Math.min(0, s.max()))};
            case FLOAT -> -0.125;
            case BOOL -> !Boolean.TRUE.equals(s.defaultValue());
            case STRING -> s.choices().get(s.choices().size() - 1);
            case DTYPE -> DType.FLOAT64;
            // a symbolic target shape as a trace writes it, with an inferred size
            case SHAPE -> new dev.kiln.backend.op.SymbolicShape(new dev.kiln.backend.shape.Dim[] {
                dev.kiln.backend.shape.Dim.symbol("B"), dev.kiln.backend.shape.Dim.symbol("T").times(dev.kiln.backend.shape.Dim.of(2)), null, dev.kiln.backend.shape.Dim.of(4)});
        };
    }

    @Test
    void everyOpsNameAndAttrsRoundTrip() throws Exception {
        for (Op op : Op.values()) {
            assertSame(op, Op.byName(op.opName()), op.opName());
            Map<String, Object> m = new HashMap<>();
            for (AttrSpec s : op.def().attrSpecs()) m.put(s.name(), sample(s));
            Attrs attrs = op.def().checkAttrs(Attrs.ofMap(m));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (JsonGenerator g = SmallModels.MAPPER.getFactory().createGenerator(out)) {
                g.writeStartObject();
                AttrCodec.write(g, attrs);
                g.writeEndObject();
            }
            Json node = new Json(SmallModels.MAPPER.readTree(out.toByteArray()).get("attrs"), "attrs");
            assertEquals(attrs, AttrCodec.read(node, op), op.opName());
        }
    }

    @Test
    void nonFiniteFloatsRoundTrip() throws Exception {
        for (double d : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -0.0, Double.MIN_VALUE, 0.1}) {
            Attrs attrs = Op.CLAMP.def().checkAttrs(Attrs.of("min", d));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (JsonGenerator g = SmallModels.MAPPER.getFactory().createGenerator(out)) {
                g.writeStartObject();
                AttrCodec.write(g, attrs);
                g.writeEndObject();
            }
            Attrs back = AttrCodec.read(new Json(SmallModels.MAPPER.readTree(out.toByteArray()).get("attrs"), "attrs"), Op.CLAMP);
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits(back.getOptionalFloat("min")), Double.toString(d));
        }
    }
}
