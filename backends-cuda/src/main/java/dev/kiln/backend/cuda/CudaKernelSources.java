package dev.kiln.backend.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CUDA C sources of the backend, kept as resources next to this class. Each file is
 * compiled on its own with the shared prelude ({@value #PRELUDE}) prepended, because NVRTC has
 * no include path; tests compile exactly the same assembled text with {@code nvcc -ptx}.
 */
public final class CudaKernelSources {
    private CudaKernelSources() {}

    /** Declarations shared by every source: index helpers and the math functions the ElementwiseSpec expressions call. */
    public static final String PRELUDE = "kiln_common.cuh";

    public static final String ELEMENTWISE = "elementwise.cu";
    public static final String REDUCE = "reduce.cu";
    public static final String SOFTMAX = "softmax.cu";
    public static final String GEMM = "sgemm.cu";
    public static final String IM2COL = "im2col.cu";
    public static final String POOL = "pool.cu";
    public static final String GATHER = "gather.cu";
    public static final String ATTENTION = "attention.cu";

    /** Every kernel source file, in the order the docs list them. */
    public static final List<String> FILES = List.of(ELEMENTWISE, REDUCE, SOFTMAX, GEMM, IM2COL, POOL, GATHER, ATTENTION);

    /** The text of one resource file, as stored. */
    public static String raw(String file) {
        String path = "/dev/kiln/backend/cuda/" + file;
        try (InputStream in = CudaKernelSources.class.getResourceAsStream(path)) {
            if (in == null) throw new IllegalArgumentException("no CUDA source resource " + path);
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("reading CUDA source " + path, e);
        }
    }

    /**
     * The compilable text of file: the prelude, then the file under a {@code #line} directive
     * so that compiler errors point at the file's own line numbers.
     */
    public static String assembled(String file) { return withPrelude(raw(file), file); }

    /** Prepends the prelude to generated code (the fused-kernel generator uses this). */
    public static String withPrelude(String body, String nameForErrors) {
        return raw(PRELUDE) + "\n#line 1 \"" + nameForErrors + "\"\n" + body;
    }

    /** Every source file assembled, keyed by file name. */
    public static Map<String, String> all() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String f : FILES) m.put(f, assembled(f));
        return m;
    }
}
