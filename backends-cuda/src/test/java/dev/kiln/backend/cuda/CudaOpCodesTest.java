package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.backend.op.Op;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The Java op codes must match the C enums they index, entry for entry. */
class CudaOpCodesTest {
    static String[] cEnum(String source, String name) {
        Matcher m = Pattern.compile("enum " + name + " \\{([^}]*)\\}").matcher(source);
        if (!m.find()) throw new AssertionError("no enum " + name);
        return m.group(1).trim().split("\\s*,\\s*");
    }

    @Test
    void javaCodesMatchTheCEnums() {
        String prelude = CudaKernelSources.raw(CudaKernelSources.PRELUDE);
        assertArrayEquals(cEnum(CudaKernelSources.raw(CudaKernelSources.REDUCE), "KReduce"), CudaOpCodes.REDUCE_C_NAMES);
        // elementwise ops have no codes any more: their kernels come from ElementwiseSpec
        assertTrue(!prelude.contains("enum KUnary") && !prelude.contains("enum KBinary") && !prelude.contains("enum KCompare"));
    }

    @Test
    void eachOpMapsToTheEnumEntryOfItsName() {
        check(CudaOpCodes.REDUCE, CudaOpCodes.REDUCE_C_NAMES, "R_");
    }

    private static void check(Map<Op, Integer> codes, String[] cNames, String prefix) {
        for (Map.Entry<Op, Integer> e : codes.entrySet()) {
            String expected = prefix + e.getKey().name();
            assertEquals(expected, cNames[e.getValue()], "code of " + e.getKey().opName());
        }
    }
}
