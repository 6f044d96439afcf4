package dev.kiln.serve;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes the server may hold for requests at once: bodies being read, decoded tensors, queued
 * batches and answers being written. A request reserves an estimate before its body is read
 * (and more once its outputs' sizes are known); one that does not fit now waits for others (the
 * client is told to retry, 503), one that can never fit is refused (413). So concurrent large
 * requests end in 200 or 503, never in an OutOfMemoryError. The default is a third of the heap.
 */
final class MemoryBudget {
    /** The part of the budget requests larger than a sixteenth of it may fill together. */
    static final double LARGE_SHARE = 2.0 / 3;
    private final long capacity;
    private final AtomicLong used = new AtomicLong();

    MemoryBudget(long capacity) { this.capacity = capacity; }

    static MemoryBudget forHeap() { return new MemoryBudget(Runtime.getRuntime().maxMemory() / 3); }

    long capacity() { return capacity; }

    long used() { return used.get(); }

    /** Reserves {@code bytes} for a new request; an ApiException (413 or 503) when they cannot be had. */
    void reserve(long bytes, String what) { reserve(bytes, what, false); }

    /**
     * Reserves more for a request already admitted (its outputs): the whole budget is open to it,
     * since refusing it now wastes what it already holds.
     */
    void reserveMore(long bytes, String what) { reserve(bytes, what, true); }

    /**
     * Grows a request's reservation (a chunked body as it arrives) by {@code bytes}, to
     * {@code total}: the large-request share applies by the request's total, so growing in small
     * steps does not get around it.
     */
    void reserveGrowth(long bytes, long total, String what) {
        take(bytes, ceilingFor(total, false));
    }

    private void reserve(long bytes, String what, boolean admitted) {
        if (bytes > capacity) {
            throw new ApiException(413, what + " needs about " + bytes + " bytes in memory, more than this server's budget of " + capacity
                    + " (a third of the heap; a larger -Xmx raises it)");
        }
        take(bytes, ceilingFor(bytes, admitted));
    }

    /**
     * How full the budget may be after a reservation for a request of {@code total} bytes: a
     * large request may fill it only to LARGE_SHARE, so the rest stays for small requests, which a
     * few clients holding large reservations then cannot starve; one request alone may still use
     * it all, and an admitted request's outputs may use all of it.
     */
    private long ceilingFor(long total, boolean admitted) {
        long share = (long) (capacity * LARGE_SHARE);
        return admitted || total <= capacity / 16 || total > share ? capacity : share;
    }

    private void take(long bytes, long ceiling) {
        while (true) {
            long u = used.get();
            if (u + bytes > ceiling) throw new ApiException(503, "the server's memory for requests is in use (" + u + " of " + capacity + " bytes); retry later");
            if (used.compareAndSet(u, u + bytes)) return;
        }
    }

    void release(long bytes) { used.addAndGet(-bytes); }
}
