package dev.kiln.graph.exec;

import dev.kiln.backend.DType;
import dev.kiln.backend.Storage;
import dev.kiln.backend.Strided;
import dev.kiln.backend.cpu.parallel.Parallel;

/**
 * The mutable state of one run: the value table, the slot buffers (with a ready-made view per
 * planned value) and the fused loops' scratch blocks. A plan keeps a pool of these; a run
 * borrows one, so concurrent runs of one plan never share a buffer.
 */
final class Arena {
    final Strided[] env;
    final Strided[] slotViews;
    /** A GEMM product that cannot land in its output yet (see FusedStep): grown on demand, reused. */
    private float[] product = new float[0];

    float[] product(int numel) {
        if (product.length < numel) product = new float[numel];
        return product;
    }

    /** Scratch blocks per part of a fused loop split over {@link Parallel}: part p uses blocks[p]. */
    final Blocks[] blocks;

    /** One thread's registers (scratch) and loaded external operands (ext) of a fused loop. */
    static final class Blocks {
        final float[][] scratch;
        /** Allocated on first use: most externals are read in place (dense or scalar) and never need one. */
        private final float[][] ext;
        private final int blockSize;

        Blocks(Plan p) {
            scratch = new float[p.maxScratch][p.blockSize];
            ext = new float[p.maxExternals][];
            blockSize = p.blockSize;
        }

        float[] ext(int k) {
            float[] b = ext[k];
            if (b == null) ext[k] = b = new float[blockSize];
            return b;
        }
    }

    Arena(Plan p) {
        env = new Strided[p.valueCount];
        Storage[] slots = new Storage[p.memory.slotElems.length];
        for (int s = 0; s < slots.length; s++) slots[s] = Storage.allocate(DType.FLOAT32, p.memory.slotElems[s]);
        slotViews = new Strided[p.valueCount];
        for (int v = 0; v < p.valueCount; v++) {
            int s = p.memory.slotOf[v];
            if (s >= 0) slotViews[v] = Strided.contiguous(slots[s], p.shapes[v]);
        }
        blocks = new Blocks[Parallel.threads()];
        for (int i = 0; i < blocks.length; i++) blocks[i] = new Blocks(p);
    }
}
