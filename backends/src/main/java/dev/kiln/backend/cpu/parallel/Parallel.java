package dev.kiln.backend.cpu.parallel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Kiln's CPU thread pool: runs the parts of one kernel call on the caller plus {@code threads - 1}
 * workers that spin for a short while after each job before they park.
 *
 * <p>Why not a ForkJoinPool: a training step is a chain of kernels of 10-500 µs each. Waking a
 * parked pool thread costs ~50 µs on the shared VMs, and a ForkJoinPool's external {@code join}
 * runs a not-yet-started task on the caller, so small products ran serially plus the hand-off.
 * Workers that spin through the gap between two kernels pick the next job up within a
 * microsecond, which is what OpenMP runtimes do (their spin-wait policy) and what makes 2 threads
 * pay from ~1 MFLOP instead of ~10.
 *
 * <p>Callers split only over outputs, with boundaries that do not depend on the thread count, so
 * results are identical for any {@code kiln.threads}. One job runs at a time: a call made while
 * another runs (from a worker, from inside a part, or from a second user thread) runs its parts
 * on its own thread, in order.
 *
 * <p>System properties: {@code kiln.threads} (pool size, default every processor),
 * {@code kiln.spinMicros} (a worker's spin before parking, default 200) and
 * {@code kiln.callerSpinMicros} (the caller's spin for late workers before it yields, default
 * 20000).
 */
public final class Parallel {
    private static final System.Logger LOG = System.getLogger("dev.kiln.backend");

    /** How long an idle worker spins before it parks: longer than the gap between two kernels. */
    static final long SPIN_NANOS = Long.getLong("kiln.spinMicros", 200L) * 1000L;
    /** How long the caller spins for late workers before it starts yielding its core. */
    static final long CALLER_SPIN_NANOS = Long.getLong("kiln.callerSpinMicros", 20_000L) * 1000L;

    /** One kernel's parts; each index in [0, parts) is run exactly once. */
    @FunctionalInterface
    public interface Body {
        void run(int part);
    }

    /** One part of a {@link #forRanges} split: elements [from, to) of the extent. */
    @FunctionalInterface
    public interface Range {
        void run(int part, int from, int to);
    }

    /**
     * Cuts [0, extent) into {@code parts} contiguous ranges whose bounds fall on multiples of
     * {@code grain} (the last ends at extent), spreading the ceil(extent / grain) units evenly,
     * and runs each non-empty range: on the pool when {@code parallel}, else in order on this
     * thread. The bounds depend only on the arguments, never on the thread count, which is what
     * keeps every kernel's results independent of {@code kiln.threads}.
     */
    public static void forRanges(int parts, int extent, int grain, boolean parallel, Range body) {
        long units = (extent + (long) grain - 1) / grain;
        Body part = q -> {
            int from = (int) Math.min(extent, units * q / parts * grain);
            int to = (int) Math.min(extent, units * (q + 1) / parts * grain);
            if (from < to) body.run(q, from, to);
        };
        if (parallel) {
            run(parts, part);
        } else {
            for (int q = 0; q < parts; q++) part.run(q);
        }
    }

    private static final int THREADS = configuredThreads();
    private static final AtomicBoolean BUSY = new AtomicBoolean();
    /** The thread whose job the pool is running, while it runs one. */
    private static volatile Thread owner;
    private static final Worker[] WORKERS = startWorkers(THREADS - 1);

    /** The job the workers serve; replaced, never mutated, per call, and cleared after it. */
    private static volatile Job current;
    /** Numbers the jobs, so a worker can tell a new one from the one it just served. */
    private static long generation;

    private Parallel() {}

    /** The most threads one kernel call may use: {@code -Dkiln.threads}, else every processor. */
    public static int threads() {
        return THREADS;
    }

    /**
     * True on a thread that is running a part of a pool job (a worker, or the caller that
     * started it): a call made there runs on that thread alone, so a kernel that would split its
     * own work (a GEMM inside a batch of GEMMs) does better to stay serial and skip the split.
     */
    public static boolean inJob() {
        Thread t = Thread.currentThread();
        return t instanceof Worker || t == owner;
    }

    /**
     * Runs {@code body} for every part in [0, parts), spreading the parts over the pool when it is
     * free, and returns once all of them have finished. The first exception a part throws is
     * rethrown here (after the other parts finished).
     */
    public static void run(int parts, Body body) {
        if (parts <= 0) return;
        if (parts == 1 || WORKERS.length == 0 || Thread.currentThread() instanceof Worker
                || !BUSY.compareAndSet(false, true)) {
            // on this thread alone, with the same contract: every part runs, then the first failure
            RuntimeException first = null;
            for (int p = 0; p < parts; p++) {
                try {
                    body.run(p);
                } catch (RuntimeException e) {
                    if (first == null) first = e;
                }
            }
            if (first != null) throw first;
            return;
        }
        owner = Thread.currentThread();
        try {
            Job job = new Job(++generation, parts, body);
            current = job;
            for (Worker w : WORKERS) {
                if (w.parked) LockSupport.unpark(w);
            }
            job.work();
            job.awaitDone();
            current = null;
            Throwable t = job.failure.get();
            if (t instanceof RuntimeException re) throw re;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        } finally {
            owner = null;
            BUSY.set(false);
        }
    }

    private static final class Job {
        final long id;
        final int parts;
        final Body body;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        final AtomicReference<Throwable> failure = new AtomicReference<>();

        Job(long id, int parts, Body body) {
            this.id = id;
            this.parts = parts;
            this.body = body;
        }

        /** Claims and runs parts until none is left. */
        void work() {
            int p;
            while ((p = next.getAndIncrement()) < parts) {
                try {
                    body.run(p);
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                } finally {
                    done.incrementAndGet();
                }
            }
        }

        void awaitDone() {
            // Spin, not yield: a yield hands the caller's core to whatever else is runnable (JIT
            // compiler threads early on), and the caller then waits for it to come back; measured
            // as up to 30% slower training steps in the benchmark suite. Only a worker that lost
            // its core for longer than this makes the caller yield.
            long start = System.nanoTime();
            while (done.get() < parts) {
                if (System.nanoTime() - start < CALLER_SPIN_NANOS) Thread.onSpinWait();
                else Thread.yield();
            }
        }
    }

    private static final class Worker extends Thread {
        volatile boolean parked;

        Worker(int index) {
            super("kiln-cpu-" + index);
            setDaemon(true);
        }

        @Override
        public void run() {
            // The id of the last job served, not the job: holding it would keep its arrays alive.
            long last = 0;
            while (true) {
                Job job = current;
                if (job != null && job.id != last) {
                    last = job.id;
                    job.work();
                    continue;
                }
                long idleSince = System.nanoTime();
                while ((job = current) == null || job.id == last) {
                    long idle = System.nanoTime() - idleSince;
                    if (idle < SPIN_NANOS) {
                        // (yielding here after the first microseconds, to leave the core to JIT
                        // and GC threads, measured no faster on the demo's first epoch)
                        Thread.onSpinWait();
                        continue;
                    }
                    parked = true;
                    // Re-check after announcing: a publisher that saw parked == false did not unpark.
                    job = current;
                    if (job == null || job.id == last) {
                        job = null; // a parked worker must not keep a finished job's arrays reachable
                        LockSupport.park(this);
                    }
                    parked = false;
                    idleSince = System.nanoTime();
                }
            }
        }
    }

    private static Worker[] startWorkers(int n) {
        Worker[] workers = new Worker[Math.max(0, n)];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = new Worker(i + 1);
            workers[i].start();
        }
        return workers;
    }

    private static int configuredThreads() {
        int fallback = Runtime.getRuntime().availableProcessors();
        String v = System.getProperty("kiln.threads");
        if (v == null || v.isBlank()) return fallback;
        try {
            int t = Integer.parseInt(v.trim());
            if (t >= 1) return t;
        } catch (NumberFormatException ignored) {
            // Fall through to the warning below.
        }
        LOG.log(System.Logger.Level.WARNING, () -> "Ignoring kiln.threads=" + v + " (want an integer >= 1)");
        return fallback;
    }
}
