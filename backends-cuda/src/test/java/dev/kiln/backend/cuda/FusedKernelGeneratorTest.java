package dev.kiln.backend.cuda;

import static dev.kiln.backend.device.ElementwiseChain.input;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.DType;
import dev.kiln.backend.device.ElementwiseChain;
import dev.kiln.backend.device.ElementwiseChain.Step;
import dev.kiln.backend.op.Attrs;
import dev.kiln.backend.op.Op;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FusedKernelGeneratorTest {
    @TempDir
    Path dir;

    /** The chain the compiled executor fuses after a linear layer: (x * w + b).gelu().clamp(max=6). */
    static ElementwiseChain epilogue(DType t) {
        return new ElementwiseChain("epilogue_" + t.shortName(), t, 3, List.of(
                new Step(Op.MUL, input(0), input(1)),
                new Step(Op.ADD, 0, input(2)),
                new Step(Op.GELU, Attrs.of("approximate", "none"), 1),
                new Step(Op.CLAMP, Attrs.of("max", 6.0), 2)));
    }

    /** One spec per fusible op, so each op's C expression is compiled at least once. */
    static List<ElementwiseChain> everyOp(DType t) {
        List<ElementwiseChain> specs = new ArrayList<>();
        for (Op op : Op.values()) {
            switch (op.def().kind()) {
                case UNARY -> {
                    if (op == Op.LOGICAL_NOT) continue; // bool result: not part of a float group
                    Attrs a = op == Op.GELU ? Attrs.of("approximate", "tanh")
                            : op == Op.CLAMP ? Attrs.of("min", -1.5, "max", 2.5)
                            : op == Op.CAST ? Attrs.of("dtype", t) : Attrs.EMPTY;
                    specs.add(new ElementwiseChain(op.opName() + "_" + t.shortName(), t, 1, List.of(new Step(op, a, input(0)))));
                }
                case BINARY -> {
                    if (!FusedKernelGenerator.isFusible(op)) continue; // comparisons give bool
                    specs.add(new ElementwiseChain(op.opName() + "_" + t.shortName(), t, 2, List.of(new Step(op, input(0), input(1)))));
                }
                default -> { }
            }
        }
        return specs;
    }

    @Test
    void generatedChainKeepsIntermediatesInRegisters() {
        String body = FusedKernelGenerator.body(epilogue(DType.FLOAT32));
        assertTrue(body.contains("extern \"C\" __global__ void kiln_fused_epilogue_f32(int n, KShape sh, const float* in0, KStrides s0, int o0"), body);
        // +, -, *, / rounded one by one (k_mul, k_add): NVRTC would contract them into FMAs
        assertTrue(body.contains("const float t0 = k_mul(x0, x1);"), body);
        assertTrue(body.contains("const float t1 = k_add(t0, x2);"), body);
        assertTrue(body.contains("const float t2 = k_gelu(t1);"), body);
        assertTrue(body.contains("const float t3 = k_clamp(t2, -kiln_pos_inf(float(0)), float(6.0));"), body);
        assertTrue(body.contains("out[i] = t3;"), body);
        // one load per input, one store: the point of fusing
        assertEquals(3, body.split("\\[kiln_offset\\(").length - 1, body);
    }

    @Test
    void rejectsWhatIsNotAnElementwiseChain() {
        ElementwiseChain notElementwise = new ElementwiseChain("bad", DType.FLOAT32, 1, List.of(new Step(Op.SUM, Attrs.EMPTY, input(0))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedKernelGenerator.body(notElementwise)).getMessage().contains("sum"));
        ElementwiseChain forward = new ElementwiseChain("fwd", DType.FLOAT32, 1, List.of(new Step(Op.EXP, 1), new Step(Op.NEG, 0)));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedKernelGenerator.body(forward)).getMessage().contains("not earlier"));
        ElementwiseChain missingInput = new ElementwiseChain("in", DType.FLOAT32, 1, List.of(new Step(Op.ADD, input(0), input(1))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedKernelGenerator.body(missingInput)).getMessage().contains("input 1 of 1"));
        ElementwiseChain ints = new ElementwiseChain("i", DType.INT64, 1, List.of(new Step(Op.NEG, input(0))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedKernelGenerator.body(ints)).getMessage().contains("i64"));
        ElementwiseChain arity = new ElementwiseChain("a", DType.FLOAT32, 1, List.of(new Step(Op.ADD, input(0))));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FusedKernelGenerator.body(arity)).getMessage().contains("add takes 2"));
    }

    @Test
    void generatedKernelsCompileWithNvcc() throws Exception {
        Path nvcc = Nvcc.find();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH (nor in /usr/local/cuda/bin): generated kernels not compiled");
        // all specs in one translation unit: one nvcc run instead of ~60 (this is a 2-core machine)
        for (DType t : List.of(DType.FLOAT32, DType.FLOAT64)) {
            List<ElementwiseChain> specs = new ArrayList<>(everyOp(t));
            specs.add(epilogue(t));
            StringBuilder all = new StringBuilder();
            // CUDA's eager kernels: every arithmetic op alone, with its attributes, as CudaExecutor builds them
            for (ElementwiseChain s : everyOp(t)) {
                ElementwiseChain.Step st = s.steps().get(0);
                specs.add(FusedKernelGenerator.single(st.op(), st.attrs(), t));
            }
            for (ElementwiseChain s : specs) all.append(FusedKernelGenerator.body(s)).append('\n');
            // comparisons: one kernel per op and operand type, as CudaExecutor launches them
            List<String> predicates = new ArrayList<>();
            if (t == DType.FLOAT32) {
                for (Op op : Op.values()) {
                    if (op.def().elementwise() == null || op.def().elementwise().form() != dev.kiln.backend.op.ElementwiseSpec.Form.PREDICATE) continue;
                    for (DType in : DType.values()) {
                        all.append(FusedKernelGenerator.predicateBody(op, in)).append('\n');
                        predicates.add(FusedKernelGenerator.predicateName(op, in));
                    }
                }
                assertEquals(9 * DType.values().length, predicates.size(), "every comparison and logical op, every operand type");
            }
            String name = "fused_" + t.shortName() + ".cu";
            Nvcc.Result r = Nvcc.compile(nvcc, dir, name, CudaKernelSources.withPrelude(all.toString(), name));
            assertEquals(0, r.exitCode(), () -> "nvcc -ptx of generated kernels failed:\n" + r.output());
            for (ElementwiseChain s : specs) {
                assertTrue(r.ptx().contains(".entry " + FusedKernelGenerator.kernelName(s) + "("), "missing " + FusedKernelGenerator.kernelName(s));
            }
            for (String p : predicates) assertTrue(r.ptx().contains(".entry " + p + "("), "missing " + p);
            assertTrue(specs.size() > 25, "every fusible op should be covered, got " + specs.size());
        }
    }

    @Test
    void theStandaloneSourceOfOneSpecCompiles() throws Exception {
        Path nvcc = Nvcc.find();
        Assumptions.assumeTrue(nvcc != null, "nvcc is not on PATH (nor in /usr/local/cuda/bin)");
        ElementwiseChain s = epilogue(DType.FLOAT64);
        Nvcc.Result r = Nvcc.compile(nvcc, dir, "one.cu", FusedKernelGenerator.source(s));
        assertEquals(0, r.exitCode(), r::output);
        assertEquals(1, Nvcc.entryCount(r.ptx()), "the prelude defines no kernels, the spec exactly one");
    }
}
