// Convolution as GEMM. im2col unfolds a contiguous x [N,C,H,W] into cols [N, C*kh*kw, Ho*Wo]
// (row (c*kh + i)*kw + j, column oh*Wo + ow), so conv2d is the batched GEMM
// w[O, C*kh*kw] @ cols[n]. col2im is its adjoint (sums the overlapping window entries back
// into [N,C,H,W]); it gathers per input pixel instead of scattering, so it needs no atomics
// and its summation order is fixed.

struct KConv { int C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo; };

template <typename T>
__device__ void im2col(int total, const T* x, const KConv& g, T* cols) {
    KILN_GRID_STRIDE(idx, total) {
        int ow = idx % g.Wo;
        int t = idx / g.Wo;
        int oh = t % g.Ho;
        t /= g.Ho;
        int j = t % g.kw;
        t /= g.kw;
        int i = t % g.kh;
        t /= g.kh;
        int c = t % g.C;
        int n = t / g.C;
        int h = oh * g.sh - g.ph + i * g.dh;
        int w = ow * g.sw - g.pw + j * g.dw;
        cols[idx] = (h >= 0 && h < g.H && w >= 0 && w < g.W) ? x[((n * g.C + c) * g.H + h) * g.W + w] : T(0);
    }
}

template <typename T>
__device__ void col2im(int total, const T* cols, const KConv& g, T* x) {
    KILN_GRID_STRIDE(idx, total) {
        int w = idx % g.W;
        int t = idx / g.W;
        int h = t % g.H;
        t /= g.H;
        int c = t % g.C;
        int n = t / g.C;
        T acc = T(0);
        for (int i = 0; i < g.kh; i++) {
            int hs = h + g.ph - i * g.dh;  // = oh * sh when this window row touches (h, w)
            if (hs < 0 || hs % g.sh != 0) continue;
            int oh = hs / g.sh;
            if (oh >= g.Ho) continue;
            for (int j = 0; j < g.kw; j++) {
                int ws = w + g.pw - j * g.dw;
                if (ws < 0 || ws % g.sw != 0) continue;
                int ow = ws / g.sw;
                if (ow >= g.Wo) continue;
                int row = (c * g.kh + i) * g.kw + j;
                acc += cols[((long long) n * g.C * g.kh * g.kw + row) * g.Ho * g.Wo + oh * g.Wo + ow];
            }
        }
        x[idx] = acc;
    }
}

extern "C" __global__ void kiln_im2col_f32(int total, const float* x, KConv g, float* cols) { im2col<float>(total, x, g, cols); }
extern "C" __global__ void kiln_im2col_f64(int total, const double* x, KConv g, double* cols) { im2col<double>(total, x, g, cols); }
extern "C" __global__ void kiln_col2im_f32(int total, const float* cols, KConv g, float* x) { col2im<float>(total, cols, g, x); }
extern "C" __global__ void kiln_col2im_f64(int total, const double* cols, KConv g, double* x) { col2im<double>(total, cols, g, x); }
