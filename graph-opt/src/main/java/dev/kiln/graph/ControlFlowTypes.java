package dev.kiln.graph;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.ShapeException;
import dev.kiln.backend.shape.TensorType;
import java.util.ArrayList;
import java.util.List;

/**
 * The type rule of the control-flow ops, which read their bodies: the single place that says
 * how a {@code cond}, {@code while_loop} or {@code scan} node's inputs line up with its bodies'
 * inputs and outputs (documented with the ops in {@code Op}). The builder, the verifier, the
 * tracer and the runners all go through it.
 */
public final class ControlFlowTypes {
    private ControlFlowTypes() {}

    /** How a scan node's inputs split: carries, scanned inputs (xs), captures. */
    public record ScanLayout(int carries, int xs, int captures, int dim, boolean reverse) {
        public static ScanLayout of(Node n) { return of(n.attrs(), n.inputs().size()); }

        static ScanLayout of(Attrs a, int inputs) {
            int c = a.getInt("carries"), k = a.getInt("captures");
            return new ScanLayout(c, inputs - c - k, k, a.getInt("dim"), a.getBool("reverse"));
        }
    }

    /** The output types of a control-flow node with these (checked) attrs, bodies and input types. */
    public static List<TensorType> infer(Op op, Attrs attrs, List<Graph> bodies, TensorType[] in) {
        String name = op.opName();
        return switch (op) {
            case COND -> cond(name, bodies, in);
            case WHILE_LOOP -> whileLoop(name, attrs, bodies, in);
            case SCAN -> scan(name, attrs, bodies, in);
            default -> throw new ShapeException(name + " is not a control-flow op");
        };
    }

    private static List<TensorType> cond(String op, List<Graph> bodies, TensorType[] in) {
        bodyCount(op, bodies, 2);
        if (in.length < 1 || in[0].rank() != 0) throw new ShapeException(op + ": input 0 (the predicate) must be 0-d, got " + (in.length < 1 ? "none" : in[0]));
        List<TensorType> operands = List.of(in).subList(1, in.length);
        for (int b = 0; b < 2; b++) expectInputs(op, bodies.get(b), b == 0 ? "then" : "else", operands);
        List<TensorType> then = outputTypes(bodies.get(0)), otherwise = outputTypes(bodies.get(1));
        if (!then.equals(otherwise)) {
            throw new ShapeException(op + ": the branches return different types: then " + then + ", else " + otherwise
                    + " (both branches must return the same dtypes and shapes)");
        }
        return then;
    }

    private static List<TensorType> whileLoop(String op, Attrs attrs, List<Graph> bodies, TensorType[] in) {
        bodyCount(op, bodies, 2);
        int k = attrs.getInt("captures");
        int c = in.length - k;
        if (c < 1) throw new ShapeException(op + ": needs at least one carry, got " + in.length + " inputs with " + k + " captures");
        List<TensorType> all = List.of(in);
        expectInputs(op, bodies.get(0), "cond", all);
        expectInputs(op, bodies.get(1), "body", all);
        List<TensorType> condOut = outputTypes(bodies.get(0));
        if (condOut.size() != 1 || condOut.get(0).rank() != 0) throw new ShapeException(op + ": the cond body must return one 0-d value, got " + condOut);
        List<TensorType> carries = all.subList(0, c);
        List<TensorType> next = outputTypes(bodies.get(1));
        if (!next.equals(carries)) {
            throw new ShapeException(op + ": the body returns " + next + " but the carries are " + carries
                    + " (a carry keeps its dtype and shape from one iteration to the next)");
        }
        return carries;
    }

    private static List<TensorType> scan(String op, Attrs attrs, List<Graph> bodies, TensorType[] in) {
        bodyCount(op, bodies, 1);
        ScanLayout l = ScanLayout.of(attrs, in.length);
        if (l.xs() < 1) throw new ShapeException(op + ": needs at least one scanned input (xs), got " + in.length + " inputs with "
                + l.carries() + " carries and " + l.captures() + " captures");
        Dim length = null;
        List<TensorType> bodyIn = new ArrayList<>();
        for (int i = 0; i < l.carries(); i++) bodyIn.add(in[i]);
        for (int i = l.carries(); i < l.carries() + l.xs(); i++) {
            TensorType x = in[i];
            if (l.dim() >= x.rank()) throw new ShapeException(op + ": scanned input " + (i - l.carries()) + " " + x + " has no dim " + l.dim());
            if (length == null) length = x.dim(l.dim());
            else if (!length.equals(x.dim(l.dim()))) {
                throw new ShapeException(op + ": scanned inputs differ in length along dim " + l.dim() + ": " + length + " and " + x.dim(l.dim()));
            }
            bodyIn.add(drop(x, l.dim()));
        }
        for (int i = l.carries() + l.xs(); i < in.length; i++) bodyIn.add(in[i]);
        expectInputs(op, bodies.get(0), "body", bodyIn);
        List<TensorType> out = outputTypes(bodies.get(0));
        if (out.size() < l.carries()) throw new ShapeException(op + ": the body returns " + out.size() + " values but there are " + l.carries() + " carries");
        List<TensorType> carries = bodyIn.subList(0, l.carries());
        if (!out.subList(0, l.carries()).equals(carries)) {
            throw new ShapeException(op + ": the body returns carries " + out.subList(0, l.carries()) + " but they came in as " + carries
                    + " (a carry keeps its dtype and shape from one step to the next)");
        }
        List<TensorType> result = new ArrayList<>(carries);
        for (TensorType y : out.subList(l.carries(), out.size())) {
            if (l.dim() > y.rank()) throw new ShapeException(op + ": a per-step output " + y + " cannot be stacked along dim " + l.dim());
            result.add(insert(y, l.dim(), length));
        }
        return result;
    }

    /** t without dim d (a scanned input's per-step slice). */
    public static TensorType drop(TensorType t, int d) {
        Dim[] s = t.shape();
        Dim[] r = new Dim[s.length - 1];
        for (int i = 0, j = 0; i < s.length; i++) if (i != d) r[j++] = s[i];
        return new TensorType(t.dtype(), r);
    }

    /** t with {@code size} inserted at dim d (a per-step output stacked). */
    public static TensorType insert(TensorType t, int d, Dim size) {
        Dim[] s = t.shape();
        Dim[] r = new Dim[s.length + 1];
        for (int i = 0, j = 0; i < r.length; i++) r[i] = i == d ? size : s[j++];
        return new TensorType(t.dtype(), r);
    }

    private static void bodyCount(String op, List<Graph> bodies, int n) {
        if (bodies.size() != n) throw new ShapeException(op + ": expected " + n + " bodies, got " + bodies.size());
    }

    private static void expectInputs(String op, Graph body, String role, List<TensorType> expected) {
        List<TensorType> got = new ArrayList<>();
        for (GraphInput gi : body.inputs()) got.add(gi.type());
        if (!got.equals(expected)) {
            throw new ShapeException(op + ": the " + role + " body '" + body.name() + "' takes " + got + " but the node gives it " + expected);
        }
    }

    public static List<TensorType> outputTypes(Graph body) {
        List<TensorType> out = new ArrayList<>();
        for (Value v : body.outputs()) out.add(body.typeOf(v));
        return out;
    }
}
