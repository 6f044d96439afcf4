package dev.kiln.tracer;

/** Finds the user's Java source line in the current stack: the first frame outside Kiln's machinery. */
final class SourceLines {
    private SourceLines() {}

    private static final String[] INTERNAL = {
        "dev.kiln.eager.Tensor", "dev.kiln.eager.SymInt", "dev.kiln.eager.Dispatcher", "dev.kiln.eager.ControlFlow", "dev.kiln.eager.autograd.", "dev.kiln.eager.nn.",
        "dev.kiln.backend.", "dev.kiln.graph.",
        "dev.kiln.tracer.Tracer", "dev.kiln.tracer.TraceRecorder", "dev.kiln.tracer.ControlFlowRecorder", "dev.kiln.tracer.ControlFlowModules", "dev.kiln.tracer.SourceLines", "dev.kiln.tracer.TracedFunction",
        "dev.kiln.tracer.GraphModule", "dev.kiln.tracer.TraceCheck", "java.", "jdk.", "sun.",
        "org.junit.", "dev.kiln.eager.optim."
    };

    static String caller() {
        StackTraceElement[] st = new Throwable().getStackTrace();
        StackTraceElement fallback = null;
        for (StackTraceElement e : st) {
            String c = e.getClassName();
            boolean internal = false;
            for (String p : INTERNAL) {
                // package prefixes end with '.', class names match exactly or as nested classes
                if (p.endsWith(".") ? c.startsWith(p) : c.equals(p) || c.startsWith(p + "$")) {
                    internal = true;
                    break;
                }
            }
            if (!internal) return format(e);
            // layers of nn are user-facing: report the layer's line if nothing else is found
            if (fallback == null && c.startsWith("dev.kiln.eager.nn.")) fallback = e;
        }
        return fallback != null ? format(fallback) : null;
    }

    private static String format(StackTraceElement e) {
        return (e.getFileName() != null ? e.getFileName() : e.getClassName()) + ":" + e.getLineNumber();
    }
}
