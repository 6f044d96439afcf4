package dev.kiln.backend;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A storage whose contents live on a device until the host reads them. */
class StorageResidenceTest {
    /** A "device" holding one float array per storage, counting the copies it makes. */
    static final class FakeResidence implements Storage.Residence {
        float[] contents;
        int copies;

        FakeResidence(float... contents) { this.contents = contents; }

        @Override
        public void copyToHost(Storage s, Object hostArray) {
            copies++;
            System.arraycopy(contents, 0, hostArray, 0, s.length());
        }
    }

    @Test
    void theFirstHostReadCopiesOnceAndLaterReadsUseTheHostArray() {
        FakeResidence dev = new FakeResidence(1, 2, 3);
        Storage s = Storage.onDevice(DType.FLOAT32, 3, dev);
        assertFalse(s.isOnHost());
        assertEquals(0, dev.copies, "creating it copies nothing");
        assertEquals(2.0, s.getDouble(1));
        assertTrue(s.isOnHost());
        float[] a = s.f32();
        assertArrayEquals(new float[] {1, 2, 3}, a);
        assertSame(a, s.f32());
        assertEquals(1, dev.copies);
    }

    @Test
    void aDeviceWriteMakesTheHostArrayStale() {
        FakeResidence dev = new FakeResidence(1, 2);
        Storage s = Storage.onDevice(DType.FLOAT32, 2, dev);
        s.f32();
        dev.contents = new float[] {5, 6};
        s.hostIsStale(dev);
        assertFalse(s.isOnHost());
        assertArrayEquals(new float[] {5, 6}, s.f32());
        assertEquals(2, dev.copies);
    }

    @Test
    void aHostStorageCanBeTakenOverByADevice() {
        Storage s = Storage.wrap(new float[] {1, 2});
        FakeResidence dev = new FakeResidence(7, 8);
        s.hostIsStale(dev);
        assertEquals(7.0, s.getDouble(0));
        s.setDouble(1, 9);
        assertArrayEquals(new float[] {7, 9}, s.f32());
    }

    @Test
    void adoptingADeviceStorageCopiesItsContentsFirst() {
        Storage target = Storage.allocate(DType.FLOAT32, 2);
        Storage donor = Storage.onDevice(DType.FLOAT32, 2, new FakeResidence(3, 4));
        target.adopt(donor);
        assertArrayEquals(new float[] {3, 4}, target.f32());
    }

    @Test
    void aFailedCopyLeavesTheStorageOnTheDeviceAndCanBeRetried() {
        boolean[] fail = {true};
        Storage s = Storage.onDevice(DType.INT64, 1, (st, host) -> {
            if (fail[0]) throw new IllegalStateException("device lost");
            ((long[]) host)[0] = 42;
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, s::i64);
        assertEquals("device lost", e.getMessage());
        assertFalse(s.isOnHost());
        fail[0] = false;
        assertEquals(42, s.getLong(0));
    }

    @Test
    void aDeviceWriteDuringACopyToTheHostMakesTheCopyBeRedone() {
        float[][] device = {{1, 2}};
        int[] copies = {0};
        Storage[] self = new Storage[1];
        Storage.Residence dev = new Storage.Residence() {
            @Override
            public void copyToHost(Storage s, Object host) {
                float[] seen = device[0];
                if (copies[0]++ == 0) { // another thread's device write lands while this copy runs
                    device[0] = new float[] {3, 4};
                    self[0].hostIsStale(this);
                }
                System.arraycopy(seen, 0, host, 0, 2);
            }
        };
        self[0] = Storage.onDevice(DType.FLOAT32, 2, dev);
        assertArrayEquals(new float[] {3, 4}, self[0].f32());
        assertEquals(2, copies[0]);
    }

    @Test
    void sizesAreCheckedAsForHostStorage() {
        assertThrows(dev.kiln.backend.shape.ShapeException.class, () -> Storage.onDevice(DType.FLOAT32, -1, new FakeResidence()));
        assertThrows(NullPointerException.class, () -> Storage.onDevice(DType.FLOAT32, 1, null));
    }
}
