package dev.kiln.backend.cpu.gemm;

import dev.kiln.backend.cpu.parallel.Parallel;


/**
 * Picks the fastest usable {@link Gemm} once per JVM: the Vector API kernels when the incubator
 * module {@code jdk.incubator.vector} is in the boot layer, else the plain-Java ones.
 *
 * <p>System properties: {@code kiln.vector=false} forces the scalar kernels; {@code kiln.threads=N}
 * caps the threads one call may use (default: available processors).
 *
 * <p>{@link PanamaGemm} is loaded reflectively by name, so when the module is absent none of the
 * {@code jdk.incubator.vector} classes it refers to is ever linked.
 */
public final class GemmProvider {
    private static final System.Logger LOG = System.getLogger("dev.kiln.backend");
    private static final String VECTOR_MODULE = "jdk.incubator.vector";
    private static final String PANAMA_CLASS = "dev.kiln.backend.cpu.gemm.PanamaGemm";

    private GemmProvider() {}

    /** The process-wide kernels, chosen (and logged) on first use. */
    public static Gemm get() {
        return Holder.INSTANCE;
    }

    /** Lazy holder: the choice is made, and logged, exactly once. */
    private static final class Holder {
        static final Gemm INSTANCE = choose();
    }

    private static Gemm choose() {
        // one reading of kiln.threads for the whole backend: the pool's size is the GEMM's budget
        int threads = Parallel.threads();
        if (!Boolean.parseBoolean(System.getProperty("kiln.vector", "true"))) {
            return scalar(threads, "Vector API disabled by -Dkiln.vector=false");
        }
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return scalar(threads, "Vector API not available: run with --add-modules "
                    + VECTOR_MODULE);
        }
        try {
            Gemm g = (Gemm) Class.forName(PANAMA_CLASS)
                    .getConstructor(int.class).newInstance(threads);
            LOG.log(System.Logger.Level.DEBUG, () -> "Using Vector API gemm kernels: " + g.name());
            return g;
        } catch (ReflectiveOperationException | LinkageError | RuntimeException e) {
            // E.g. a JDK whose incubator API changed shape: degrade rather than fail.
            LOG.log(System.Logger.Level.WARNING, "Vector API gemm kernels failed to load; using scalar kernels", e);
            return new ScalarGemm(threads);
        }
    }

    private static Gemm scalar(int threads, String why) {
        LOG.log(System.Logger.Level.INFO, () -> why + "; using scalar kernels"); // the fallback says why, once
        return new ScalarGemm(threads);
    }
}
