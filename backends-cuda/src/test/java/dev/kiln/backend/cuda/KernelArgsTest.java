package dev.kiln.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Packing launch arguments (no GPU needed: nothing is launched). */
class KernelArgsTest {
    @Test
    void everySupportedTypePacks() {
        assertNotNull(KernelArgs.pack(1, 2L, 3f, 4.0, new KernelArgs.Ptr(0x7f00L), new int[] {1, 2, 3}));
    }

    @Test
    void anUnsupportedArgumentIsNamedByPosition() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(1, "x"));
        assertEquals("kernel argument 1 has unsupported type java.lang.String", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack((Object) null));
    }

    @Test
    void argumentsPastTheBufferAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> KernelArgs.pack(new int[2000]));
        assertEquals("kernel arguments exceed 4096 bytes", e.getMessage());
    }
}
