package dev.kiln.graph.exec;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Buffer assignment for one plan, by liveness: a value lives from the step that defines it to
 * the last step that reads it or any view of it. Values the plan writes itself (fused and GEMM
 * steps, and float32 kernel steps whose op has a write-into kernel) get arena slots, reused once their occupant is dead;
 * an elementwise step may write over an input that dies at that step (in place). Other
 * kernel calls allocate their own results,
 * and graph outputs (and what they view) are allocated fresh per run, since they leave the run,
 * except that an output may take over a donated parameter that dies where it is computed.
 */
final class MemoryPlan {
    /** Slot of each value index, -1 when not in the arena. */
    final int[] slotOf;
    /** Elements (float32) of each slot. */
    final long[] slotElems;
    /** Max over steps of live bytes allocated outside the arena (kernel results that are intermediates). */
    final long freshPeakBytes;
    /** Values that share their buffer with an input, per step (for explain), or -1. */
    final int[] inPlaceOf;
    /**
     * Per value: the kernel-allocated input whose buffer a planned step writes over (in place,
     * the input dying at that step), or -1. This keeps e.g. conv -> relu at one buffer.
     */
    final int[] takesOverBufferOf;

    /** Per step: value defined, values read, whether it is a view of input 0, whether the plan writes it, in-place candidates. */
    record StepUse(int out, int[] reads, boolean view, boolean planned, int[] inPlaceCandidates, long bytes) {}

    MemoryPlan(int values, List<StepUse> steps, boolean[] escapes, boolean[] donated, boolean enabled) {
        int s = steps.size();
        int[] root = new int[values];
        for (int v = 0; v < values; v++) root[v] = v;
        for (StepUse u : steps) if (u.view() && u.reads().length > 0) root[u.out()] = root[u.reads()[0]];
        int[] lastUse = new int[values];
        Arrays.fill(lastUse, -1);
        boolean[] rootEscapes = new boolean[values];
        for (int v = 0; v < values; v++) if (escapes[v]) rootEscapes[root[v]] = true;
        for (int i = 0; i < s; i++) {
            for (int r : steps.get(i).reads()) lastUse[root[r]] = Math.max(lastUse[root[r]], i);
            int o = steps.get(i).out();
            lastUse[root[o]] = Math.max(lastUse[root[o]], i);
        }
        slotOf = new int[values];
        inPlaceOf = new int[s];
        takesOverBufferOf = new int[values];
        int[] takenOverAt = new int[values];
        Arrays.fill(slotOf, -1);
        Arrays.fill(inPlaceOf, -1);
        Arrays.fill(takesOverBufferOf, -1);
        Arrays.fill(takenOverAt, Integer.MAX_VALUE);
        // only buffers a kernel step allocated during this run may be written over: graph inputs
        // (the caller's tensors), parameters and constants (the graph's data) never
        boolean[] kernelResult = new boolean[values];
        for (StepUse u : steps) kernelResult[u.out()] = !u.planned() && !u.view();
        List<long[]> slots = new ArrayList<>(); // {elements, busyUntilStep}
        long freshPeak = 0;
        for (int i = 0; i < s; i++) {
            StepUse u = steps.get(i);
            int o = u.out();
            if (enabled && u.planned() && rootEscapes[o] && root[o] == o) {
                // an output may be written over a donated parameter that dies here (a training
                // step's update over the old parameter): the caller gets that buffer back
                for (int c : u.inPlaceCandidates()) {
                    if (donated[c] && root[c] == c && lastUse[c] == i && !rootEscapes[c] && takenOverAt[c] == Integer.MAX_VALUE && onlyRead(u, c, root)) {
                        takesOverBufferOf[o] = c;
                        takenOverAt[c] = i;
                        inPlaceOf[i] = c;
                        break;
                    }
                }
            }
            if (enabled && u.planned() && !rootEscapes[o]) {
                int chosen = -1;
                for (int c : u.inPlaceCandidates()) {
                    if (slotOf[c] >= 0 && root[c] == c && lastUse[c] == i && onlyRead(u, c, root)) {
                        chosen = slotOf[c];
                        inPlaceOf[i] = c;
                        break;
                    }
                }
                if (chosen < 0) {
                    // a dying kernel-allocated input of the same shape: write over it, no slot needed
                    for (int c : u.inPlaceCandidates()) {
                        if (kernelResult[c] && slotOf[c] < 0 && root[c] == c && lastUse[c] == i && !rootEscapes[c] && onlyRead(u, c, root)) {
                            takesOverBufferOf[o] = c;
                            takenOverAt[c] = i;
                            inPlaceOf[i] = c;
                            break;
                        }
                    }
                }
                long need = u.bytes() / 4;
                if (chosen < 0 && takesOverBufferOf[o] >= 0) {
                    long live = liveFresh(steps, i, slotOf, rootEscapes, lastUse, takenOverAt);
                    freshPeak = Math.max(freshPeak, live);
                    continue;
                }
                if (chosen < 0) chosen = bestFit(slots, need, i);
                if (chosen < 0) {
                    slots.add(new long[] {need, 0});
                    chosen = slots.size() - 1;
                }
                long[] slot = slots.get(chosen);
                slot[0] = Math.max(slot[0], need);
                slot[1] = lastUse[o];
                slotOf[o] = chosen;
            }
            freshPeak = Math.max(freshPeak, liveFresh(steps, i, slotOf, rootEscapes, lastUse, takenOverAt));
        }
        slotElems = new long[slots.size()];
        for (int k = 0; k < slotElems.length; k++) slotElems[k] = slots.get(k)[0];
        freshPeakBytes = freshPeak;
    }

    /** Bytes of kernel-allocated intermediates live at step i (a buffer taken over counts once). */
    private static long liveFresh(List<StepUse> steps, int i, int[] slotOf, boolean[] rootEscapes, int[] lastUse, int[] takenOverAt) {
        long live = 0;
        for (int j = 0; j <= i; j++) {
            StepUse w = steps.get(j);
            int wo = w.out();
            if (w.view() || slotOf[wo] >= 0 || rootEscapes[wo] || lastUse[wo] < i) continue;
            if (takenOverAt[wo] <= i) continue; // its buffer now holds the value that took it over
            live += w.bytes();
        }
        return live;
    }

    /** True when c's buffer is read by step u only through c itself (not also through a view). */
    private static boolean onlyRead(StepUse u, int c, int[] root) {
        for (int r : u.reads()) if (r != c && root[r] == c) return false;
        return true;
    }

    /** The smallest free slot that fits, else the largest free one (it grows); -1 when none is free. */
    private static int bestFit(List<long[]> slots, long need, int step) {
        int fit = -1, largest = -1;
        for (int k = 0; k < slots.size(); k++) {
            long[] sl = slots.get(k);
            if (sl[1] >= step) continue;
            if (sl[0] >= need && (fit < 0 || sl[0] < slots.get(fit)[0])) fit = k;
            if (largest < 0 || sl[0] > slots.get(largest)[0]) largest = k;
        }
        return fit >= 0 ? fit : largest;
    }

    long arenaBytes() {
        long b = 0;
        for (long e : slotElems) b += e * 4;
        return b;
    }
}
