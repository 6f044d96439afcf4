package dev.kiln.backend.cpu.parallel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyPartRunsExactlyOnce() {
        for (int parts : new int[] {0, 1, 2, 3, 8, 100}) {
            for (int round = 0; round < 200; round++) {
                AtomicIntegerArray seen = new AtomicIntegerArray(Math.max(parts, 1));
                Parallel.run(parts, seen::incrementAndGet);
                for (int p = 0; p < parts; p++) assertEquals(1, seen.get(p), "part " + p + " of " + parts);
            }
        }
    }

    @Test
    void partsRunOnMoreThanOneThreadWhenThePoolHasWorkers() {
        if (Parallel.threads() < 2) return; // a one-thread pool runs everything on the caller, checked below
        ConcurrentHashMap<Thread, Boolean> threads = new ConcurrentHashMap<>();
        for (int round = 0; round < 2000 && threads.size() < 2; round++) {
            Parallel.run(4, p -> {
                threads.put(Thread.currentThread(), true);
                long until = System.nanoTime() + 20_000;
                while (System.nanoTime() < until) Thread.onSpinWait();
            });
        }
        assertTrue(threads.size() >= 2, "parts ran on " + threads.keySet());
    }

    @Test
    void theFirstFailureIsRethrownAfterAllPartsFinished() {
        AtomicIntegerArray seen = new AtomicIntegerArray(6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Parallel.run(6, p -> {
            seen.incrementAndGet(p);
            if (p == 3) throw new IllegalArgumentException("part 3 failed");
        }));
        assertEquals("part 3 failed", e.getMessage());
        for (int p = 0; p < 6; p++) assertEquals(1, seen.get(p));
        // the pool is usable afterwards
        AtomicIntegerArray again = new AtomicIntegerArray(4);
        Parallel.run(4, again::incrementAndGet);
        for (int p = 0; p < 4; p++) assertEquals(1, again.get(p));
    }

    @Test
    void inJobIsTrueInEveryPartWhereverItRunsAndFalseOutside() {
        assertTrue(!Parallel.inJob(), "before any job");
        for (int round = 0; round < 50; round++) {
            AtomicIntegerArray inside = new AtomicIntegerArray(8);
            Parallel.run(8, p -> {
                if (Parallel.inJob()) inside.incrementAndGet(p);
            });
            // a one-thread pool runs the parts as a plain loop on the caller: no pool job
            for (int p = 0; p < 8; p++) assertEquals(Parallel.threads() > 1 ? 1 : 0, inside.get(p), "part " + p + " saw inJob()");
            assertTrue(!Parallel.inJob(), "after the job returned");
        }
        assertThrows(IllegalStateException.class, () -> Parallel.run(4, p -> {
            throw new IllegalStateException("part failed");
        }));
        assertTrue(!Parallel.inJob(), "after a job whose parts threw");
    }

    @Test
    void nestedCallsRunOnTheCallingThread() {
        AtomicIntegerArray inner = new AtomicIntegerArray(4 * 3);
        Parallel.run(4, outer -> {
            Thread me = Thread.currentThread();
            Parallel.run(3, p -> {
                assertSame(me, Thread.currentThread(), "a nested part left its caller's thread");
                inner.incrementAndGet(outer * 3 + p);
            });
        });
        for (int i = 0; i < 12; i++) assertEquals(1, inner.get(i));
    }

    @Test
    void concurrentCallersEachGetAllTheirParts() throws Exception {
        int callers = 4;
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread[] ts = new Thread[callers];
        for (int c = 0; c < callers; c++) {
            ts[c] = new Thread(() -> {
                try {
                    start.await();
                    for (int round = 0; round < 500; round++) {
                        AtomicIntegerArray seen = new AtomicIntegerArray(5);
                        Parallel.run(5, seen::incrementAndGet);
                        for (int p = 0; p < 5; p++) if (seen.get(p) != 1) throw new AssertionError("part " + p + " ran " + seen.get(p) + " times");
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            });
            ts[c].start();
        }
        start.countDown();
        for (Thread t : ts) t.join(60_000);
        if (failure.get() != null) throw new AssertionError(failure.get());
    }

    @Test
    void aNestedCallStillRunsEveryPartBeforeRethrowing() {
        AtomicIntegerArray seen = new AtomicIntegerArray(6);
        Parallel.run(2, outer -> {
            if (outer != 0) return;
            assertThrows(IllegalArgumentException.class, () -> Parallel.run(6, p -> {
                seen.incrementAndGet(p);
                if (p == 3) throw new IllegalArgumentException("part 3 failed");
            }));
        });
        for (int p = 0; p < 6; p++) assertEquals(1, seen.get(p), "nested part " + p);
    }

    @Test
    void plainWritesAreVisibleAfterRunAlsoAfterTheWorkersParked() throws Exception {
        for (int round = 0; round < 3000; round++) {
            int parts = 2 + round % 7;
            int[] out = new int[parts * 16];
            int tag = round;
            Parallel.run(parts, p -> {
                for (int i = 0; i < 16; i++) out[p * 16 + i] = tag + p + i;
            });
            for (int p = 0; p < parts; p++) for (int i = 0; i < 16; i++) assertEquals(tag + p + i, out[p * 16 + i], "round " + round);
            if (round % 500 == 0) Thread.sleep(2); // past the spin window: the next job must wake parked workers
        }
    }
}
