package dev.kiln.backend.cpu.vector;


/**
 * Chooses between the Vector API kernels and the scalar fallback once per JVM and logs why
 * (Lucene's VectorizationProvider is the model). Set {@code -Dkiln.vector=false} to force
 * the scalar kernels.
 */
public final class VectorSupport {
    private static final System.Logger LOG = System.getLogger("dev.kiln.backend");
    private static final FloatRows ROWS;
    private static final String REASON;

    static {
        String[] reason = new String[1];
        ROWS = choose(reason);
        REASON = reason[0];
        // the usual choice is a debug line; the scalar fallback says why at INFO, once
        LOG.log(ROWS.name().startsWith("Vector API") ? System.Logger.Level.DEBUG : System.Logger.Level.INFO, "Kiln CPU kernels: " + ROWS.name() + " (" + REASON + ")");
    }

    private VectorSupport() {}

    public static FloatRows floatRows() { return ROWS; }

    /** Whether the Vector API kernels are in use. */
    public static boolean vectorized() { return !(ROWS instanceof ScalarFloatRows); }

    public static String reason() { return REASON; }

    /** True when the Vector API module is readable and not disabled by kiln.vector=false. */
    public static boolean vectorModuleUsable(String[] reason) {
        if ("false".equalsIgnoreCase(System.getProperty("kiln.vector"))) {
            reason[0] = "disabled by -Dkiln.vector=false";
            return false;
        }
        if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            reason[0] = "module jdk.incubator.vector is not present: run with --add-modules jdk.incubator.vector";
            return false;
        }
        return true;
    }

    private static FloatRows choose(String[] reason) {
        if (!vectorModuleUsable(reason)) return new ScalarFloatRows();
        try {
            FloatRows rows = (FloatRows) Class.forName("dev.kiln.backend.cpu.vector.PanamaFloatRows")
                    .getDeclaredConstructor().newInstance();
            reason[0] = "jdk.incubator.vector is available";
            return rows;
        } catch (ReflectiveOperationException | LinkageError e) {
            reason[0] = "the Vector API could not be initialized: " + e;
            return new ScalarFloatRows();
        }
    }
}
