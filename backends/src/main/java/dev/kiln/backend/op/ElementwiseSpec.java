package dev.kiln.backend.op;

import dev.kiln.backend.DType;
import dev.kiln.backend.cpu.vector.FloatRows;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;
import java.util.function.LongBinaryOperator;
import java.util.function.LongUnaryOperator;

/**
 * What an elementwise op computes, written once, next to its {@link OpDef}. Every path that
 * runs the op reads it: the eager CPU kernels, the compiled executor's fused CPU loops, CUDA's
 * eager kernels and CUDA's fused-kernel generator. The parts:
 *
 * <ul>
 *   <li>the scalar meaning in double (float64 results; float32 results are the same function
 *       rounded once, unless a float32 variant is given), and in long where integer results
 *       need integer arithmetic;
 *   <li>the float32 row loop of the CPU ({@link FloatRows}, Vector API or scalar), when the op
 *       has one: it must agree with the scalar meaning up to float rounding, and every float32
 *       CPU path uses it, so eager and compiled results are the same bits;
 *   <li>the CUDA C expression, over the argument expressions and the element type.
 * </ul>
 *
 * Comparisons are predicates: the same parts, with a boolean result (1 or 0). Conversions
 * (cast, clone) are the identity on an element already converted to the result type.
 *
 * <p>Special values follow PyTorch (checked against its fixtures): NaN propagates, signed
 * zeros are kept where PyTorch keeps them (relu(-0) = -0, clamp(-0, min=0) = -0), sign(±0) and
 * sign(NaN) are +0, maximum/minimum return the first operand on a tie, pow(1, y) = 1.
 */
public final class ElementwiseSpec {
    /** The CUDA C expression of the op over its argument expressions, for element type {@code type}. */
    @FunctionalInterface
    public interface CudaExpr {
        String of(Attrs attrs, String type, String[] args);
    }

    /** The family: how many operands, and whether the result is the operands' type or bool. */
    public enum Form { UNARY, BINARY, PREDICATE, CONVERSION }

    private final Form form;
    private final Function<Attrs, DoubleUnaryOperator> unary;
    private final Function<Attrs, DoubleUnaryOperator> unaryFloat;
    private final Function<Attrs, LongUnaryOperator> unaryLong;
    private final Function<Attrs, FloatRows.Unary> unaryRows;
    private final DoubleBinaryOperator binary;
    private final LongBinaryOperator binaryLong;
    private final FloatRows.Binary binaryRows;
    private final FloatRows.Compare compareRows;
    private final CudaExpr cuda;

    private ElementwiseSpec(Builder b) {
        if (b.cuda == null) throw new IllegalStateException("an elementwise spec needs its CUDA expression");
        this.form = b.form;
        this.unary = b.unary;
        this.unaryFloat = b.unaryFloat != null ? b.unaryFloat : b.unary;
        this.unaryLong = b.unaryLong;
        this.unaryRows = b.unaryRows;
        this.binary = b.binary;
        this.binaryLong = b.binaryLong;
        this.binaryRows = b.binaryRows;
        this.compareRows = b.compareRows;
        this.cuda = b.cuda;
    }

    public Form form() { return form; }

    /** Operand count: 1 for unary ops and conversions, 2 for binary ops and predicates. */
    public int arity() { return form == Form.UNARY || form == Form.CONVERSION ? 1 : 2; }

    /** Whether the op computes a value of its operands' type (unary or binary), as fused groups need. */
    public boolean isArithmetic() { return form == Form.UNARY || form == Form.BINARY; }

    /** The scalar function whose result, rounded to {@code type} (f32 or f64), is the op's result. */
    public DoubleUnaryOperator unaryScalar(Attrs attrs, DType type) {
        requireForm(Form.UNARY);
        return (type == DType.FLOAT32 ? unaryFloat : unary).apply(attrs);
    }

    /** Integer arithmetic for i64 results, or null when the op computes in floating point. */
    public LongUnaryOperator unaryLong(Attrs attrs) {
        requireForm(Form.UNARY);
        return unaryLong == null ? null : unaryLong.apply(attrs);
    }

    /** The float32 CPU row loop, or null when float32 rows use {@link #unaryScalar}. */
    public FloatRows.Unary unaryRows(Attrs attrs) {
        requireForm(Form.UNARY);
        return unaryRows == null ? null : unaryRows.apply(attrs);
    }

    /** The scalar function of a binary op, or a predicate's test (nonzero = true). */
    public DoubleBinaryOperator binaryScalar() {
        if (form != Form.BINARY && form != Form.PREDICATE) throw wrongForm("binary");
        return binary;
    }

    /** Integer arithmetic of a binary op or predicate, or null when it computes in floating point. */
    public LongBinaryOperator binaryLong() {
        if (form != Form.BINARY && form != Form.PREDICATE) throw wrongForm("binary");
        return binaryLong;
    }

    /** The float32 CPU row loop of a binary op, or null. */
    public FloatRows.Binary binaryRows() {
        requireForm(Form.BINARY);
        return binaryRows;
    }

    /** The float32 CPU row loop of a predicate, or null. */
    public FloatRows.Compare compareRows() {
        requireForm(Form.PREDICATE);
        return compareRows;
    }

    /** The op as a CUDA C expression over {@code args} (one per operand) of element type {@code type}. */
    public String cuda(Attrs attrs, String type, String... args) {
        if (args.length != arity()) throw new IllegalArgumentException("expected " + arity() + " operand(s), got " + args.length);
        return cuda.of(attrs, type, args);
    }

    private void requireForm(Form f) {
        if (form != f) throw wrongForm(f.name().toLowerCase());
    }

    private IllegalStateException wrongForm(String asked) {
        return new IllegalStateException("the spec is " + form.name().toLowerCase() + ", not " + asked);
    }

    // ---- builders ----------------------------------------------------------------------------

    public static Builder unary(DoubleUnaryOperator f) { return unaryWithAttrs(a -> f); }

    /** A unary op whose function depends on its attributes (clamp's bounds, gelu's approximation). */
    public static Builder unaryWithAttrs(Function<Attrs, DoubleUnaryOperator> f) {
        Builder b = new Builder(Form.UNARY);
        b.unary = f;
        return b;
    }

    public static Builder binary(DoubleBinaryOperator f) {
        Builder b = new Builder(Form.BINARY);
        b.binary = f;
        return b;
    }

    /** A comparison or logical op: the test on the promoted operands, a bool result. */
    public static Builder predicate(DoubleBinaryOperator test) {
        Builder b = new Builder(Form.PREDICATE);
        b.binary = test;
        return b;
    }

    /** cast and clone: the input converted to the result type is the result. */
    public static Builder conversion() {
        Builder b = new Builder(Form.CONVERSION);
        b.cuda = (attrs, type, args) -> args[0];
        return b;
    }

    /** A CUDA expression that calls one prelude function with the operands: {@code fn(a)} or {@code fn(a, b)}. */
    public static CudaExpr call(String function) {
        return (attrs, type, args) -> function + "(" + String.join(", ", args) + ")";
    }

    /** A CUDA expression from a template: {@code %a} and {@code %b} are the operands, {@code %T} the element type. */
    public static CudaExpr template(String template) {
        return (attrs, type, args) -> {
            // one pass, so an operand's own text is never substituted again
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("%[abT]").matcher(template);
            StringBuilder sb = new StringBuilder("(");
            while (m.find()) {
                String v = switch (m.group()) {
                    case "%a" -> "(" + args[0] + ")";
                    case "%b" -> "(" + args[1] + ")";
                    default -> type;
                };
                m.appendReplacement(sb, java.util.regex.Matcher.quoteReplacement(v));
            }
            m.appendTail(sb);
            return sb.append(')').toString();
        };
    }

    /** A C literal of v for element type {@code type} ("float" or "double"), infinities and NaN included. */
    public static String literal(double v, String type) {
        if (Double.isNaN(v)) return "(" + type + "(0) / " + type + "(0))";
        if (Double.isInfinite(v)) return (v < 0 ? "-" : "") + "kiln_pos_inf(" + type + "(0))";
        return type + "(" + v + ")"; // Double.toString is a valid C literal (1.0E-5)
    }

    public static final class Builder {
        private final Form form;
        private Function<Attrs, DoubleUnaryOperator> unary;
        private Function<Attrs, DoubleUnaryOperator> unaryFloat;
        private Function<Attrs, LongUnaryOperator> unaryLong;
        private Function<Attrs, FloatRows.Unary> unaryRows;
        private DoubleBinaryOperator binary;
        private LongBinaryOperator binaryLong;
        private FloatRows.Binary binaryRows;
        private FloatRows.Compare compareRows;
        private CudaExpr cuda;

        private Builder(Form form) { this.form = form; }

        /** A float32-specific function (rounded once to float), where the double one is too costly. */
        public Builder float32(Function<Attrs, DoubleUnaryOperator> f) { unaryFloat = f; return this; }

        public Builder integer(LongUnaryOperator f) { unaryLong = a -> f; return this; }

        public Builder integerWithAttrs(Function<Attrs, LongUnaryOperator> f) { unaryLong = f; return this; }

        public Builder integer(LongBinaryOperator f) { binaryLong = f; return this; }

        public Builder rows(FloatRows.Unary r) { unaryRows = a -> r; return this; }

        public Builder rowsWithAttrs(Function<Attrs, FloatRows.Unary> r) { unaryRows = r; return this; }

        public Builder rows(FloatRows.Binary r) { binaryRows = r; return this; }

        public Builder rows(FloatRows.Compare r) { compareRows = r; return this; }

        public Builder cuda(CudaExpr e) { cuda = e; return this; }

        /** Shorthand for {@code cuda(call(function))}. */
        public Builder cuda(String function) { return cuda(call(function)); }

        public ElementwiseSpec build() { return new ElementwiseSpec(this); }
    }
}
