package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
        assertArrayEquals(cEnum(prelude, "KUnary"), CudaOpCodes.UNARY_C_NAMES);
        assertArrayEquals(cEnum(prelude, "KBinary"), CudaOpCodes.BINARY_C_NAMES);
        assertArrayEquals(cEnum(prelude, "KCompare"), CudaOpCodes.COMPARE_C_NAMES);
        assertArrayEquals(cEnum(CudaKernelSources.raw(CudaKernelSources.REDUCE), "KReduce"), CudaOpCodes.REDUCE_C_NAMES);
        assertEquals("U_GELU_TANH", CudaOpCodes.UNARY_C_NAMES[CudaOpCodes.U_GELU_TANH]);
    }

    @Test
    void eachOpMapsToTheEnumEntryOfItsName() {
        check(CudaOpCodes.UNARY, CudaOpCodes.UNARY_C_NAMES, "U_");
        check(CudaOpCodes.BINARY, CudaOpCodes.BINARY_C_NAMES, "B_");
        check(CudaOpCodes.COMPARE, CudaOpCodes.COMPARE_C_NAMES, "C_");
        check(CudaOpCodes.REDUCE, CudaOpCodes.REDUCE_C_NAMES, "R_");
    }

    private static void check(Map<Op, Integer> codes, String[] cNames, String prefix) {
        for (Map.Entry<Op, Integer> e : codes.entrySet()) {
            String expected = prefix + e.getKey().name().replace("LOGICAL_", "");
            assertEquals(expected, cNames[e.getValue()], "code of " + e.getKey().opName());
        }
    }
}
