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

// The large-matrix float kernel: 128x128 tiles, k steps of 8, an 8x8 register block per
// thread (two 4x4 quadrants 64 apart, so shared-memory reads are float4 and conflict-free),
// and two shared buffers: the next k step is fetched into registers while this one is
// multiplied, so one barrier per step suffices. Each thread fetches 4 elements of each tile,
// walking along whichever index has unit stride, so a warp's loads coalesce for row-major and
// transposed operands alike. Rows of the shared tiles are padded by 4 floats to keep those
// transposing stores off a single bank. Launch with 256 threads and grid
// (ceil(N/128), ceil(M/128), batch); gemm() picks it when M and N are both at least 128.
#define KILN_BM 128
#define KILN_BN 128
#define KILN_BK 8
#define KILN_PAD 4

extern "C" __global__ void __launch_bounds__(256, 2) kiln_sgemm_128(int M, int N, int K, const float* A, int sam, int sak, long long bsa,
                                                                 const float* B, int sbk, int sbn, long long bsb, float* C, int ldc,
                                                                 long long bsc, int accumulate) {
    __shared__ __align__(16) float As[2][KILN_BK][KILN_BM + KILN_PAD];
    __shared__ __align__(16) float Bs[2][KILN_BK][KILN_BN + KILN_PAD];
    A += blockIdx.z * bsa;
    B += blockIdx.z * bsb;
    C += blockIdx.z * bsc;
    const int row0 = blockIdx.y * KILN_BM, col0 = blockIdx.x * KILN_BN;
    const int tx = threadIdx.x % 16, ty = threadIdx.x / 16;

    // load l of a thread fetches tile element (m0 + l * dm, k0 + l * dk) of A, likewise for B
    int am0, ak0, adm, adk, bk0, bn0, bdk, bdn;
    if (sak == 1) { am0 = threadIdx.x / KILN_BK; ak0 = threadIdx.x % KILN_BK; adm = 256 / KILN_BK; adk = 0; }
    else { am0 = threadIdx.x % KILN_BM; ak0 = threadIdx.x / KILN_BM; adm = 0; adk = 256 / KILN_BM; }
    if (sbn == 1) { bn0 = threadIdx.x % KILN_BN; bk0 = threadIdx.x / KILN_BN; bdn = 0; bdk = 256 / KILN_BN; }
    else { bn0 = threadIdx.x / KILN_BK; bk0 = threadIdx.x % KILN_BK; bdn = 256 / KILN_BK; bdk = 0; }
    float ra[4], rb[4];
#define KILN_FETCH(k0)                                                                                        \
    for (int l = 0; l < 4; l++) {                                                                             \
        int gi = row0 + am0 + l * adm, gk = (k0) + ak0 + l * adk;                                             \
        ra[l] = (gi < M && gk < K) ? A[(long long) gi * sam + (long long) gk * sak] : 0.0f;                   \
        int gkb = (k0) + bk0 + l * bdk, gj = col0 + bn0 + l * bdn;                                            \
        rb[l] = (gkb < K && gj < N) ? B[(long long) gkb * sbk + (long long) gj * sbn] : 0.0f;                 \
    }
#define KILN_STASH(buf)                                                                                       \
    for (int l = 0; l < 4; l++) {                                                                             \
        As[buf][ak0 + l * adk][am0 + l * adm] = ra[l];                                                        \
        Bs[buf][bk0 + l * bdk][bn0 + l * bdn] = rb[l];                                                        \
    }

    float acc[8][8];
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 8; j++) acc[i][j] = 0.0f;
    KILN_FETCH(0)
    KILN_STASH(0)
    __syncthreads();
    int buf = 0;
    for (int k0 = 0; k0 < K; k0 += KILN_BK) {
        bool more = k0 + KILN_BK < K;
        if (more) { KILN_FETCH(k0 + KILN_BK) }
#pragma unroll
        for (int kk = 0; kk < KILN_BK; kk++) {
            float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][ty * 4]);
            float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][64 + ty * 4]);
            float4 b0 = *reinterpret_cast<const float4*>(&Bs[buf][kk][tx * 4]);
            float4 b1 = *reinterpret_cast<const float4*>(&Bs[buf][kk][64 + tx * 4]);
            float a[8] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
            float b[8] = {b0.x, b0.y, b0.z, b0.w, b1.x, b1.y, b1.z, b1.w};
#pragma unroll
            for (int i = 0; i < 8; i++)
#pragma unroll
                for (int j = 0; j < 8; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        if (more) { KILN_STASH(buf ^ 1) }
        __syncthreads();
        buf ^= 1;
    }
#undef KILN_FETCH
#undef KILN_STASH
    for (int i = 0; i < 8; i++) {
        int gi = row0 + (i < 4 ? ty * 4 + i : 64 + ty * 4 + i - 4);
        if (gi >= M) continue;
        for (int j = 0; j < 8; j++) {
            int gj = col0 + (j < 4 ? tx * 4 + j : 64 + tx * 4 + j - 4);
            if (gj >= N) continue;
            long long at = (long long) gi * ldc + gj;
            C[at] = accumulate ? C[at] + acc[i][j] : acc[i][j];
        }
    }
}
