// Tiled shared-memory GEMM, C = A @ B (+ C when accumulate), batched over gridDim.z.
// Why not cuBLAS: org.jcuda:jcublas would add a second native library (and libcublas, ~100 MB)
// whose loading can fail independently of the driver; one self-contained kernel keeps the
// backend's native surface to the driver and NVRTC. It is a 64x64 tile with a 4x4 register
// block per thread; cuBLAS is faster on large matrices (docs/cuda.md has the numbers to take).
//
// A and B are strided views: element (i, k) of A is A[i * sam + k * sak], so transposed
// operands (the matmul gradients) need no copy. C is row-major with leading dimension ldc.

#define KILN_TM 64
#define KILN_TN 64
#define KILN_TK 16
#define KILN_GEMM_THREADS 256

template <typename T>
__device__ void gemm_tiled(int M, int N, int K, const T* A, int sam, int sak, long long bsa, const T* B, int sbk, int sbn,
                           long long bsb, T* C, int ldc, long long bsc, int accumulate) {
    __shared__ T As[KILN_TK][KILN_TM];
    __shared__ T Bs[KILN_TK][KILN_TN];
    A += blockIdx.z * bsa;
    B += blockIdx.z * bsb;
    C += blockIdx.z * bsc;
    int row0 = blockIdx.y * KILN_TM, col0 = blockIdx.x * KILN_TN;
    int tx = threadIdx.x % 16, ty = threadIdx.x / 16;
    T acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) acc[i][j] = T(0);
    for (int k0 = 0; k0 < K; k0 += KILN_TK) {
        // 1024 elements per tile, 256 threads: four loads each. Out-of-range loads are 0, so
        // ragged edges need no special case in the inner loop.
        for (int l = 0; l < 4; l++) {
            int idx = threadIdx.x + KILN_GEMM_THREADS * l;
            int m = idx / KILN_TK, kk = idx % KILN_TK;
            int gi = row0 + m, gk = k0 + kk;
            As[kk][m] = (gi < M && gk < K) ? A[(long long) gi * sam + (long long) gk * sak] : T(0);
            int kb = idx / KILN_TN, n = idx % KILN_TN;
            int gkb = k0 + kb, gj = col0 + n;
            Bs[kb][n] = (gkb < K && gj < N) ? B[(long long) gkb * sbk + (long long) gj * sbn] : T(0);
        }
        __syncthreads();
        for (int kk = 0; kk < KILN_TK; kk++) {
            T a[4], b[4];
            // rows ty + 16 i and columns tx + 16 j: neighbouring threads read neighbouring words
            for (int i = 0; i < 4; i++) a[i] = As[kk][ty + 16 * i];
            for (int j = 0; j < 4; j++) b[j] = Bs[kk][tx + 16 * j];
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 4; j++) acc[i][j] += a[i] * b[j];
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; i++) {
        int gi = row0 + ty + 16 * i;
        if (gi >= M) continue;
        for (int j = 0; j < 4; j++) {
            int gj = col0 + tx + 16 * j;
            if (gj >= N) continue;
            long long at = (long long) gi * ldc + gj;
            // never read C unless asked: fresh buffers from the caching allocator hold garbage
            C[at] = accumulate ? C[at] + acc[i][j] : acc[i][j];
        }
    }
}

// Launch with blockDim.x == KILN_GEMM_THREADS and grid (ceil(N/64), ceil(M/64), batch).
extern "C" __global__ void kiln_sgemm(int M, int N, int K, const float* A, int sam, int sak, long long bsa, const float* B,
                                      int sbk, int sbn, long long bsb, float* C, int ldc, long long bsc, int accumulate) {
    gemm_tiled<float>(M, N, K, A, sam, sak, bsa, B, sbk, sbn, bsb, C, ldc, bsc, accumulate);
}

extern "C" __global__ void kiln_dgemm(int M, int N, int K, const double* A, int sam, int sak, long long bsa, const double* B,
                                      int sbk, int sbn, long long bsb, double* C, int ldc, long long bsc, int accumulate) {
    gemm_tiled<double>(M, N, K, A, sam, sak, bsa, B, sbk, sbn, bsb, C, ldc, bsc, accumulate);
}
