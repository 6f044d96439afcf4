package dev.kiln.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.backend.DType;
import dev.kiln.backend.Strided;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Large strided walks run in parallel ranges of rows: every row still visited once, at its
 * own output offset with its own input offsets, whatever range it lands in. Sizes around the
 * split (two ranges of 2^16 elements) and rows that do not divide it.
 */
class StridedLoopTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 255, 256, 257, 511, 4096, 4099})
    void everyRowIsVisitedOnceAtItsOffsets(int rows) {
        int n = 512;
        // input 0: a row-broadcast operand [n]; input 1: a transposed [n, rows] buffer read as [rows, n]
        int[] shape = {rows, n};
        int[][] strides = {{0, 1}, {1, rows}};
        int[] visits = new int[rows * n];
        int[] seen0 = new int[rows * n], seen1 = new int[rows * n];
        StridedLoop.forEachRow(shape, strides, new int[] {3, 5}, (outOff, offs, st, len) -> {
            for (int i = 0; i < len; i++) {
                visits[outOff + i]++;
                seen0[outOff + i] = offs[0] + i * st[0];
                seen1[outOff + i] = offs[1] + i * st[1];
            }
        });
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < n; c++) {
                int o = r * n + c;
                assertEquals(1, visits[o], "visits of " + r + "," + c);
                assertEquals(3 + c, seen0[o], "broadcast offset at " + r + "," + c);
                assertEquals(5 + r + c * rows, seen1[o], "transposed offset at " + r + "," + c);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {3, 130, 257, 1031})
    void aBroadcastAddAndATransposingCopyMatchPlainLoops(int rows) {
        int n = 384;
        float[] x = new float[rows * n], b = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i * 0.37);
        for (int i = 0; i < n; i++) b[i] = i * 0.25f;
        Strided xs = new Strided(dev.kiln.backend.Storage.wrap(x), new int[] {rows, n}, new int[] {n, 1}, 0);
        Strided bs = new Strided(dev.kiln.backend.Storage.wrap(b), new int[] {n}, new int[] {1}, 0);
        Strided sum = CpuKernels.run(dev.kiln.backend.op.Op.ADD, new Strided[] {xs, bs}, dev.kiln.backend.op.Attrs.EMPTY,
                dev.kiln.backend.shape.TensorType.of(DType.FLOAT32, rows, n));
        float[] s = sum.storage().f32();
        for (int r = 0; r < rows; r++) for (int c = 0; c < n; c++) assertEquals(x[r * n + c] + b[c], s[sum.offset() + r * n + c], 0f, "add at " + r + "," + c);
        // the transpose [n, rows] of x, made contiguous
        Strided t = Copy.toContiguous(new Strided(xs.storage(), new int[] {n, rows}, new int[] {1, n}, 0), DType.FLOAT32);
        float[] tt = t.storage().f32();
        for (int c = 0; c < n; c++) for (int r = 0; r < rows; r++) assertEquals(x[r * n + c], tt[c * rows + r], 0f, "transpose at " + c + "," + r);
    }

    /** A copy between overlapping views of one buffer runs its rows in order, as a serial copy would. */
    @ParameterizedTest
    @ValueSource(ints = {4, 600})
    void aCopyWithinOneBufferKeepsTheSerialOrder(int rows) {
        int n = 512;
        float[] buf = new float[(rows + 1) * n];
        for (int i = 0; i < buf.length; i++) buf[i] = i;
        float[] expected = buf.clone();
        // dst rows 1..rows <- src rows 0..rows-1, n - 1 wide (so the rows cannot merge into one
        // memmove): in row order each row reads what the row before it has just written
        for (int r = 0; r < rows; r++) System.arraycopy(expected, r * n, expected, (r + 1) * n, n - 1);
        dev.kiln.backend.Storage st = dev.kiln.backend.Storage.wrap(buf);
        Copy.copyInto(new Strided(st, new int[] {rows, n - 1}, new int[] {n, 1}, 0), new Strided(st, new int[] {rows, n - 1}, new int[] {n, 1}, n));
        assertEquals(Arrays.toString(Arrays.copyOf(expected, 8)), Arrays.toString(Arrays.copyOf(buf, 8)));
        for (int i = 0; i < buf.length; i++) assertEquals(expected[i], buf[i], 0f, "element " + i);
    }
}
