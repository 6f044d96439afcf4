// scaled_dot_product_attention and its gradient (Op.java defines both; AttentionKernels.java is
// the CPU kernel these follow). q [H, L, E], k [H, S, E], v [H, S, Ev], out [H, L, Ev] are
// contiguous, H being every batch dim flattened. One block serves one query row (forward, the
// row statistics, dq) or one key row (dk, dv) at a time: its threads take one key (or query)
// each, a tile of blockDim keys per step, so memory is O(blockDim + Ev) per block and the L x S
// score matrix never exists. The forward keeps an online softmax (a running maximum and sum
// rescale the accumulated row); the gradients recompute the scores from the row's log-sum-exp.
//
// The mask: kind 0 none, 1 bool (keep where true), 2 additive (of the scores' dtype). Its
// offset for head h is kiln_offset(h, msh, mst, mo) over the batch dims (stride 0 where it
// broadcasts), then i * mrs + j * mcs for query i and key j. causal hides key j > query i.

#define KILN_ATTENTION_THREADS 128

// Passed as ints (KernelArgs packs structs of ints), with the scale beside it as a double.
struct KAttentionDims {
    int heads, l, s, e, ev, causal, maskKind, mo, mrs, mcs;
};

struct KAttention {
    int heads, l, s, e, ev, causal, maskKind, mo, mrs, mcs;
    double scale;
};

__device__ __forceinline__ KAttention attention_params(const KAttentionDims& d, double scale) {
    KAttention p = {d.heads, d.l, d.s, d.e, d.ev, d.causal, d.maskKind, d.mo, d.mrs, d.mcs, scale};
    return p;
}

// The score of query i against key j of head h: q.k * scale plus the mask, -inf when hidden.
template <typename T>
__device__ double attention_score(const KAttention& p, int h, int i, int j, const T* q, const T* k, const void* mask,
                                  const KShape& msh, const KStrides& mst) {
    if (p.causal && j > i) return -kiln_pos_inf(0.0);
    const T* qi = q + ((long long) h * p.l + i) * p.e;
    const T* kj = k + ((long long) h * p.s + j) * p.e;
    double d = 0.0;
    for (int c = 0; c < p.e; c++) d += (double) qi[c] * (double) kj[c];
    d *= p.scale;
    if (p.maskKind != 0) {
        int m = kiln_offset(h, msh, mst, p.mo) + i * p.mrs + j * p.mcs;
        if (p.maskKind == 1) {
            if (!((const kiln_bool*) mask)[m]) return -kiln_pos_inf(0.0);
        } else {
            d += (double) ((const T*) mask)[m];
        }
    }
    return d;
}

// The larger of a and b, NaN when either is (CUDA's fmax drops a NaN; the CPU kernel's
// Math.max keeps it, and a NaN score must make its row NaN here too).
__device__ __forceinline__ double attention_max(double a, double b) { return (a != a || a > b) ? a : b; }

// Block-wide reductions over KILN_ATTENTION_THREADS values in red; every thread gets the result.
__device__ double attention_block_max(double x, double* red) {
    red[threadIdx.x] = x;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] = attention_max(red[threadIdx.x], red[threadIdx.x + s]);
        __syncthreads();
    }
    double r = red[0];
    __syncthreads();
    return r;
}

__device__ double attention_block_sum(double x, double* red) {
    red[threadIdx.x] = x;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) red[threadIdx.x] += red[threadIdx.x + s];
        __syncthreads();
    }
    double r = red[0];
    __syncthreads();
    return r;
}

// Keys query i sees: all S, or under the causal rule those up to i.
__device__ __forceinline__ int attention_keys(const KAttention& p, int i) { return p.causal ? min(p.s, i + 1) : p.s; }

// out = softmax(scores) @ v, row by row, when out is non-null; lse, when non-null, receives each
// row's log-sum-exp (the gradients' first pass runs this same loop without an output).
template <typename T>
__device__ void attention_rows(const KAttention& p, const T* q, const T* k, const T* v, const void* mask, const KShape& msh,
                               const KStrides& mst, T* out, double* lse) {
    __shared__ double red[KILN_ATTENTION_THREADS];
    __shared__ double prob[KILN_ATTENTION_THREADS];
    for (int row = blockIdx.x; row < p.heads * p.l; row += gridDim.x) {
        int h = row / p.l, i = row % p.l, keys = attention_keys(p, i);
        T* o = out == nullptr ? nullptr : out + (long long) row * p.ev;
        if (o != nullptr) for (int c = threadIdx.x; c < p.ev; c += blockDim.x) o[c] = T(0);
        double m = -kiln_pos_inf(0.0), sum = 0.0;
        for (int j0 = 0; j0 < keys; j0 += blockDim.x) {
            int j = j0 + threadIdx.x, n = min((int) blockDim.x, keys - j0);
            double sc = j < keys ? attention_score(p, h, i, j, q, k, mask, msh, mst) : -kiln_pos_inf(0.0);
            double mNew = attention_max(m, attention_block_max(sc, red));
            if (mNew == -kiln_pos_inf(0.0)) continue; // every key so far hidden: nothing to add (uniform across the block)
            double alpha = m == -kiln_pos_inf(0.0) ? 0.0 : exp(m - mNew);
            double e = j < keys ? exp(sc - mNew) : 0.0;
            prob[threadIdx.x] = e;
            sum = sum * alpha + attention_block_sum(e, red); // the sum's barriers also publish prob
            m = mNew;
            if (o != nullptr) for (int c = threadIdx.x; c < p.ev; c += blockDim.x) {
                double acc = (double) o[c] * alpha;
                for (int t = 0; t < n; t++) acc += prob[t] * (double) v[((long long) h * p.s + j0 + t) * p.ev + c];
                o[c] = (T) acc;
            }
            __syncthreads(); // prob is rewritten by the next tile
        }
        // a row with no key left (m still -inf) is 0, as PyTorch's safe softmax (2.5 on) and the
        // CPU kernel give; a NaN score's row stays NaN
        double inv = m == -kiln_pos_inf(0.0) ? 0.0 : 1.0 / sum;
        if (o != nullptr) for (int c = threadIdx.x; c < p.ev; c += blockDim.x) o[c] = (T) ((double) o[c] * inv);
        if (lse != nullptr && threadIdx.x == 0) lse[row] = m + log(sum);
        __syncthreads();
    }
}

// Launch with blockDim.x == KILN_ATTENTION_THREADS (a power of two).
template <typename T>
__device__ void attention_forward(KAttention p, const T* q, const T* k, const T* v, const void* mask, KShape msh, KStrides mst, T* out) {
    attention_rows<T>(p, q, k, v, mask, msh, mst, out, nullptr);
}

// The gradients' first pass: each query row's log-sum-exp (lse) and D = dot(dO, O) (dot), O
// being the forward's output the gradient op is given (as the CPU kernel reads it).
template <typename T>
__device__ void attention_stats(KAttention p, const T* q, const T* k, const T* v, const void* mask, KShape msh, KStrides mst,
                                const T* out, const T* gout, double* lse, double* dot) {
    attention_rows<T>(p, q, k, v, mask, msh, mst, (T*) nullptr, lse);
    __shared__ double red[KILN_ATTENTION_THREADS];
    for (int row = blockIdx.x; row < p.heads * p.l; row += gridDim.x) {
        double d = 0.0;
        for (int c = threadIdx.x; c < p.ev; c += blockDim.x) d += (double) gout[(long long) row * p.ev + c] * (double) out[(long long) row * p.ev + c];
        d = attention_block_sum(d, red);
        if (threadIdx.x == 0) dot[row] = d;
    }
}

// P_ij from the score and row i's log-sum-exp: 0 for a row that sees no key (lse -inf), whose
// output is 0 and which adds nothing to any gradient.
__device__ __forceinline__ double attention_prob(double score, double lse) { return lse == -kiln_pos_inf(0.0) ? 0.0 : exp(score - lse); }

// dq: for query row i, sum over keys j of dS_ij * k_j * scale, dS_ij = P_ij (dO_i . v_j - D_i).
template <typename T>
__device__ void attention_grad_q(KAttention p, const T* q, const T* k, const T* v, const void* mask, KShape msh, KStrides mst,
                                 const T* gout, const double* lse, const double* dot, T* g) {
    __shared__ double ds[KILN_ATTENTION_THREADS];
    for (int row = blockIdx.x; row < p.heads * p.l; row += gridDim.x) {
        int h = row / p.l, i = row % p.l, keys = attention_keys(p, i);
        T* gi = g + (long long) row * p.e;
        const T* doi = gout + (long long) row * p.ev;
        for (int c = threadIdx.x; c < p.e; c += blockDim.x) gi[c] = T(0);
        for (int j0 = 0; j0 < keys; j0 += blockDim.x) {
            int j = j0 + threadIdx.x, n = min((int) blockDim.x, keys - j0);
            double w = 0.0;
            if (j < keys) {
                double prob = attention_prob(attention_score(p, h, i, j, q, k, mask, msh, mst), lse[row]);
                const T* vj = v + ((long long) h * p.s + j) * p.ev;
                double dp = 0.0;
                for (int c = 0; c < p.ev; c++) dp += (double) doi[c] * (double) vj[c];
                w = prob * (dp - dot[row]);
            }
            ds[threadIdx.x] = w;
            __syncthreads();
            for (int c = threadIdx.x; c < p.e; c += blockDim.x) {
                double acc = (double) gi[c];
                for (int t = 0; t < n; t++) acc += ds[t] * (double) k[((long long) h * p.s + j0 + t) * p.e + c];
                gi[c] = (T) acc;
            }
            __syncthreads();
        }
        for (int c = threadIdx.x; c < p.e; c += blockDim.x) gi[c] = (T) ((double) gi[c] * p.scale);
        __syncthreads();
    }
}

// dk (forK) or dv: for key row j, a sum over the queries i that see it of dS_ij * q_i * scale
// (dk) or P_ij * dO_i (dv).
template <typename T>
__device__ void attention_grad_kv(int forK, KAttention p, const T* q, const T* k, const T* v, const void* mask, KShape msh,
                                  KStrides mst, const T* gout, const double* lse, const double* dot, T* g) {
    __shared__ double w[KILN_ATTENTION_THREADS];
    int width = forK ? p.e : p.ev;
    for (int krow = blockIdx.x; krow < p.heads * p.s; krow += gridDim.x) {
        int h = krow / p.s, j = krow % p.s, first = p.causal ? min(j, p.l) : 0;
        T* gj = g + (long long) krow * width;
        const T* vj = v + (long long) krow * p.ev;
        // A query row of this head with a NaN score (lse NaN) has NaN probabilities at every key,
        // so every key's gradient is NaN, as PyTorch's P^T dO gives and the CPU kernel follows;
        // the causal loop below would skip the queries before j.
        double dead = 0.0;
        for (int i = threadIdx.x; i < p.l; i += blockDim.x) {
            if (k_isnan(lse[h * p.l + i])) dead = 1.0;
        }
        if (attention_block_max(dead, w) != 0.0) { // uniform across the block
            for (int c = threadIdx.x; c < width; c += blockDim.x) gj[c] = (T) __longlong_as_double(0x7ff8000000000000LL);
            __syncthreads();
            continue;
        }
        for (int c = threadIdx.x; c < width; c += blockDim.x) gj[c] = T(0);
        for (int i0 = first; i0 < p.l; i0 += blockDim.x) {
            int i = i0 + threadIdx.x, n = min((int) blockDim.x, p.l - i0);
            double x = 0.0;
            if (i < p.l) {
                int row = h * p.l + i;
                double prob = attention_prob(attention_score(p, h, i, j, q, k, mask, msh, mst), lse[row]);
                if (forK) {
                    const T* doi = gout + (long long) row * p.ev;
                    double dp = 0.0;
                    for (int c = 0; c < p.ev; c++) dp += (double) doi[c] * (double) vj[c];
                    x = prob * (dp - dot[row]);
                } else {
                    x = prob;
                }
            }
            w[threadIdx.x] = x;
            __syncthreads();
            const T* src = forK ? q : gout;
            for (int c = threadIdx.x; c < width; c += blockDim.x) {
                double acc = (double) gj[c];
                for (int t = 0; t < n; t++) acc += w[t] * (double) src[((long long) h * p.l + i0 + t) * width + c];
                gj[c] = (T) acc;
            }
            __syncthreads();
        }
        if (forK) for (int c = threadIdx.x; c < width; c += blockDim.x) gj[c] = (T) ((double) gj[c] * p.scale);
        __syncthreads();
    }
}

#define KILN_ATTENTION_KERNELS(T, SFX)                                                                                                            \
    extern "C" __global__ void kiln_attention_##SFX(KAttentionDims d, double scale, const T* q, const T* k, const T* v, const void* mask,         \
                                                    KShape msh, KStrides mst, T* out) {                                                           \
        attention_forward<T>(attention_params(d, scale), q, k, v, mask, msh, mst, out);                                                           \
    }                                                                                                                                             \
    extern "C" __global__ void kiln_attention_stats_##SFX(KAttentionDims d, double scale, const T* q, const T* k, const T* v, const void* mask,   \
                                                          KShape msh, KStrides mst, const T* out, const T* gout, double* lse,                       \
                                                          double* dot) {                                                                          \
        attention_stats<T>(attention_params(d, scale), q, k, v, mask, msh, mst, out, gout, lse, dot);                                              \
    }                                                                                                                                             \
    extern "C" __global__ void kiln_attention_grad_q_##SFX(KAttentionDims d, double scale, const T* q, const T* k, const T* v, const void* mask,  \
                                                           KShape msh, KStrides mst, const T* gout, const double* lse,                            \
                                                           const double* dot, T* g) {                                                             \
        attention_grad_q<T>(attention_params(d, scale), q, k, v, mask, msh, mst, gout, lse, dot, g);                                              \
    }                                                                                                                                             \
    extern "C" __global__ void kiln_attention_grad_kv_##SFX(int forK, KAttentionDims d, double scale, const T* q, const T* k, const T* v,         \
                                                            const void* mask, KShape msh, KStrides mst, const T* gout,                            \
                                                            const double* lse, const double* dot, T* g) {                                         \
        attention_grad_kv<T>(forK, attention_params(d, scale), q, k, v, mask, msh, mst, gout, lse, dot, g);                                       \
    }

KILN_ATTENTION_KERNELS(float, f32)
KILN_ATTENTION_KERNELS(double, f64)
