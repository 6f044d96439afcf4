// softmax / log_softmax along one dim. The host permutes that dim last for both the input
// view and the (contiguous) output, so row r, element j sits at row-major position
// r * len + j of both permuted views. One block per row: max, then sum of exp(x - max),
// then the write, each a shared-memory tree reduction (f32 accumulates the sum in f64).

#define KILN_SOFTMAX_THREADS 256

template <typename T>
__device__ void softmax_rows(int logMode, int rows, int len, const KShape& sh, const T* x, const KStrides& sx, int ox,
                             T* out, const KStrides& so) {
    __shared__ double part[KILN_SOFTMAX_THREADS];
    for (int r = blockIdx.x; r < rows; r += gridDim.x) {
        double m = -kiln_pos_inf(0.0);
        for (int j = threadIdx.x; j < len; j += blockDim.x) m = k_maximum(m, (double) x[kiln_offset(r * len + j, sh, sx, ox)]);
        part[threadIdx.x] = m;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) part[threadIdx.x] = k_maximum(part[threadIdx.x], part[threadIdx.x + s]);
            __syncthreads();
        }
        m = part[0];
        __syncthreads();
        double sum = 0.0;
        for (int j = threadIdx.x; j < len; j += blockDim.x) sum += exp((double) x[kiln_offset(r * len + j, sh, sx, ox)] - m);
        part[threadIdx.x] = sum;
        __syncthreads();
        for (int s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
            __syncthreads();
        }
        sum = part[0];
        __syncthreads();
        double logSum = log(sum);
        for (int j = threadIdx.x; j < len; j += blockDim.x) {
            int flat = r * len + j;
            double v = (double) x[kiln_offset(flat, sh, sx, ox)] - m;
            out[kiln_offset(flat, sh, so, 0)] = (T) (logMode ? v - logSum : exp(v) / sum);
        }
    }
}

// Launch with blockDim.x == KILN_SOFTMAX_THREADS (a power of two).
extern "C" __global__ void kiln_softmax_f32(int logMode, int rows, int len, KShape sh, const float* x, KStrides sx, int ox,
                                            float* out, KStrides so) {
    softmax_rows<float>(logMode, rows, len, sh, x, sx, ox, out, so);
}

extern "C" __global__ void kiln_softmax_f64(int logMode, int rows, int len, KShape sh, const double* x, KStrides sx, int ox,
                                            double* out, KStrides so) {
    softmax_rows<double>(logMode, rows, len, sh, x, sx, ox, out, so);
}
