// max_pool2d_indices: for each window of a contiguous x [N,C,H,W], the index h*W + w (within
// its plane) of the maximum, as i64. Padding cells never win; the first maximum wins ties;
// NaN counts as the maximum and a later NaN replaces an earlier one (PyTorch's rule,
// "val > maxval || isnan(val)"), as the CPU kernel does.

struct KPool { int C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo; };

template <typename T>
__device__ void maxpool_indices(int total, const T* x, const KPool& g, kiln_i64* out) {
    KILN_GRID_STRIDE(idx, total) {
        int ow = idx % g.Wo;
        int t = idx / g.Wo;
        int oh = t % g.Ho;
        int plane = t / g.Ho;  // n * C + c
        const T* p = x + (long long) plane * g.H * g.W;
        int best = -1;
        T bv = T(0);
        for (int i = 0; i < g.kh; i++) {
            int h = oh * g.sh - g.ph + i * g.dh;
            if (h < 0 || h >= g.H) continue;
            for (int j = 0; j < g.kw; j++) {
                int w = ow * g.sw - g.pw + j * g.dw;
                if (w < 0 || w >= g.W) continue;
                T v = p[h * g.W + w];
                if (best < 0 || v > bv || k_isnan(v)) {
                    best = h * g.W + w;
                    bv = v;
                }
            }
        }
        out[idx] = best < 0 ? 0 : best;
    }
}

extern "C" __global__ void kiln_maxpool_indices_f32(int total, const float* x, KPool g, kiln_i64* out) { maxpool_indices<float>(total, x, g, out); }
extern "C" __global__ void kiln_maxpool_indices_f64(int total, const double* x, KPool g, kiln_i64* out) { maxpool_indices<double>(total, x, g, out); }
