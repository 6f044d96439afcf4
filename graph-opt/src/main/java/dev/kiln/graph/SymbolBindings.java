package dev.kiln.graph;

import dev.kiln.backend.Strided;
import dev.kiln.backend.shape.Dim;
import dev.kiln.backend.shape.TensorType;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Values of a graph's symbolic dims, bound from the shapes of actual inputs. */
public final class SymbolBindings {
    private final Map<String, Long> values;

    private SymbolBindings(Map<String, Long> values) { this.values = values; }

    public Map<String, Long> values() { return Collections.unmodifiableMap(values); }

    /** Binds symbols from inputs, checking dtypes, ranks and constant dims; messages name the input. */
    public static SymbolBindings bind(Graph g, List<Strided> inputs) {
        List<GraphInput> decl = g.inputs();
        if (inputs.size() != decl.size()) {
            throw new GraphException(g.name() + ": expected " + decl.size() + " input(s), got " + inputs.size());
        }
        Map<String, Long> vals = new TreeMap<>();
        for (int pass = 0; pass < 2; pass++) {
            for (int i = 0; i < decl.size(); i++) {
                GraphInput in = decl.get(i);
                Strided x = inputs.get(i);
                TensorType t = in.type();
                if (x.dtype() != t.dtype()) {
                    throw new GraphException(g.name() + ": input %" + in.name() + " must be " + t + ", got dtype " + x.dtype().shortName());
                }
                if (x.rank() != t.rank()) {
                    throw new GraphException(g.name() + ": input %" + in.name() + " must be " + t + ", got shape " + Arrays.toString(x.shape()));
                }
                for (int d = 0; d < t.rank(); d++) {
                    Dim dim = t.dim(d);
                    long actual = x.shape()[d];
                    if (dim.isConstant()) {
                        if (dim.value() != actual) {
                            throw new GraphException(g.name() + ": input %" + in.name() + " must be " + t + ", got shape "
                                    + Arrays.toString(x.shape()) + " (dim " + d + " is fixed at " + dim.value() + ")");
                        }
                    } else if (dim.symbols().size() == 1 && dim.coefficient() == 1) {
                        String s = dim.symbols().get(0);
                        Long prev = vals.putIfAbsent(s, actual);
                        if (prev != null && prev != actual) {
                            throw new GraphException(g.name() + ": symbol " + s + " is " + prev + " from an earlier input but " + actual
                                    + " in dim " + d + " of input %" + in.name());
                        }
                    } else if (pass == 1) {
                        long expect = new SymbolBindings(vals).eval(dim);
                        if (expect != actual) {
                            throw new GraphException(g.name() + ": input %" + in.name() + " dim " + d + " must be " + dim + " = " + expect + ", got " + actual);
                        }
                    }
                }
            }
        }
        return new SymbolBindings(vals);
    }

    public long eval(Dim d) {
        long v = d.coefficient();
        for (String s : d.symbols()) {
            Long x = values.get(s);
            if (x == null) throw new GraphException("symbol " + s + " is not bound by any input");
            v = Math.multiplyExact(v, x);
        }
        return v;
    }

    public int[] concreteShape(TensorType t) {
        int[] s = new int[t.rank()];
        for (int i = 0; i < s.length; i++) s[i] = Math.toIntExact(eval(t.dim(i)));
        return s;
    }

    public TensorType concrete(TensorType t) { return TensorType.of(t.dtype(), concreteShape(t)); }

    /** attrs with every symbolic size ({@code SymbolicShape}) evaluated to this run's numbers; attrs itself when it has none. */
    public dev.kiln.backend.op.Attrs concrete(dev.kiln.backend.op.Attrs attrs) {
        java.util.Map<String, Object> m = null;
        for (String name : attrs.names()) {
            if (attrs.get(name) instanceof dev.kiln.backend.op.SymbolicShape s) {
                if (m == null) m = new java.util.HashMap<>(attrs.asMap());
                Dim[] dims = s.dims();
                int[] v = new int[dims.length];
                for (int i = 0; i < v.length; i++) v[i] = dims[i] == null ? -1 : Math.toIntExact(eval(dims[i]));
                m.put(name, v);
            }
        }
        return m == null ? attrs : dev.kiln.backend.op.Attrs.ofMap(m);
    }

    public static SymbolBindings of(Map<String, Long> values) { return new SymbolBindings(new TreeMap<>(values)); }
}
