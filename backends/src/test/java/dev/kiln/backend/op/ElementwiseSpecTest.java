package dev.kiln.backend.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;
import java.util.Random;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Each op's spec is whole and its parts agree: arity matches the op, every spec has a CUDA
 * expression, and the float32 row loop bound to an op computes that op's scalar function (a loop
 * attached to the wrong op, or a scalar function that drifted from its loop, fails here).
 */
class ElementwiseSpecTest {
    private static final FloatRows ROWS = VectorSupport.floatRows();

    @Test
    void everyElementwiseOpHasAWholeSpec() {
        for (Op op : Op.values()) {
            ElementwiseSpec spec = op.def().elementwise();
            OpKind kind = op.def().kind();
            boolean selectsOrCreates = op == Op.WHERE || op == Op.FULL_LIKE || op == Op.LOGICAL_NOT;
            if ((kind == OpKind.UNARY || kind == OpKind.BINARY) && !selectsOrCreates) assertNotNull(spec, op.opName() + " has no ElementwiseSpec");
            if (spec == null) continue;
            assertEquals(op.def().minInputs(), spec.arity(), op.opName() + ": the spec's arity");
            if (spec.form() == ElementwiseSpec.Form.CONVERSION) continue;
            Attrs a = defaults(op);
            String[] operands = spec.arity() == 1 ? new String[] {"opA"} : new String[] {"opA", "opB"};
            String c = spec.cuda(a, "float", operands);
            for (String operand : operands) assertTrue(c.contains(operand), op.opName() + ": the CUDA expression does not read " + operand + ": " + c);
        }
    }

    @Test
    void rowLoopsComputeTheirOpsScalarFunction() {
        Random r = new Random(5);
        int n = 4099;
        float[] x = new float[n], y = new float[n], got = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (r.nextGaussian() * (i % 3 == 0 ? 20 : 2));
            y[i] = (float) (r.nextGaussian() * 2);
        }
        for (Op op : Op.values()) {
            ElementwiseSpec spec = op.def().elementwise();
            if (spec == null) continue;
            Attrs a = defaults(op);
            if (spec.form() == ElementwiseSpec.Form.UNARY && spec.unaryRows(a) != null) {
                DoubleUnaryOperator f = spec.unaryScalar(a, DType.FLOAT32);
                ROWS.unary(spec.unaryRows(a), x, 0, got, 0, n);
                for (int i = 0; i < n; i++) assertUlps(op, (float) f.applyAsDouble(x[i]), got[i], x[i], Float.NaN);
            } else if (spec.form() == ElementwiseSpec.Form.BINARY && spec.binaryRows() != null) {
                DoubleBinaryOperator f = spec.binaryScalar();
                ROWS.binary(spec.binaryRows(), x, 0, 1, y, 0, 1, got, 0, n);
                // float arithmetic rounds once, as the double function rounded to float does
                for (int i = 0; i < n; i++) {
                    if (op == Op.GELU_BACKWARD && Float.isFinite(got[i])) {
                        // Phi(y) and y phi(y) cancel near y = -0.75: bounded by the terms' size, not the result's ulps
                        double want = f.applyAsDouble(x[i], y[i]);
                        assertEquals(want, got[i], 6e-7 * Math.abs(x[i]) * (1 + Math.abs(y[i])), op.opName() + "(" + x[i] + ", " + y[i] + ")");
                    } else {
                        assertUlps(op, (float) f.applyAsDouble(x[i], y[i]), got[i], x[i], y[i]);
                    }
                }
            } else if (spec.form() == ElementwiseSpec.Form.PREDICATE && spec.compareRows() != null) {
                boolean[] b = new boolean[n];
                ROWS.compare(spec.compareRows(), x, 0, 1, y, 0, 1, b, 0, n);
                for (int i = 0; i < n; i++) assertEquals(spec.binaryScalar().applyAsDouble(x[i], y[i]) != 0, b[i], op.opName() + " at " + x[i] + ", " + y[i]);
            }
        }
    }

    private static Attrs defaults(Op op) {
        return op.def().checkAttrs(op == Op.CAST ? Attrs.of("dtype", DType.FLOAT32) : Attrs.EMPTY);
    }

    /** Row loops may differ from the double function by float rounding: 8 ulps (gelu's float fit), NaN for NaN. */
    private static void assertUlps(Op op, float want, float got, float x, float y) {
        if (Float.isNaN(want)) {
            assertTrue(Float.isNaN(got), op.opName() + "(" + x + ", " + y + "): NaN expected, got " + got);
            return;
        }
        long ulps = Math.abs((long) Float.floatToIntBits(want) - Float.floatToIntBits(got));
        boolean tiny = Math.abs(want) < 1e-37f && Math.abs(got) < 1e-37f;
        assertTrue(ulps <= 8 || tiny, op.opName() + "(" + x + ", " + y + "): " + want + " from the scalar function, " + got + " from the row loop");
    }
}
