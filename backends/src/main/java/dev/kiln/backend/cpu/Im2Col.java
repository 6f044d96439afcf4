package dev.kiln.backend.cpu;

import dev.kiln.backend.cpu.vector.FloatRows;
import dev.kiln.backend.cpu.vector.VectorSupport;


/**
 * Unfolds image patches into columns (im2col) and folds them back with accumulation
 * (col2im). Geometry: an image of {@code channels x ih x iw}, a grid of {@code gh x gw}
 * window positions, kernel, stride, padding and dilation per axis. Column row
 * {@code (c*kh + ki)*kw + kj} holds, for every grid position, the image value the kernel tap
 * (ki, kj) of channel c sees there (0 in the padding).
 */
record Im2Col(int channels, int ih, int iw, int gh, int gw, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw) {
    private static final FloatRows ROWS = VectorSupport.floatRows();


    int rows() { return channels * kh * kw; }

    int cols() { return gh * gw; }

    /** First grid index along an axis whose tap lands inside [0, size). */
    private static int lo(int base, int stride) { return base >= 0 ? 0 : (-base + stride - 1) / stride; }

    /** One past the last grid index whose tap lands inside [0, size). */
    private static int hi(int base, int stride, int size, int grid) {
        if (base > size - 1) return 0;
        return Math.min(grid, (size - 1 - base) / stride + 1);
    }

    /**
     * A column matrix reused for blocks of up to {@code maxSamples} samples side by side
     * ([K x samples*L], rows {@code samples*L} apart). {@link #unfold} writes only the cells a
     * tap sees inside the image, so the padding cells must be zero; they are the same cells for
     * every block with one row pitch, and {@link #unfoldBlock} clears the matrix whenever the
     * pitch changes (a batch's last, shorter block), instead of re-zeroing every block.
     */
    static final class Columns {
        final Object data;
        private int zeroedPitch;

        /** Pitch 0: a fresh array, all zero, which is right for whatever pitch comes first. */
        private Columns(Object data) {
            this.data = data;
            this.zeroedPitch = 0;
        }
    }

    /** A column buffer of the element type of {@code like} for blocks of up to maxSamples samples. */
    Columns columns(Object like, int maxSamples) { return new Columns(RowOps.allocate(like, rows() * maxSamples * cols())); }

    /**
     * Unfolds samples [0, samples) of a block into {@code cols}, side by side: sample s's image
     * starts at imgOff + s*imgStride and its patches at column s*L. Returns the row pitch.
     */
    int unfoldBlock(Object img, int imgOff, int imgStride, int samples, Columns cols) {
        int l = cols(), ld = samples * l;
        if (cols.zeroedPitch == 0) {
            cols.zeroedPitch = ld;
        } else if (cols.zeroedPitch != ld) {
            // the previous block's image cells may sit where this pitch has padding
            RowOps.zero(cols.data, 0, rows() * ld);
            cols.zeroedPitch = ld;
        }
        for (int s = 0; s < samples; s++) unfold(img, imgOff + s * imgStride, cols.data, s * l, ld);
        return ld;
    }

    /**
     * col[K x L] = patches of image (at imgOff), the K rows {@code ld} apart from colOff (a
     * batch of samples side by side shares one wide column matrix). Only the cells a tap sees
     * inside the image are written: the padding cells of {@code col} must already be zero.
     * Callers go through {@link #unfoldBlock}, which keeps that true; not re-zeroing every block
     * saves thousands of tiny fills per sample on padded convolutions.
     */
    private void unfold(Object img, int imgOff, Object col, int colOff, int ld) {
        int row = 0;
        for (int c = 0; c < channels; c++) {
            int plane = imgOff + c * ih * iw;
            for (int ki = 0; ki < kh; ki++) {
                int hBase = ki * dh - ph;
                int ohLo = lo(hBase, sh), ohHi = Math.max(ohLo, hi(hBase, sh, ih, gh));
                for (int kj = 0; kj < kw; kj++, row++) {
                    int wBase = kj * dw - pw;
                    int owLo = lo(wBase, sw), owHi = Math.max(owLo, hi(wBase, sw, iw, gw));
                    int r0 = colOff + row * ld;
                    if (owHi <= owLo) continue;
                    int len = owHi - owLo;
                    if (img instanceof float[] src && sw == 1) {
                        // the common case, without per-row type dispatch: these rows are 5-28
                        // floats, where one masked vector copy each beats an arraycopy call
                        ROWS.copyRows(src, plane + (ohLo * sh + hBase) * iw + owLo + wBase, sh * iw,
                                (float[]) col, r0 + ohLo * gw + owLo, gw, ohHi - ohLo, len);
                        continue;
                    }
                    for (int oh = ohLo; oh < ohHi; oh++) {
                        RowOps.copy(img, plane + (oh * sh + hBase) * iw + owLo * sw + wBase, sw, col, r0 + oh * gw + owLo, len);
                    }
                }
            }
        }
    }

    /** image (at imgOff) += the patches in col[K x L] (rows {@code ld} apart from colOff), overlapping taps summed. */
    void fold(Object col, int colOff, int ld, Object img, int imgOff) {
        int row = 0;
        for (int c = 0; c < channels; c++) {
            int plane = imgOff + c * ih * iw;
            for (int ki = 0; ki < kh; ki++) {
                int hBase = ki * dh - ph;
                int ohLo = lo(hBase, sh), ohHi = hi(hBase, sh, ih, gh);
                for (int kj = 0; kj < kw; kj++, row++) {
                    int wBase = kj * dw - pw;
                    int owLo = lo(wBase, sw), owHi = hi(wBase, sw, iw, gw);
                    if (owHi <= owLo) continue;
                    int len = owHi - owLo;
                    if (col instanceof float[] src && sw == 1) {
                        // inlined for the common case. Masked vector adds measured slower here:
                        // successive taps update overlapping image rows shifted by one, and a
                        // masked store does not forward to the next overlapping load
                        float[] dst = (float[]) img;
                        for (int oh = ohLo; oh < ohHi; oh++) {
                            int si = colOff + row * ld + oh * gw + owLo, di = plane + (oh * sh + hBase) * iw + owLo + wBase;
                            for (int t = 0; t < len; t++) dst[di + t] += src[si + t];
                        }
                        continue;
                    }
                    for (int oh = ohLo; oh < ohHi; oh++) {
                        RowOps.add(col, colOff + row * ld + oh * gw + owLo, img, plane + (oh * sh + hBase) * iw + owLo * sw + wBase, sw, len);
                    }
                }
            }
        }
    }
}
