package dev.kiln.backend.op;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.cpu.CpuKernels;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Walks the op table: every op has a kernel, a doc line, and docs/ops.md is current. */
class OpReferenceTest {
    private static final Path OPS_MD = Path.of("..", "docs", "ops.md");

    @Test
    void everyOpHasAKernelAndADoc() {
        for (Op op : Op.values()) {
            // control flow has no kernel: graph-opt runs its bodies (ControlFlowSemantics)
            assertEquals(!op.def().isControlFlow(), CpuKernels.has(op), op.opName() + (op.def().isControlFlow() ? " is control flow but has a CPU kernel" : " has no CPU kernel"));
            assertTrue(!op.def().doc().isBlank(), op.opName() + " has no doc line");
            assertEquals(op, Op.byName(op.opName()));
        }
    }

    @Test
    void docsOpsMdIsGeneratedFromTheTable() throws IOException {
        String expected = OpReference.markdown();
        if (Boolean.getBoolean("kiln.updateDocs")) {
            Files.createDirectories(OPS_MD.getParent());
            Files.writeString(OPS_MD, expected, StandardCharsets.UTF_8);
        }
        String actual = Files.exists(OPS_MD) ? Files.readString(OPS_MD, StandardCharsets.UTF_8) : "";
        assertEquals(expected, actual, "docs/ops.md is stale: regenerate it with "
                + "mvn -q -pl backends test -Dtest=OpReferenceTest -Dkiln.updateDocs=true");
    }
}
