package dev.kiln.eager.autograd;

import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import dev.kiln.backend.op.ShapeRules;
import dev.kiln.backend.shape.Shapes;
import dev.kiln.eager.Dispatcher;
import dev.kiln.eager.Tensor;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The gradients of step-1 slices of one tensor, held by the engine until every contribution to
 * that tensor has arrived, then joined: a split's pieces (q, k and v of a fused projection)
 * that tile the tensor along one dim become one {@code cat}, as PyTorch's SplitBackward; any
 * other mix is placed and summed, in arrival order. Before this each piece was padded with zeros
 * to the full size and the pads added, two full-size passes per piece, eagerly and in a traced
 * step's graph alike.
 */
final class SlicePieces {
    /**
     * One slice's gradient: {@code g} holds the elements start, start + step, ... of dim
     * {@code dim} of a tensor of shape {@code shape}. The SLICE gradient rule places it too.
     */
    record Piece(Tensor g, int dim, int start, int step, int[] shape) {
        /** The gradient g of a slice op (c) as a piece of its input, from the slice's attributes and recorded input shape. */
        static Piece of(GradContext c, Tensor g) {
            Attrs a = c.attrs();
            int[] xs = c.inputShape(0);
            int d = Shapes.normDim("slice", a.getInt("dim"), xs.length);
            int step = a.getInt("step");
            return new Piece(g, d, ShapeRules.sliceBounds(xs[d], a.getInt("start"), a.getInt("end"), step)[0], step, xs);
        }

        /** The piece in zeros of the input's shape. */
        Tensor placed() { return Gradients.placeAlong(g, shape, dim, start, step); }
    }

    private final List<Piece> pieces = new ArrayList<>();

    /** The piece a slice node's gradient is, or null when the node is not a step-1 slice. */
    static Piece of(Node node, Tensor g) {
        if (!(node instanceof OpNode op) || op.op() != Op.SLICE || !op.needsGrad(0) || g == null) return null;
        Piece p = Piece.of(op, g);
        return p.step() == 1 ? p : null;
    }

    void add(Piece p) { pieces.add(p); }

    /**
     * The gradient of the sliced tensor: {@code others} (the sum of its other contributions, or
     * null) plus every piece in place. A cat when the pieces alone tile it along one dim.
     */
    Tensor join(Tensor others) {
        List<Piece> sorted = new ArrayList<>(pieces);
        sorted.sort(Comparator.comparingInt(Piece::start));
        if (others == null && tiles(sorted)) {
            if (sorted.size() == 1) return sorted.get(0).g();
            List<Tensor> gs = new ArrayList<>();
            for (Piece p : sorted) gs.add(p.g());
            return Tensor.cat(gs, sorted.get(0).dim());
        }
        Tensor sum = others;
        for (Piece p : pieces) sum = sum == null ? p.placed() : sum.add(p.placed());
        return sum;
    }

    /** Whether {@code t} is one of the pieces themselves (a slice of the whole dim joins to its own gradient, which others may see). */
    boolean isPiece(Tensor t) {
        for (Piece p : pieces) if (p.g() == t) return true;
        return false;
    }

    /** Whether the pieces, sorted by start, cover their dim exactly once, end to end. */
    private boolean tiles(List<Piece> sorted) {
        Piece first = sorted.get(0);
        int d = first.dim(), size = first.shape()[d];
        int at = 0;
        for (Piece p : sorted) {
            if (p.dim() != d || p.start() != at || p.g().dtype() != first.g().dtype()) return false;
            at += p.g().data().shape()[d];
        }
        return at == size && concreteUnderTracing(d);
    }

    /**
     * Under a tracer a piece's size along the dim may be symbolic (a narrow by a symbolic
     * length), which a cat could not add up to the tensor's own size: those keep the placing.
     */
    private boolean concreteUnderTracing(int d) {
        var obs = Dispatcher.observer();
        if (obs == null) return true;
        for (Piece p : pieces) {
            var dim = obs.symbolicDim(p.g(), d);
            if (dim != null && !dim.isConstant()) return false;
        }
        return true;
    }
}
