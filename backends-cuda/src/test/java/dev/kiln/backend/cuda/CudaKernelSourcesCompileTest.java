package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles every kernel source with nvcc -ptx, so syntax and type errors show up on machines
 * without a GPU (nvcc needs no driver). The PTX must contain every kernel the backend looks up
 * by name: a kernel that compiles but is misnamed would only fail on a GPU.
 */
class CudaKernelSourcesCompileTest {
    @TempDir
    Path dir;

    /** Every kernel name CudaExecutor launches, per file (the f32/f64/... variants from macros). */
    static final Map<String, List<String>> EXPECTED = Map.of(
            CudaKernelSources.ELEMENTWISE, List.of("kiln_where_f32", "kiln_where_f64", "kiln_where_i64", "kiln_where_bool", "kiln_logical_not_f32", "kiln_logical_not_f64",
                    "kiln_logical_not_i64", "kiln_logical_not_bool",
                    "kiln_cast_f32_f64", "kiln_cast_f64_f32", "kiln_cast_i64_f32", "kiln_cast_bool_f32", "kiln_cast_f32_i64",
                    "kiln_cast_f32_bool", "kiln_cast_bool_bool", "kiln_fill_f32", "kiln_fill_f64", "kiln_fill_i64", "kiln_fill_bool"),
            CudaKernelSources.REDUCE, List.of("kiln_reduce_f32", "kiln_reduce_f64", "kiln_reduce_i64", "kiln_argreduce_f32", "kiln_argreduce_f64"),
            CudaKernelSources.SOFTMAX, List.of("kiln_softmax_f32", "kiln_softmax_f64"),
            CudaKernelSources.GEMM, List.of("kiln_sgemm", "kiln_dgemm", "kiln_sgemm_128"),
            CudaKernelSources.IM2COL, List.of("kiln_im2col_f32", "kiln_im2col_f64", "kiln_col2im_f32", "kiln_col2im_f64"),
            CudaKernelSources.POOL, List.of("kiln_maxpool_indices_f32", "kiln_maxpool_indices_f64"),
            CudaKernelSources.GATHER, List.of("kiln_index_select_f32", "kiln_index_select_f64", "kiln_gather_f32", "kiln_gather_f64",
                    "kiln_scatter_add_f32", "kiln_scatter_add_f64"),
            CudaKernelSources.ATTENTION, List.of("kiln_attention_f32", "kiln_attention_f64", "kiln_attention_stats_f32", "kiln_attention_stats_f64",
                    "kiln_attention_grad_q_f32", "kiln_attention_grad_q_f64", "kiln_attention_grad_kv_f32", "kiln_attention_grad_kv_f64"));

    @Test
    void everySourceCompilesWithNvccAndDefinesItsKernels() throws Exception {
        Path nvcc = Nvcc.find();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH (nor in /usr/local/cuda/bin): CUDA sources not compiled");
        assertEquals(EXPECTED.keySet(), Set.copyOf(CudaKernelSources.FILES), "every source file has its expected kernels listed");
        for (String file : CudaKernelSources.FILES) {
            Nvcc.Result r = Nvcc.compile(nvcc, dir, file, CudaKernelSources.assembled(file));
            assertEquals(0, r.exitCode(), () -> "nvcc -ptx " + file + " failed:\n" + r.output());
            for (String kernel : EXPECTED.get(file)) {
                assertTrue(r.ptx().contains(".entry " + kernel + "("), () -> file + ": no kernel " + kernel + " in the PTX");
            }
            for (String kernel : Nvcc.plainKernelNames(CudaKernelSources.raw(file))) {
                assertTrue(r.ptx().contains(".entry " + kernel + "("), () -> file + ": declared kernel " + kernel + " is not in the PTX");
            }
        }
    }

    @Test
    void aBrokenSourceFailsToCompile() throws Exception {
        // guards the test above against an nvcc invocation that "succeeds" without compiling
        Path nvcc = Nvcc.find();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH (nor in /usr/local/cuda/bin)");
        String broken = CudaKernelSources.withPrelude("extern \"C\" __global__ void k(float* x) { x[0] = undefined_name; }", "broken.cu");
        Nvcc.Result r = Nvcc.compile(nvcc, dir, "broken.cu", broken);
        assertTrue(r.exitCode() != 0, "nvcc accepted a source with an undefined name");
        assertTrue(r.output().contains("broken.cu"), () -> "the error should point into broken.cu via #line:\n" + r.output());
    }

    @Test
    void preludeUsesNoHostHeaders() {
        // NVRTC has no include path: a host header would compile with nvcc here and fail at run time
        List<String> files = new java.util.ArrayList<>(CudaKernelSources.FILES);
        files.add(CudaKernelSources.PRELUDE);
        for (String f : files) {
            String src = CudaKernelSources.raw(f);
            assertTrue(!src.contains("#include"), f + " includes a header");
            assertTrue(!src.matches("(?s).*\\bINFINITY\\b.*"), f + " uses INFINITY from <math.h>");
        }
    }
}
