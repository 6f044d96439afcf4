package dev.kiln.tracer;

import dev.kiln.backend.Strided;
import dev.kiln.eager.Tensor;
import dev.kiln.graph.Graph;
import dev.kiln.graph.ReferenceInterpreter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/** checkTrace: runs eager and the traced graph on extra inputs and reports the first divergence. */
public final class TraceCheck {
    private TraceCheck() {}

    public static void checkTrace(Function<Tensor[], Tensor> fn, Graph g, List<Tensor[]> inputs, double rtol, double atol) {
        for (int k = 0; k < inputs.size(); k++) {
            Tensor[] in = inputs.get(k);
            Tensor eager = fn.apply(in);
            List<Strided> data = new ArrayList<>();
            for (Tensor t : in) data.add(t.data());
            Tensor traced = Tensor.wrap(ReferenceInterpreter.run(g, data).get(0));
            if (!Arrays.equals(eager.shape(), traced.shape())) {
                throw new TraceException("checkTrace: input set " + k + ": eager output " + eager.typeString() + " but traced " + traced.typeString()
                        + "\n" + g);
            }
            double[] a = eager.toDoubleArray(), b = traced.toDoubleArray();
            int worst = -1;
            double worstDiff = 0;
            int bad = 0;
            for (int i = 0; i < a.length; i++) {
                double d = Math.abs(a[i] - b[i]);
                boolean nanMismatch = Double.isNaN(a[i]) != Double.isNaN(b[i]);
                if (nanMismatch || d > atol + rtol * Math.abs(a[i])) {
                    bad++;
                    if (nanMismatch || d > worstDiff) {
                        worstDiff = nanMismatch ? Double.NaN : d;
                        worst = i;
                    }
                }
            }
            if (bad > 0) {
                throw new TraceException("checkTrace: input set " + k + ": " + bad + " of " + a.length + " elements differ; worst at flat index "
                        + worst + ": eager " + a[worst] + ", traced " + b[worst] + ". The trace probably baked in something this input "
                        + "changes; its ledger:\n" + g.assumptions());
            }
        }
    }
}
