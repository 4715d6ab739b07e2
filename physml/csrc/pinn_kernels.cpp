// Torch-free per-atom kernels: Gaussian–Legendre descriptors and the PINN bond-order site
// energy with exact first derivatives. See pinn_kernels.h for the equations and layouts.
//
// Cost per centre atom with n neighbours in the list and nb bonds (r < rc):
//   descriptors: O(n · n_angular · n_centres) forward and backward (addition theorem), as
//     small dense loops over the atom's pairs in structure-of-arrays buffers;
//   bond order: O(nb · S) from per-atom moments of the bonds, vectorised over the bonds;
//   screening: O(nb²) pairs of bonds {j, k} (one sqrt, one exp and one division give both
//     triplets (i; j, k) and (i; k, j)), plus O(nb · n) single-precision candidate tests for
//     the neighbours beyond rc (no sqrt), evaluated only where x_ijk < rc may hold.
// The derivatives of a site energy involve only that atom's own pairs, so they are computed
// in the same call while the atom's triplets are in cache.
#include "pinn_kernels.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

// Loops marked SIMD have no loop-carried dependencies (elementwise over an atom's pairs or
// triplets); the pragma lets GCC/Clang vectorise them without alias analysis (-fopenmp-simd:
// no OpenMP runtime, no threads).
#define SIMD _Pragma("omp simd")

namespace physml {

namespace {

constexpr int kMaxL = 32;        // largest Legendre order accepted
constexpr int kMaxSpecies = 64;  // largest number of species accepted by the BOP kernel
constexpr int kMaxCentres = 64;  // largest number of Gaussian centres

template <class T>
inline void grow(std::vector<T>& v, size_t n) {
    if (v.size() < n) v.resize(n);
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Gaussian–Legendre descriptors
// ---------------------------------------------------------------------------------------

GaussianLegendreKernel::GaussianLegendreKernel(const std::vector<int>& orders, const std::vector<double>& centres,
                                               double width, double cutoff, double smoothing, int n_species)
    : orders_(orders), r0_(centres), cutoff_(cutoff), smoothing_(smoothing), n_species_(n_species) {
    if (orders_.empty() || r0_.empty()) throw std::invalid_argument("gl_descriptor: empty orders or centres");
    if (n_species_ < 1) throw std::invalid_argument("gl_descriptor: n_species must be >= 1");
    if (!(width > 0) || !(cutoff > 0) || !(smoothing > 0))
        throw std::invalid_argument("gl_descriptor: width, cutoff and smoothing must be positive");
    lmax_ = 0;
    for (int l : orders_) {
        if (l < 0 || l > kMaxL)
            throw std::invalid_argument("gl_descriptor: Legendre order out of range 0.." + std::to_string(kMaxL));
        lmax_ = std::max(lmax_, l);
    }
    if (n_centres() > kMaxCentres)
        throw std::invalid_argument("gl_descriptor: at most " + std::to_string(kMaxCentres) + " Gaussian centres");
    inv_w2_ = 1.0 / (width * width);
    for (double c : r0_) {
        if (c == 0.0) throw std::invalid_argument("gl_descriptor: a Gaussian centre is zero");
        inv_r0_.push_back(1.0 / c);
    }
    // columns in the order of physml/ml/harmonics.py: for each l, m = 0 (cos), then m ≥ 1 (cos, sin)
    for (int p = 0; p < n_orders(); ++p) {
        const int l = orders_[p];
        order_start_.push_back(static_cast<int>(col_order_.size()));
        for (int m = 0; m <= l; ++m) {
            double norm = 1.0;
            if (m > 0) {  // √(2 (l−m)!/(l+m)!)
                double ratio = 2.0;
                for (int k = l - m + 1; k <= l + m; ++k) ratio /= k;
                norm = std::sqrt(ratio);
            }
            for (int kind = 0; kind < (m == 0 ? 1 : 2); ++kind) {
                col_order_.push_back(p);
                col_l_.push_back(l);
                col_m_.push_back(m);
                col_sin_.push_back(kind);
                col_norm_.push_back(norm);
            }
        }
    }
    order_start_.push_back(static_cast<int>(col_order_.size()));
    nq_ = static_cast<int>(col_order_.size());
    // T_{l,m} = d^m P_l/dz^m: T_{m,m} = (2m−1)!!, T_{l+1,m} = a_{l,m} z T_{l,m} − b_{l,m} T_{l−1,m}
    const int L1 = lmax_ + 1;
    dfact_.assign(L1, 1.0);
    for (int m = 1; m < L1; ++m) dfact_[m] = dfact_[m - 1] * (2 * m - 1);
    rec_a_.assign(L1 * L1, 0.0);
    rec_b_.assign(L1 * L1, 0.0);
    for (int l = 0; l < L1; ++l)
        for (int m = 0; m <= l; ++m) {
            rec_a_[l * L1 + m] = static_cast<double>(2 * l + 1) / (l - m + 1);
            rec_b_[l * L1 + m] = static_cast<double>(l + m) / (l - m + 1);
        }
    block_.assign(n_species_ * n_species_, 0);
    int b = 0;
    for (int a = 0; a < n_species_; ++a)
        for (int c = a; c < n_species_; ++c) block_[a * n_species_ + c] = block_[c * n_species_ + a] = b++;
}

int GaussianLegendreKernel::prepare(int n, const double* __restrict dx, const double* __restrict dy,
                                    const double* __restrict dz, const int* __restrict type,
                                    bool derivatives, Buffers& B) const {
    const int S = n_species_, ns = n_centres(), L1 = lmax_ + 1, L2 = lmax_ + 2;
    grow(B.r, 2 * static_cast<size_t>(n));  // all lengths, then those of the kept pairs
    grow(B.idx, n);
    B.seg.assign(S + 1, 0);
    double* __restrict rall = B.r.data();
    SIMD
    for (int e = 0; e < n; ++e) rall[e] = std::sqrt(dx[e] * dx[e] + dy[e] * dy[e] + dz[e] * dz[e]);
    // pairs inside the cutoff, grouped by species of j
    int m = 0;
    for (int t = 0; t < S; ++t) {
        B.seg[t] = m;
        for (int e = 0; e < n; ++e) {
            const double r = rall[e];
            if ((S == 1 || type[e] == t) && r < cutoff_ && r > 0.0) B.idx[m++] = e;
        }
    }
    B.seg[S] = m;
    if (m == 0) return 0;
    for (auto* v : {&B.ux, &B.uy, &B.uz, &B.fc, &B.dfc}) grow(*v, m);
    grow(B.F, ns * m);
    grow(B.re, L1 * m);
    grow(B.im, L1 * m);
    grow(B.T, L1 * L2 * m);
    grow(B.Q, nq_ * m);
    if (derivatives) grow(B.dF, ns * m);
    const int* __restrict idx = B.idx.data();
    double *__restrict ux = B.ux.data(), *__restrict uy = B.uy.data(), *__restrict uz = B.uz.data();
    double *__restrict fc = B.fc.data(), *__restrict dfc = B.dfc.data();
    double* __restrict rk = rall + n;
    SIMD
    for (int c = 0; c < m; ++c) {
        const int e = idx[c];
        const double rr = rall[e];
        rk[c] = rr;
        ux[c] = dx[e] / rr;
        uy[c] = dy[e] / rr;
        uz[c] = dz[e] / rr;
    }
    SIMD
    for (int c = 0; c < m; ++c) pinn_cutoff(rk[c], cutoff_, smoothing_, fc[c], dfc[c]);
    // radial functions f_m(r) (and f_m'(r)), layout (ns, m)
    for (int k = 0; k < ns; ++k) {
        double* __restrict F = B.F.data() + k * m;
        const double r0 = r0_[k], ir0 = inv_r0_[k], iw2 = inv_w2_;
        if (derivatives) {
            double* __restrict dF = B.dF.data() + k * m;
            SIMD
            for (int c = 0; c < m; ++c) {
                const double d = rk[c] - r0;
                const double g = vexp(-(d * d) * iw2) * ir0;
                F[c] = g * fc[c];
                dF[c] = (dfc[c] - 2.0 * fc[c] * d * iw2) * g;
            }
        } else {
            SIMD
            for (int c = 0; c < m; ++c) {
                const double d = rk[c] - r0;
                F[c] = vexp(-(d * d) * iw2) * ir0 * fc[c];
            }
        }
    }
    // (x + iy)^m, layout (L1, m)
    double* __restrict re = B.re.data(), *__restrict im = B.im.data();
    for (int c = 0; c < m; ++c) {
        re[c] = 1.0;
        im[c] = 0.0;
    }
    for (int k = 1; k < L1; ++k) {
        const double* __restrict r1 = re + (k - 1) * m, *__restrict i1 = im + (k - 1) * m;
        double* __restrict r2 = re + k * m, *__restrict i2 = im + k * m;
        SIMD
        for (int c = 0; c < m; ++c) {
            r2[c] = r1[c] * ux[c] - i1[c] * uy[c];
            i2[c] = r1[c] * uy[c] + i1[c] * ux[c];
        }
    }
    // T_{l,m}(z), rows (l, m) for m = 0..l+1 (T_{l,l+1} = 0), layout (L1·L2, m)
    double* __restrict T = B.T.data();
    for (int mm = 0; mm < L1; ++mm) {
        double* __restrict Tmm = T + (mm * L2 + mm) * m;
        const double d0 = dfact_[mm];
        SIMD
        for (int c = 0; c < m; ++c) Tmm[c] = d0;
        double* __restrict Tz = T + (mm * L2 + mm + 1) * m;  // T_{mm, mm+1} = 0
        SIMD
        for (int c = 0; c < m; ++c) Tz[c] = 0.0;
        if (mm + 1 < L1) {
            double* __restrict T1 = T + ((mm + 1) * L2 + mm) * m;
            const double a = static_cast<double>(2 * mm + 1);
            SIMD
            for (int c = 0; c < m; ++c) T1[c] = a * uz[c] * Tmm[c];
        }
        for (int l = mm + 1; l + 1 < L1; ++l) {
            const double a = rec_a_[l * L1 + mm], b = rec_b_[l * L1 + mm];
            const double* __restrict Tl = T + (l * L2 + mm) * m;
            const double* __restrict Tlm1 = T + ((l - 1) * L2 + mm) * m;
            double* __restrict Tn = T + ((l + 1) * L2 + mm) * m;
            SIMD
            for (int c = 0; c < m; ++c) Tn[c] = a * uz[c] * Tl[c] - b * Tlm1[c];
        }
    }
    // Q_q = norm · T_{l,m} · {Re, Im}(x + iy)^m, layout (nq, m)
    for (int q = 0; q < nq_; ++q) {
        const int l = col_l_[q], mm = col_m_[q];
        const double norm = col_norm_[q];
        const double* __restrict Tl = T + (l * L2 + mm) * m;
        const double* __restrict ang = (col_sin_[q] ? im : re) + mm * m;
        double* __restrict Q = B.Q.data() + q * m;
        SIMD
        for (int c = 0; c < m; ++c) Q[c] = norm * Tl[c] * ang[c];
    }
    return m;
}

namespace {

// A[q][t][k] = Σ_{c ∈ [lo, hi)} Q[q][c] F[k][c] for every q: dot products vectorised over the
// pairs (NS > 0: number of centres known at compile time; 0: runtime ns).
template <int NS>
void pair_moments(int nq, int S, int t, int lo, int hi, int m, int ns_rt, const double* __restrict Q,
                  const double* __restrict F, double* __restrict A) {
    const int ns = NS > 0 ? NS : ns_rt;
    for (int q = 0; q < nq; ++q) {
        const double* __restrict Qq = Q + q * m;
        for (int k = 0; k < ns; ++k) {
            const double* __restrict Fk = F + k * m;
            double acc = 0.0;
#pragma omp simd reduction(+ : acc)
            for (int c = lo; c < hi; ++c) acc += Qq[c] * Fk[c];
            A[(q * S + t) * ns + k] = acc;
        }
    }
}

// tables of one atom's pairs for the descriptor backward
struct PairGrad {
    int m, L2, nq;
    const int *col_l, *col_m, *col_sin;
    const double *col_norm, *F, *dF, *T, *re, *im;
    double *gux, *guy, *guz, *gr;
};

// For the pairs c ∈ [lo, hi) of species t and every angular column q, with
// C = Σ_k gA[q][t][k] f_k(r_c) and D = Σ_k gA[q][t][k] f_k'(r_c):
//   ∇_û += C ∇Q_q(û_c),  ∂/∂r += D Q_q(û_c).
template <int NS>
void pair_gradients(const PairGrad& P, const double* __restrict gA, int S, int t, int lo, int hi, int ns_rt) {
    const int ns = NS > 0 ? NS : ns_rt;
    constexpr int W = NS > 0 ? NS : kMaxCentres;
    const int m = P.m;
    double *__restrict gux = P.gux, *__restrict guy = P.guy, *__restrict guz = P.guz, *__restrict gr = P.gr;
    const double *__restrict F = P.F, *__restrict dF = P.dF;
    for (int q = 0; q < P.nq; ++q) {
        double w[W];
        for (int k = 0; k < ns; ++k) w[k] = gA[(q * S + t) * ns + k];
        const int l = P.col_l[q], mm = P.col_m[q];
        const bool sn = P.col_sin[q] != 0;
        const double norm = P.col_norm[q];
        const double* __restrict T0 = P.T + (l * P.L2 + mm) * m;  // d^m P_l/dz^m
        const double* __restrict T1 = T0 + m;                     // d^{m+1} P_l/dz^{m+1}
        const double* __restrict ang = (sn ? P.im : P.re) + mm * m;
        // ∂/∂x (x+iy)^m = m (x+iy)^{m−1}, ∂/∂y (x+iy)^m = i m (x+iy)^{m−1} (zero for m = 0: the
        // row pointers then only need to be valid)
        const double* __restrict ax = (sn ? P.im : P.re) + (mm > 0 ? mm - 1 : 0) * m;
        const double* __restrict ay = (sn ? P.re : P.im) + (mm > 0 ? mm - 1 : 0) * m;
        const double sx = mm * norm, sy = (sn ? mm : -mm) * norm;
        SIMD
        for (int c = lo; c < hi; ++c) {
            double C = 0.0, D = 0.0;
            for (int k = 0; k < ns; ++k) {
                C += w[k] * F[k * m + c];
                D += w[k] * dF[k * m + c];
            }
            guz[c] += C * norm * T1[c] * ang[c];
            gr[c] += D * norm * T0[c] * ang[c];
            const double CT = C * T0[c];
            gux[c] += CT * sx * ax[c];
            guy[c] += CT * sy * ay[c];
        }
    }
}

}  // namespace

void GaussianLegendreKernel::forward(int n, const double* __restrict dx, const double* __restrict dy,
                                     const double* __restrict dz, const int* __restrict type,
                                     double* __restrict A, double* __restrict g, Buffers& B) const {
    const int ns = n_centres(), S = n_species_, nL = n_orders();
    std::fill(A, A + moment_size(), 0.0);
    std::fill(g, g + n_features(), 0.0);
    const int m = prepare(n, dx, dy, dz, type, false, B);
    if (m == 0) return;
    // A[q][t][k] = Σ_{c of species t} Q[q][c] F[k][c]
    for (int t = 0; t < S; ++t) {
        const int lo = B.seg[t], hi = B.seg[t + 1];
        if (lo == hi) continue;
        if (ns == 8)
            pair_moments<8>(nq_, S, t, lo, hi, m, 8, B.Q.data(), B.F.data(), A);
        else
            pair_moments<0>(nq_, S, t, lo, hi, m, ns, B.Q.data(), B.F.data(), A);
    }
    for (int a = 0; a < S; ++a) {
        for (int c = a; c < S; ++c) {
            const double fac = a == c ? 1.0 : 2.0;
            double* __restrict gb = g + block_[a * S + c] * nL * ns;
            for (int p = 0; p < nL; ++p) {
                double* __restrict out = gb + p * ns;
                for (int q = order_start_[p]; q < order_start_[p + 1]; ++q) {
                    const double* __restrict Aa = A + (q * S + a) * ns;
                    const double* __restrict Ac = A + (q * S + c) * ns;
                    for (int k = 0; k < ns; ++k) out[k] += Aa[k] * Ac[k];
                }
                for (int k = 0; k < ns; ++k) out[k] *= fac;
            }
        }
    }
}

void GaussianLegendreKernel::backward(int n, const double* __restrict dx, const double* __restrict dy,
                                      const double* __restrict dz, const int* __restrict type, const double* A,
                                      const double* __restrict grad_g, double* __restrict gx, double* __restrict gy,
                                      double* __restrict gz,
                                      Buffers& B) const {
    const int ns = n_centres(), S = n_species_, nL = n_orders(), L2 = lmax_ + 2;
    std::fill(gx, gx + n, 0.0);
    std::fill(gy, gy + n, 0.0);
    std::fill(gz, gz + n, 0.0);
    const int m = prepare(n, dx, dy, dz, type, true, B);
    if (m == 0) return;
    // gA[q][a][k] = 2 Σ_c grad_g[b(a,c)][l(q)][k] A[q][c][k]
    grow(B.gA, moment_size());
    double* __restrict gA = B.gA.data();
    for (int q = 0; q < nq_; ++q) {
        const int p = col_order_[q];
        for (int a = 0; a < S; ++a) {
            double* __restrict out = gA + (q * S + a) * ns;
            for (int k = 0; k < ns; ++k) out[k] = 0.0;
            for (int c = 0; c < S; ++c) {
                const double* __restrict gg = grad_g + (block_[a * S + c] * nL + p) * ns;
                const double* __restrict Ac = A + (q * S + c) * ns;
                for (int k = 0; k < ns; ++k) out[k] += 2.0 * gg[k] * Ac[k];
            }
        }
    }
    // gradient with respect to û (components of the polynomial extension) and r
    for (auto* v : {&B.gux, &B.guy, &B.guz, &B.gr}) {
        grow(*v, m);
        std::fill(v->begin(), v->begin() + m, 0.0);
    }
    const PairGrad pg{m, L2, nq_, col_l_.data(), col_m_.data(), col_sin_.data(), col_norm_.data(), B.F.data(),
                      B.dF.data(), B.T.data(), B.re.data(), B.im.data(), B.gux.data(), B.guy.data(), B.guz.data(),
                      B.gr.data()};
    for (int t = 0; t < S; ++t) {
        const int lo = B.seg[t], hi = B.seg[t + 1];
        if (lo == hi) continue;
        if (ns == 8)
            pair_gradients<8>(pg, gA, S, t, lo, hi, 8);
        else
            pair_gradients<0>(pg, gA, S, t, lo, hi, ns);
    }
    // dû/dr = (I − ûûᵀ)/r, scattered back to the input order
    const double *__restrict gux = B.gux.data(), *__restrict guy = B.guy.data(), *__restrict guz = B.guz.data(),
                 *__restrict gr = B.gr.data();
    const double *__restrict ux = B.ux.data(), *__restrict uy = B.uy.data(), *__restrict uz = B.uz.data();
    const double* __restrict rk = B.r.data() + n;
    SIMD
    for (int c = 0; c < m; ++c) {
        const double ug = gux[c] * ux[c] + guy[c] * uy[c] + guz[c] * uz[c];
        const double ir = 1.0 / rk[c];
        const int e = B.idx[c];
        gx[e] = (gux[c] - ug * ux[c]) * ir + gr[c] * ux[c];
        gy[e] = (guy[c] - ug * uy[c]) * ir + gr[c] * uy[c];
        gz[e] = (guz[c] - ug * uz[c]) * ir + gr[c] * uz[c];
    }
}

// ---------------------------------------------------------------------------------------
// PINN bond-order site energy
// ---------------------------------------------------------------------------------------

PinnBOPKernel::PinnBOPKernel(int n_species, double rc, double hc) : S_(n_species), rc_(rc), hc_(hc) {
    if (S_ < 1 || S_ > kMaxSpecies)
        throw std::invalid_argument("pinn_bop: n_species must be in 1.." + std::to_string(kMaxSpecies));
    if (!(rc > 0) || !(hc > 0)) throw std::invalid_argument("pinn_bop: rc and hc must be positive");
}

namespace {

// 2^(j/256), j = 0..255, correctly rounded (computed with 60-digit decimal arithmetic)
alignas(64) constexpr double kExp2Table[256] = {
    0x1.0000000000000p+0, 0x1.00b1afa5abcbfp+0, 0x1.0163da9fb3335p+0, 0x1.02168143b0281p+0,
    0x1.02c9a3e778061p+0, 0x1.037d42e11bbccp+0, 0x1.04315e86e7f85p+0, 0x1.04e5f72f654b1p+0,
    0x1.059b0d3158574p+0, 0x1.0650a0e3c1f89p+0, 0x1.0706b29ddf6dep+0, 0x1.07bd42b72a836p+0,
    0x1.0874518759bc8p+0, 0x1.092bdf66607e0p+0, 0x1.09e3ecac6f383p+0, 0x1.0a9c79b1f3919p+0,
    0x1.0b5586cf9890fp+0, 0x1.0c0f145e46c85p+0, 0x1.0cc922b7247f7p+0, 0x1.0d83b23395decp+0,
    0x1.0e3ec32d3d1a2p+0, 0x1.0efa55fdfa9c5p+0, 0x1.0fb66affed31bp+0, 0x1.1073028d7233ep+0,
    0x1.11301d0125b51p+0, 0x1.11edbab5e2ab6p+0, 0x1.12abdc06c31ccp+0, 0x1.136a814f204abp+0,
    0x1.1429aaea92de0p+0, 0x1.14e95934f312ep+0, 0x1.15a98c8a58e51p+0, 0x1.166a45471c3c2p+0,
    0x1.172b83c7d517bp+0, 0x1.17ed48695bbc0p+0, 0x1.18af9388c8deap+0, 0x1.1972658375d2fp+0,
    0x1.1a35beb6fcb75p+0, 0x1.1af99f8138a1cp+0, 0x1.1bbe084045cd4p+0, 0x1.1c82f95281c6bp+0,
    0x1.1d4873168b9aap+0, 0x1.1e0e75eb44027p+0, 0x1.1ed5022fcd91dp+0, 0x1.1f9c18438ce4dp+0,
    0x1.2063b88628cd6p+0, 0x1.212be3578a819p+0, 0x1.21f49917ddc96p+0, 0x1.22bdda27912d1p+0,
    0x1.2387a6e756238p+0, 0x1.2451ffb82140ap+0, 0x1.251ce4fb2a63fp+0, 0x1.25e85711ece75p+0,
    0x1.26b4565e27cddp+0, 0x1.2780e341ddf29p+0, 0x1.284dfe1f56381p+0, 0x1.291ba7591bb70p+0,
    0x1.29e9df51fdee1p+0, 0x1.2ab8a66d10f13p+0, 0x1.2b87fd0dad990p+0, 0x1.2c57e39771b2fp+0,
    0x1.2d285a6e4030bp+0, 0x1.2df961f641589p+0, 0x1.2ecafa93e2f56p+0, 0x1.2f9d24abd886bp+0,
    0x1.306fe0a31b715p+0, 0x1.31432edeeb2fdp+0, 0x1.32170fc4cd831p+0, 0x1.32eb83ba8ea32p+0,
    0x1.33c08b26416ffp+0, 0x1.3496266e3fa2dp+0, 0x1.356c55f929ff1p+0, 0x1.36431a2de883bp+0,
    0x1.371a7373aa9cbp+0, 0x1.37f26231e754ap+0, 0x1.38cae6d05d866p+0, 0x1.39a401b7140efp+0,
    0x1.3a7db34e59ff7p+0, 0x1.3b57fbfec6cf4p+0, 0x1.3c32dc313a8e5p+0, 0x1.3d0e544ede173p+0,
    0x1.3dea64c123422p+0, 0x1.3ec70df1c5175p+0, 0x1.3fa4504ac801cp+0, 0x1.40822c367a024p+0,
    0x1.4160a21f72e2ap+0, 0x1.423fb2709468ap+0, 0x1.431f5d950a897p+0, 0x1.43ffa3f84b9d4p+0,
    0x1.44e086061892dp+0, 0x1.45c2042a7d232p+0, 0x1.46a41ed1d0057p+0, 0x1.4786d668b3237p+0,
    0x1.486a2b5c13cd0p+0, 0x1.494e1e192aed2p+0, 0x1.4a32af0d7d3dep+0, 0x1.4b17dea6db7d7p+0,
    0x1.4bfdad5362a27p+0, 0x1.4ce41b817c114p+0, 0x1.4dcb299fddd0dp+0, 0x1.4eb2d81d8abffp+0,
    0x1.4f9b2769d2ca7p+0, 0x1.508417f4531eep+0, 0x1.516daa2cf6642p+0, 0x1.5257de83f4eefp+0,
    0x1.5342b569d4f82p+0, 0x1.542e2f4f6ad27p+0, 0x1.551a4ca5d920fp+0, 0x1.56070dde910d2p+0,
    0x1.56f4736b527dap+0, 0x1.57e27dbe2c4cfp+0, 0x1.58d12d497c7fdp+0, 0x1.59c0827ff07ccp+0,
    0x1.5ab07dd485429p+0, 0x1.5ba11fba87a03p+0, 0x1.5c9268a5946b7p+0, 0x1.5d84590998b93p+0,
    0x1.5e76f15ad2148p+0, 0x1.5f6a320dceb71p+0, 0x1.605e1b976dc09p+0, 0x1.6152ae6cdf6f4p+0,
    0x1.6247eb03a5585p+0, 0x1.633dd1d1929fdp+0, 0x1.6434634ccc320p+0, 0x1.652b9febc8fb7p+0,
    0x1.6623882552225p+0, 0x1.671c1c70833f6p+0, 0x1.68155d44ca973p+0, 0x1.690f4b19e9538p+0,
    0x1.6a09e667f3bcdp+0, 0x1.6b052fa75173ep+0, 0x1.6c012750bdabfp+0, 0x1.6cfdcddd47645p+0,
    0x1.6dfb23c651a2fp+0, 0x1.6ef9298593ae5p+0, 0x1.6ff7df9519484p+0, 0x1.70f7466f42e87p+0,
    0x1.71f75e8ec5f74p+0, 0x1.72f8286ead08ap+0, 0x1.73f9a48a58174p+0, 0x1.74fbd35d7cbfdp+0,
    0x1.75feb564267c9p+0, 0x1.77024b1ab6e09p+0, 0x1.780694fde5d3fp+0, 0x1.790b938ac1cf6p+0,
    0x1.7a11473eb0187p+0, 0x1.7b17b0976cfdbp+0, 0x1.7c1ed0130c132p+0, 0x1.7d26a62ff86f0p+0,
    0x1.7e2f336cf4e62p+0, 0x1.7f3878491c491p+0, 0x1.80427543e1a12p+0, 0x1.814d2add106d9p+0,
    0x1.82589994cce13p+0, 0x1.8364c1eb941f7p+0, 0x1.8471a4623c7adp+0, 0x1.857f4179f5b21p+0,
    0x1.868d99b4492edp+0, 0x1.879cad931a436p+0, 0x1.88ac7d98a6699p+0, 0x1.89bd0a478580fp+0,
    0x1.8ace5422aa0dbp+0, 0x1.8be05bad61778p+0, 0x1.8cf3216b5448cp+0, 0x1.8e06a5e0866d9p+0,
    0x1.8f1ae99157736p+0, 0x1.902fed0282c8ap+0, 0x1.9145b0b91ffc6p+0, 0x1.925c353aa2fe2p+0,
    0x1.93737b0cdc5e5p+0, 0x1.948b82b5f98e5p+0, 0x1.95a44cbc8520fp+0, 0x1.96bdd9a7670b3p+0,
    0x1.97d829fde4e50p+0, 0x1.98f33e47a22a2p+0, 0x1.9a0f170ca07bap+0, 0x1.9b2bb4d53fe0dp+0,
    0x1.9c49182a3f090p+0, 0x1.9d674194bb8d5p+0, 0x1.9e86319e32323p+0, 0x1.9fa5e8d07f29ep+0,
    0x1.a0c667b5de565p+0, 0x1.a1e7aed8eb8bbp+0, 0x1.a309bec4a2d33p+0, 0x1.a42c980460ad8p+0,
    0x1.a5503b23e255dp+0, 0x1.a674a8af46052p+0, 0x1.a799e1330b358p+0, 0x1.a8bfe53c12e59p+0,
    0x1.a9e6b5579fdbfp+0, 0x1.ab0e521356ebap+0, 0x1.ac36bbfd3f37ap+0, 0x1.ad5ff3a3c2774p+0,
    0x1.ae89f995ad3adp+0, 0x1.afb4ce622f2ffp+0, 0x1.b0e07298db666p+0, 0x1.b20ce6c9a8952p+0,
    0x1.b33a2b84f15fbp+0, 0x1.b468415b749b1p+0, 0x1.b59728de5593ap+0, 0x1.b6c6e29f1c52ap+0,
    0x1.b7f76f2fb5e47p+0, 0x1.b928cf22749e4p+0, 0x1.ba5b030a1064ap+0, 0x1.bb8e0b79a6f1fp+0,
    0x1.bcc1e904bc1d2p+0, 0x1.bdf69c3f3a207p+0, 0x1.bf2c25bd71e09p+0, 0x1.c06286141b33dp+0,
    0x1.c199bdd85529cp+0, 0x1.c2d1cd9fa652cp+0, 0x1.c40ab5fffd07ap+0, 0x1.c544778fafb22p+0,
    0x1.c67f12e57d14bp+0, 0x1.c7ba88988c933p+0, 0x1.c8f6d9406e7b5p+0, 0x1.ca3405751c4dbp+0,
    0x1.cb720dcef9069p+0, 0x1.ccb0f2e6d1675p+0, 0x1.cdf0b555dc3fap+0, 0x1.cf3155b5bab74p+0,
    0x1.d072d4a07897cp+0, 0x1.d1b532b08c968p+0, 0x1.d2f87080d89f2p+0, 0x1.d43c8eacaa1d6p+0,
    0x1.d5818dcfba487p+0, 0x1.d6c76e862e6d3p+0, 0x1.d80e316c98398p+0, 0x1.d955d71ff6075p+0,
    0x1.da9e603db3285p+0, 0x1.dbe7cd63a8315p+0, 0x1.dd321f301b460p+0, 0x1.de7d5641c0658p+0,
    0x1.dfc97337b9b5fp+0, 0x1.e11676b197d17p+0, 0x1.e264614f5a129p+0, 0x1.e3b333b16ee12p+0,
    0x1.e502ee78b3ff6p+0, 0x1.e653924676d76p+0, 0x1.e7a51fbc74c83p+0, 0x1.e8f7977cdb740p+0,
    0x1.ea4afa2a490dap+0, 0x1.eb9f4867cca6ep+0, 0x1.ecf482d8e67f1p+0, 0x1.ee4aaa2188510p+0,
    0x1.efa1bee615a27p+0, 0x1.f0f9c1cb6412ap+0, 0x1.f252b376bba97p+0, 0x1.f3ac948dd7274p+0,
    0x1.f50765b6e4540p+0, 0x1.f6632798844f8p+0, 0x1.f7bfdad9cbe14p+0, 0x1.f91d802243c89p+0,
    0x1.fa7c1819e90d8p+0, 0x1.fbdba3692d514p+0, 0x1.fd3c22b8f71f1p+0, 0x1.fe9d96b2a23d9p+0};

// e^x to ≤ 1 ulp for −708 ≤ x ≤ 709 (no range check), by 2^(k/256) from kExp2Table and
// e^r − 1, |r| ≤ ln2/512, to r⁵ (truncation < 1e-19): fewer operations than vexp_in_range (the
// table lookup vectorises as a gather), for the hottest loops of the screening.
inline double vexp_table(double x) {
    const double n_ln2 = 256.0 / 0.6931471805599453, c_hi = 6.93147180369123816490e-01 / 256.0,
                 c_lo = 1.90821492927058770002e-10 / 256.0;  // ln2/256 = c_hi + c_lo, k·c_hi exact
    const double shifter = 6755399441055744.0;                // 1.5·2^52: adding it rounds to an integer
    double kd = x * n_ln2 + shifter;
    int64_t kb;
    __builtin_memcpy(&kb, &kd, 8);
    kd -= shifter;
    const double r = (x - kd * c_hi) - kd * c_lo;
    const double r2 = r * r;
    const double em1 = r + r2 * ((0.5 + r * (1.0 / 6.0)) + r2 * ((1.0 / 24.0) + r * (1.0 / 120.0)));  // e^r − 1
    int64_t tb;
    __builtin_memcpy(&tb, &kExp2Table[kb & 255], 8);
    tb += ((kb - 0x4338000000000000LL) >> 8) << 52;  // times 2^⌊k/256⌋
    double t;
    __builtin_memcpy(&t, &tb, 8);
    return t + t * em1;
}

#if defined(__AVX2__) && defined(__FMA__)
// vexp_table of 4 values (the same operations), written out because compilers tuned for
// generic x86-64 emulate the table gather with scalar loads
inline __m256d vexp_table4(__m256d x) {
    const __m256d shifter = _mm256_set1_pd(6755399441055744.0);
    __m256d kd = _mm256_fmadd_pd(x, _mm256_set1_pd(256.0 / 0.6931471805599453), shifter);
    const __m256i kb = _mm256_castpd_si256(kd);
    kd = _mm256_sub_pd(kd, shifter);
    __m256d r = _mm256_fnmadd_pd(kd, _mm256_set1_pd(6.93147180369123816490e-01 / 256.0), x);
    r = _mm256_fnmadd_pd(kd, _mm256_set1_pd(1.90821492927058770002e-10 / 256.0), r);
    const __m256d r2 = _mm256_mul_pd(r, r);
    const __m256d lo = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 6.0), _mm256_set1_pd(0.5));
    const __m256d hi = _mm256_fmadd_pd(r, _mm256_set1_pd(1.0 / 120.0), _mm256_set1_pd(1.0 / 24.0));
    const __m256d em1 = _mm256_fmadd_pd(r2, _mm256_fmadd_pd(r2, hi, lo), r);
    const __m256i idx = _mm256_and_si256(kb, _mm256_set1_epi64x(255));
    __m256i tb = _mm256_castpd_si256(_mm256_i64gather_pd(kExp2Table, idx, 8));
    // 2^⌊k/256⌋ into the exponent (a logical shift: the bits it differs in are shifted out)
    const __m256i k = _mm256_sub_epi64(kb, _mm256_set1_epi64x(0x4338000000000000LL));
    tb = _mm256_add_epi64(tb, _mm256_slli_epi64(_mm256_srli_epi64(k, 8), 52));
    const __m256d t = _mm256_castsi256_pd(tb);
    return _mm256_fmadd_pd(t, em1, t);
}
#endif

// Screening factor s = 1 − f_c(x) e of one triplet, e = e^{−λx} given, written over a
// common denominator so that its log-derivatives need no further division:
//   f_c = z⁴/D, D = 1 + z⁴, z = (x − rc)/h, s = N/D with N = D − z⁴ e,
//   d log|s|/dx = e (λ z⁴ D − c)/(N D), c = 4z³/h     [= (λ f_c − f_c') e/s],
//   d log|s|/dλ = x z⁴ e D/(N D)                      [= x f_c e/s].
// x ≥ rc (or a masked lane) gives z⁴ = c = 0, N = D = 1, s = 1 and zero derivatives (e only
// needs to be finite). For λ ≥ 0, e ≤ 1 and so N ≥ 1: the reciprocals of the N D of a pair's
// triplets (and of r_jk) come from one division. For λ < 0, s may vanish or change sign:
// as the torch path, |s| is clamped at 1e-300 in the product and N = 0 is guarded.
struct Triplet {
    double z4, D, N, c;
};

inline Triplet triplet_terms(double x, double e, double rc, double ih) {
    const double zz = std::min(x - rc, 0.0) * ih;  // 0 for x ≥ rc
    const double z2 = zz * zz;
    Triplet t;
    t.z4 = z2 * z2;
    t.D = 1.0 + t.z4;
    t.N = t.D - t.z4 * e;
    t.c = (4.0 * ih) * z2 * zz;
    return t;
}

// s, d log|s|/dx = λu − c e/(N D) and d log|s|/dλ = x u, u = z⁴ D e/(N D), from inv = 1/(N D)
template <bool kGrad>
inline void triplet_factor(const Triplet& t, double x, double e, double lam, double inv, double& s, double& ds_dx,
                           double& ds_dl) {
    s = t.N * (t.N * inv);
    if (kGrad) {
        const double ei = e * inv;
        const double u = t.z4 * t.D * ei;
        ds_dl = x * u;
        ds_dx = lam * u - t.c * ei;
    }
}

// the guarded version (λ < 0): its own division, s clamped
template <bool kGrad>
inline void triplet_factor_guarded(const Triplet& t, double x, double e, double lam, double& s, double& ds_dx,
                                   double& ds_dl) {
    const double Ng = std::fabs(t.N) < 1e-300 ? (t.N < 0 ? -1e-300 : 1e-300) : t.N;
    const double inv = 1.0 / (Ng * t.D);
    const double sv = t.N * (Ng * inv);  // N/D
    s = std::fabs(sv) < 1e-300 ? (sv < 0 ? -1e-300 : 1e-300) : sv;
    if (kGrad) {
        const double ei = e * inv;
        const double u = t.z4 * t.D * ei;
        ds_dl = x * u;
        ds_dx = lam * u - t.c * ei;
    }
}

// r_jk below which d̂ = (r_k − r_j)/r_jk is not formed (coincident neighbours: d̂ = 0)
constexpr double kTinyDistance = 1e-30;
// Padding entries after the sorted neighbours sit at 2.5 rc from atom i: any triplet (i; j, pad)
// of a bond j has x > 3 rc (its s = 1), and their distances stay below 3.5 rc, so that
// e^{−λ r} needs no range check for λ rc < 100. Entries k ≤ j of a bond's aligned block get
// x = 2 rc (s = 1) and r_jk = rc.
constexpr double kPadding = 2.5, kMaskedX = 2.0;
constexpr int kPad = 8;
// how much looser (Å²) the single-precision candidate test is than x < rc. The test is
// c r_ik − r_ij·r_ik < K, c = rc + r_ij, K = rc (rc/2 + r_ij): its left side minus K is
// (r_jk² − t²)/2, t = c − r_ik, so x < rc ⟺ r_jk < t holds exactly where it is negative (and
// then t > 0). 0.05 Å² is far more than the rounding errors of the single-precision
// evaluation (≲ 1e-6 Å in the coordinates below 1.5 rc; ≲ 1e-6 relative in the terms, which
// are below 3 rc²: ≲ 1e-4 Å² for rc = 6 Å).
constexpr double kTestMargin = 0.05;

// Neighbours of atom i (bonds r < rc first, each group in distance bins), structure of arrays.
struct Sorted {
    int m, nb, S;
    const double *x, *y, *z, *r;
    const int* type;
};

// Screening, energy pass: S_j = Π_k s_ijk for the bonds j < nb, and (kGrad) the
// log-derivatives of every factor for the derivative pass.
//
// Unordered pairs of bonds {j, k} share r_jk: one square root (and, kFact, one exponential)
// gives both triplets (i; j, k) → S_ij and (i; k, j) → S_ik. They are evaluated for every
// pair k > j, a triplet with x ≥ rc simply giving s = 1 (most pairs have one or both
// triplets inside; the loop stays contiguous). A neighbour k beyond rc only screens
// (i; j, k), and only if r_ik < r_ij + rc/2 (x ≥ 2(r_ik − r_ij)); those candidates (kend[j])
// are tested without sqrt (x < rc ⟺ c r_ik − r_ij·r_ik < K, see kTestMargin) and compacted, as
// few of them pass.
//
// Bond j's pair entries are the neighbours k in [4⌊(j + 1)/4⌋, ka), ka = nb rounded up to a
// multiple of 4: whole aligned blocks of 4 (no scalar remainder loops, and the accumulations
// into S_ik, Σ_k and the gradients of k reuse the same aligned vectors from one bond to the
// next, which store-to-load forwarding needs). The entries k ≤ j get x = 2 rc (s = 1); the last
// ones may run past the bonds into the neighbours beyond rc (whose (i; j, k) is then done here
// and not among the compacted ones; the mirror triplet is discarded) or into the padding
// entries. The compacted entries are padded to a multiple of 4 with a padding entry.
//
// The bonds are processed in tiles of about kTile pair entries (their data stay in L1), each
// in simple vectorised loops with short dependency chains:
//   1. per bond j: r_jk, x_ijk, x_ikj of its pair entries; the test and compaction of the
//      neighbours beyond rc;
//   2. over all entries of the tile: the compacted entries' geometry, the exponentials, the
//      factors s and their log-derivatives (one division per entry);
//   3. per bond j: the products S_ij, S_ik and Σ d log|s|/dλ.
//
// kFact (one species, 0 ≤ λ, λ rc < 100): e^{−λx_ijk} = e^{−λ r_jk} e^{−λ r_ik} e^{λ r_ij} with
// the per-neighbour tables P = e^{−λr}, Q = e^{λr}, so one exponential per pair serves both
// triplets. Every factor is below e^{4.5 λ rc} and the product below e^{6 λ rc} < e^{600}
// (r_ij, r_ik < 1.5 rc, r_jk < 3 rc): no overflow, and each factor is accurate to ≤ 2 ulp,
// as accurate as e^{−λx} of the rounded x itself. Otherwise (several species: λ_i[t_j][t_k]
// and λ_i[t_k][t_j] may differ) each triplet has its own exponential. kSafe: some λ < 0.
inline int bond_first(int j) { return (j + 1) & ~3; }
constexpr int kTile = 256;

template <bool kFact, bool kSafe, bool kGrad>
void screening_forward(const Sorted& a, const double* __restrict P, const double* __restrict Q,
                       const double* __restrict lam, double rc, double hc, PinnBOPKernel::Buffers& B) {
    const int nb = a.nb, S = a.S;
    const double ih = 1.0 / hc;
    const double *__restrict x = a.x, *__restrict y = a.y, *__restrict z = a.z, *__restrict r = a.r;
    const int* __restrict type = a.type;
    const int* __restrict kend = B.kend.data();
    double* __restrict Sb = B.S.data();
    double* __restrict Lam = B.lam.data();  // (m + kPad, S): Σ_k d log|s_ijk|/dλ per species of k
    // outputs per entry (all entries of the atom): d log|s|/dx of both triplets, 1/r_jk
    double *__restrict G1 = B.t_g1.data(), *__restrict G2 = B.t_g2.data(), *__restrict IR = B.t_ir.data();
    // per entry of the current tile (its pair entries, then its compacted ones): x of both
    // triplets (then s), e, r_jk (then d log|s|/dλ of the first triplet), d log|s|/dλ, λ
    double *__restrict X1 = B.t_s1.data(), *__restrict X2 = B.t_s2.data(), *__restrict E1 = B.t_e1.data(),
           *__restrict E2 = B.t_e2.data(), *__restrict D1 = B.t_d1.data(), *__restrict D2 = B.t_d2.data(),
           *__restrict L1 = B.t_l1.data(), *__restrict L2 = B.t_l2.data();
    int *__restrict ok = B.o_k.data(), *__restrict ostart = B.o_start.data();
    // per compacted entry: r_k − r_j (for the derivative pass)
    double *__restrict OX = B.o_x.data(), *__restrict OY = B.o_y.data(), *__restrict OZ = B.o_z.data();
    const float *__restrict xf = B.xf.data(), *__restrict yf = B.yf.data(), *__restrict zf = B.zf.data(),
                *__restrict rf = B.rf.data();
    uint8_t* __restrict gbits = B.gbits.data();
    const double lam0 = lam[0];
    double lcol[kMaxSpecies];
    const int ka = (nb + 3) & ~3;
    int NA = 0;
    for (int j = 0; j < nb; ++j) NA += ka - bond_first(j);
    std::fill(Sb, Sb + a.m + kPad, 1.0);
    if (kGrad) std::fill(Lam, Lam + static_cast<size_t>(a.m + kPad) * S, 0.0);
    int base = 0, no = NA;
    for (int j0 = 0; j0 < nb;) {
        // ---- 1. the tile's bonds j0 ≤ j < j1 ----
        const int a0 = base, b0 = no;
        int j1 = j0;
        for (; j1 < nb && base - a0 < kTile; ++j1) {
            const int j = j1;
            const double xj = x[j], yj = y[j], zj = z[j], rj = r[j];
            const int tj = type[j];
            const double* __restrict lrow = lam + tj * S;  // λ_i[t_j][·]
            for (int t = 0; t < S; ++t) lcol[t] = lam[t * S + tj];  // λ_i[·][t_j]
            const double Pj = kFact ? P[j] : 0.0, Qj = kFact ? Q[j] : 0.0;
            const int k0 = bond_first(j), na = ka - k0, lo = base - a0;
            const double* __restrict xk = x + k0;
            const double* __restrict yk = y + k0;
            const double* __restrict zk = z + k0;
            const double* __restrict rk = r + k0;
            const double* __restrict Pk = P + k0;
            const double* __restrict Qk = Q + k0;
            const int* __restrict tk = type + k0;
            double *__restrict x1 = X1 + lo, *__restrict x2 = X2 + lo, *__restrict e1 = E1 + lo,
                   *__restrict e2 = E2 + lo, *__restrict l1 = L1 + lo, *__restrict l2 = L2 + lo,
                   *__restrict d = D1 + lo;
            for (int b = 0; b < na; b += 4)  // (whole blocks: no remainder code)
            SIMD
            for (int t = b; t < b + 4; ++t) {
                const double ex = xk[t] - xj, ey = yk[t] - yj, ez = zk[t] - zj;
                const double rjk = std::sqrt(ex * ex + ey * ey + ez * ez);
                d[t] = rjk;
                x1[t] = rk[t] + rjk - rj;  // (i; j, k)
                x2[t] = rj + rjk - rk[t];  // (i; k, j)
                if (kFact) {
                    e1[t] = Pk[t] * Qj;  // times e^{−λ r_jk} below
                    e2[t] = Qk[t] * Pj;
                } else {
                    l1[t] = lrow[tk[t]];
                    l2[t] = lcol[tk[t]];
                }
            }
            for (int t = 0; t <= j - k0; ++t) {  // k ≤ j
                d[t] = rc;
                x1[t] = x2[t] = kMaskedX * rc;
            }
            base += na;
            // neighbours k beyond rc not done above: a test in single precision (8 per vector)
            // that is looser by kTestMargin than x < rc (the evaluation is exact: a candidate
            // with x ≥ rc gives s = 1), one bit per candidate in groups of 8, over whole
            // groups (the k ≥ kend[j] fail it), then the compaction of the set bits, packed as
            // j·2^16 + k
            ostart[j] = no;
            const int ng = (kend[j] - ka + 7) >> 3;
#if defined(__AVX2__) && defined(__FMA__)
            // the same test with a sign mask per group (no horizontal reduction of the bits)
            if (ng > 0) {
                const __m256 cjf = _mm256_set1_ps(static_cast<float>(rc + rj)),
                             kjf = _mm256_set1_ps(static_cast<float>(rc * (0.5 * rc + rj) + kTestMargin)),
                             xjf = _mm256_set1_ps(static_cast<float>(xj)), yjf = _mm256_set1_ps(static_cast<float>(yj)),
                             zjf = _mm256_set1_ps(static_cast<float>(zj));
                const int jk = j << 16;
                for (int g = 0; g < ng; ++g) {
                    const int kb = ka + 8 * g;
                    // c r_ik − r_ij·r_ik, c = rc + r_ij
                    const __m256 q = _mm256_fnmadd_ps(
                        zjf, _mm256_loadu_ps(zf + kb),
                        _mm256_fnmadd_ps(yjf, _mm256_loadu_ps(yf + kb),
                                         _mm256_fnmadd_ps(xjf, _mm256_loadu_ps(xf + kb),
                                                          _mm256_mul_ps(cjf, _mm256_loadu_ps(rf + kb)))));
                    gbits[g] = static_cast<uint8_t>(_mm256_movemask_ps(_mm256_cmp_ps(q, kjf, _CMP_LT_OQ)));
                }
                for (int g = ng; g < ((ng + 7) & ~7); ++g) gbits[g] = 0;
                for (int g = 0; g < ng; g += 8) {  // (few candidates pass: one branch per 64)
                    uint64_t word;
                    __builtin_memcpy(&word, gbits + g, 8);  // bit l: candidate ka + 8g + l
                    for (; word; word &= word - 1) ok[no++] = jk | (ka + 8 * g + __builtin_ctzll(word));
                }
            }
#else
            if (ng > 0) {
                const float cjf = static_cast<float>(rc + rj), kjf = static_cast<float>(rc * (0.5 * rc + rj) + kTestMargin),
                            xjf = static_cast<float>(xj), yjf = static_cast<float>(yj), zjf = static_cast<float>(zj);
                for (int g = 0; g < ng; ++g) {
                    const int kb = ka + 8 * g;
                    unsigned bits = 0;
#pragma omp simd reduction(| : bits)
                    for (int l = 0; l < 8; ++l) {
                        const float q = cjf * rf[kb + l] - xjf * xf[kb + l] - yjf * yf[kb + l] - zjf * zf[kb + l];
                        bits |= static_cast<unsigned>(q < kjf) << l;
                    }
                    gbits[g] = static_cast<uint8_t>(bits);
                }
                for (int g = ng; g < ((ng + 7) & ~7); ++g) gbits[g] = 0;
                const int jk = j << 16;
                for (int g = 0; g < ng; g += 8) {
                    uint64_t word;
                    __builtin_memcpy(&word, gbits + g, 8);  // bit l: candidate ka + 8g + l
                    for (; word; word &= word - 1) ok[no++] = jk | (ka + 8 * g + __builtin_ctzll(word));
                }
            }
#endif
        }
        for (; (no - b0) & 3; ++no) ok[no] = (j1 - 1) << 16 | a.m;  // padding entries (with the last bond)
        ostart[j1] = no;
        // ---- 2. all entries of the tile: pair entries p (local p − a0), compacted entries q
        // (local nA + q − b0) ----
        const int nA = base - a0, nT = nA + no - b0;
        SIMD
        for (int q = b0; q < no; ++q) {  // the compacted ones' geometry
            const int j = ok[q] >> 16, k = ok[q] & 0xffff, l = nA + q - b0;
            const double ex = x[k] - x[j], ey = y[k] - y[j], ez = z[k] - z[j];
            const double rjk = std::sqrt(ex * ex + ey * ey + ez * ez);
            OX[q] = ex;  // (for the derivative pass)
            OY[q] = ey;
            OZ[q] = ez;
            D1[l] = rjk;
            X1[l] = r[k] + rjk - r[j];
            if (kFact)
                E1[l] = P[k] * Q[j];
            else
                L1[l] = lam[type[j] * S + type[k]];
        }
#if defined(__AVX2__) && defined(__FMA__)
        if (kFact) {  // (nA and nT − nA are multiples of 4)
            const __m256d nl = _mm256_set1_pd(-lam0);
            for (int l = 0; l < nA; l += 4) {
                const __m256d E = vexp_table4(_mm256_mul_pd(nl, _mm256_loadu_pd(D1 + l)));  // λ r_jk < 350
                _mm256_storeu_pd(E1 + l, _mm256_mul_pd(_mm256_loadu_pd(E1 + l), E));
                _mm256_storeu_pd(E2 + l, _mm256_mul_pd(_mm256_loadu_pd(E2 + l), E));
            }
            for (int l = nA; l < nT; l += 4)
                _mm256_storeu_pd(E1 + l, _mm256_mul_pd(_mm256_loadu_pd(E1 + l),
                                                       vexp_table4(_mm256_mul_pd(nl, _mm256_loadu_pd(D1 + l)))));
        } else
#endif
        {
            SIMD
            for (int l = 0; l < nA; ++l) {
                if (kFact) {
                    const double E = vexp_table(-lam0 * D1[l]);  // λ r_jk < 350
                    E1[l] *= E;
                    E2[l] *= E;
                } else {
                    E1[l] = vexp(-L1[l] * X1[l]);
                    E2[l] = vexp(-L2[l] * X2[l]);
                }
            }
            SIMD
            for (int l = nA; l < nT; ++l) E1[l] = kFact ? E1[l] * vexp_table(-lam0 * D1[l]) : vexp(-L1[l] * X1[l]);
        }
        SIMD
        for (int l = 0; l < nA; ++l) {  // pairs of bonds: two triplets
            const double x1 = X1[l], x2 = X2[l], e1 = E1[l], e2 = E2[l];
            const double la = kFact ? lam0 : L1[l], lb = kFact ? lam0 : L2[l];
            const Triplet T1 = triplet_terms(x1, e1, rc, ih), T2 = triplet_terms(x2, e2, rc, ih);
            double s1, g1 = 0.0, d1 = 0.0, s2, g2 = 0.0, d2 = 0.0, ir = 0.0;
            const double rjk = std::max(D1[l], kTinyDistance);
            if (kSafe) {
                triplet_factor_guarded<kGrad>(T1, x1, e1, la, s1, g1, d1);
                triplet_factor_guarded<kGrad>(T2, x2, e2, lb, s2, g2, d2);
                if (kGrad) ir = 1.0 / rjk;
            } else if (kGrad) {
                // 1/(N1 D1), 1/(N2 D2) and 1/r_jk from one division
                const double n1 = T1.N * T1.D, n2 = T2.N * T2.D;
                const double n12 = n1 * n2;
                const double q = 1.0 / (n12 * rjk);
                triplet_factor<true>(T1, x1, e1, la, n2 * rjk * q, s1, g1, d1);
                triplet_factor<true>(T2, x2, e2, lb, n1 * rjk * q, s2, g2, d2);
                ir = n12 * q;
            } else {
                const double q = 1.0 / (T1.D * T2.D);
                s1 = T1.N * T2.D * q;
                s2 = T2.N * T1.D * q;
            }
            X1[l] = s1;
            X2[l] = s2;
            if (kGrad) {
                G1[a0 + l] = g1;
                G2[a0 + l] = g2;
                IR[a0 + l] = ir;
                D1[l] = d1;
                D2[l] = d2;
            }
        }
        SIMD
        for (int l = nA; l < nT; ++l) {  // compacted entries: one triplet
            const double x1 = X1[l], e1 = E1[l];
            const double la = kFact ? lam0 : L1[l];
            const Triplet T1 = triplet_terms(x1, e1, rc, ih);
            double s1, g1 = 0.0, d1 = 0.0, ir = 0.0;
            const double rjk = std::max(D1[l], kTinyDistance);
            if (kSafe) {
                triplet_factor_guarded<kGrad>(T1, x1, e1, la, s1, g1, d1);
                if (kGrad) ir = 1.0 / rjk;
            } else if (kGrad) {
                const double n1 = T1.N * T1.D;
                const double q1 = 1.0 / (n1 * rjk);
                triplet_factor<true>(T1, x1, e1, la, rjk * q1, s1, g1, d1);
                ir = n1 * q1;
            } else {
                s1 = T1.N / T1.D;
            }
            X1[l] = s1;
            if (kGrad) {
                G1[b0 - nA + l] = g1;
                IR[b0 - nA + l] = ir;
                D1[l] = d1;
            }
        }
        // ---- 3. products ----
        for (int j = j0, pl = 0; j < j1; ++j) {
            const int k0 = bond_first(j), na = ka - k0, tj = type[j];
            const double *__restrict s1 = X1 + pl, *__restrict s2 = X2 + pl, *__restrict d1 = D1 + pl,
                         *__restrict d2 = D2 + pl;
            double* __restrict Sk = Sb + k0;
            double prod = 1.0, dl = 0.0;
            const int lo = nA + ostart[j] - b0, hi = nA + ostart[j + 1] - b0;
            if (kGrad && kFact) {
                double* __restrict Lk = Lam + k0;
                double pv[4] = {1.0, 1.0, 1.0, 1.0}, dv[4] = {0.0, 0.0, 0.0, 0.0};  // per lane
                for (int b = 0; b < na; b += 4)
                    SIMD
                    for (int l = 0; l < 4; ++l) {
                        pv[l] *= s1[b + l];
                        Sk[b + l] *= s2[b + l];
                        dv[l] += d1[b + l];
                        Lk[b + l] += d2[b + l];
                    }
                prod = (pv[0] * pv[1]) * (pv[2] * pv[3]);
                dl = (dv[0] + dv[1]) + (dv[2] + dv[3]);
#pragma omp simd reduction(* : prod) reduction(+ : dl)
                for (int l = lo; l < hi; ++l) {
                    prod *= X1[l];
                    dl += D1[l];
                }
                Lam[j] += dl;
            } else {
                double pv[4] = {1.0, 1.0, 1.0, 1.0};
                for (int b = 0; b < na; b += 4)
                    SIMD
                    for (int l = 0; l < 4; ++l) {
                        pv[l] *= s1[b + l];
                        Sk[b + l] *= s2[b + l];
                    }
                prod = (pv[0] * pv[1]) * (pv[2] * pv[3]);
#pragma omp simd reduction(* : prod)
                for (int l = lo; l < hi; ++l) prod *= X1[l];
            }
            Sb[j] *= prod;
            if (kGrad && !kFact) {
                const int* __restrict tk = type + k0;
                double* __restrict Lk = Lam + k0 * S + tj;
                for (int t = 0; t < na; ++t) Lk[t * S] += d2[t];
                for (int c = 0; c < S; ++c) {
                    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
                    for (int t = 0; t < na; ++t) acc += tk[t] == c ? d1[t] : 0.0;
#pragma omp simd reduction(+ : acc)
                    for (int l = lo; l < hi; ++l) acc += type[ok[b0 - nA + l] & 0xffff] == c ? D1[l] : 0.0;
                    Lam[j * S + c] += acc;
                }
            }
            pl += na;
        }
        j0 = j1;
    }
    ostart[nb] = no;
}

// Screening, derivative pass: with L_j = dE/d log S_ij, every triplet adds
// g = L d log|s|/dx times dx/dr: x_ijk = r_ik + r_jk − r_ij has dx/dr_ik = û_k + d̂,
// dx/dr_ij = −û_j − d̂ (d̂ = (r_ik − r_ij)/r_jk), and x_ikj the mirror image. For a pair of
// bonds with g1 (screening j) and g2 (screening k): r_ik gets (g1 − g2) û_k + (g1 + g2) d̂ and
// r_ij the opposite. The û terms are collected as coefficients cu (applied by the caller).
// L is zero past the bonds (so padding and mirror triplets of non-bonds add nothing).
void screening_backward(const Sorted& a, const double* __restrict L, const PinnBOPKernel::Buffers& B,
                        double* __restrict cu, double* __restrict gx, double* __restrict gy, double* __restrict gz) {
    const int nb = a.nb, ka = (nb + 3) & ~3;
    const double *__restrict x = a.x, *__restrict y = a.y, *__restrict z = a.z;
    const double *__restrict G1 = B.t_g1.data(), *__restrict G2 = B.t_g2.data(), *__restrict IR = B.t_ir.data();
    const int *__restrict ok = B.o_k.data(), *__restrict ostart = B.o_start.data();
    const double *__restrict OX = B.o_x.data(), *__restrict OY = B.o_y.data(), *__restrict OZ = B.o_z.data();
    int base = 0;
    for (int j = 0; j < nb; ++j) {
        const double xj = x[j], yj = y[j], zj = z[j], Lj = L[j];
        const int k0 = bond_first(j), na = ka - k0;
        const double* __restrict pdx = G1 + base;
        const double* __restrict pdx2 = G2 + base;
        const double* __restrict pir = IR + base;
        const double* __restrict xk = x + k0;
        const double* __restrict yk = y + k0;
        const double* __restrict zk = z + k0;
        const double* __restrict Lk = L + k0;
        double* __restrict cuk = cu + k0;
        double* __restrict gxk = gx + k0;
        double* __restrict gyk = gy + k0;
        double* __restrict gzk = gz + k0;
        double u4[4] = {0.0, 0.0, 0.0, 0.0}, x4[4] = {0.0, 0.0, 0.0, 0.0}, y4[4] = {0.0, 0.0, 0.0, 0.0},
               z4[4] = {0.0, 0.0, 0.0, 0.0};  // per-lane sums (whole blocks of 4: no remainder code)
        for (int b = 0; b < na; b += 4)
            SIMD
            for (int l = 0; l < 4; ++l) {
                const int t = b + l;
                const double g1 = Lj * pdx[t], g2 = Lk[t] * pdx2[t];
                const double A = g1 - g2, C = (g1 + g2) * pir[t];
                const double ax = C * (xk[t] - xj), ay = C * (yk[t] - yj), az = C * (zk[t] - zj);
                cuk[t] += A;
                gxk[t] += ax;
                gyk[t] += ay;
                gzk[t] += az;
                u4[l] += A;
                x4[l] += ax;
                y4[l] += ay;
                z4[l] += az;
            }
        double su = (u4[0] + u4[1]) + (u4[2] + u4[3]), sx = (x4[0] + x4[1]) + (x4[2] + x4[3]),
               sy = (y4[0] + y4[1]) + (y4[2] + y4[3]), sz = (z4[0] + z4[1]) + (z4[2] + z4[3]);
        base += na;
        // compacted neighbours beyond rc (distinct within one bond: no write conflicts)
#pragma omp simd reduction(+ : su, sx, sy, sz)
        for (int q = ostart[j]; q < ostart[j + 1]; ++q) {
            const int k = ok[q] & 0xffff;
            const double g1 = Lj * G1[q];
            const double C = g1 * IR[q];
            const double ax = C * OX[q], ay = C * OY[q], az = C * OZ[q];
            cu[k] += g1;
            gx[k] += ax;
            gy[k] += ay;
            gz[k] += az;
            su += g1;
            sx += ax;
            sy += ay;
            sz += az;
        }
        cu[j] -= su;
        gx[j] -= sx;
        gy[j] -= sy;
        gz[j] -= sz;
    }
}

// ---- bond order, pair terms, promotion energy ----
//
// Per species t of the bonds k, the moments M_t = Σ_k w_k û_k û_kᵀ (symmetric: xx, xy, xz, yy,
// yz, zz), V_t = Σ_k w_k û_k and m0_t = Σ_k w_k, w_k = S_ik f_c(r_ik), give
//   z_ij = Σ_t a[t_j][t] (û_j·M_t·û_j − 2h û_j·V_t + h² m0_t) − a[t_j][t_j] w_j (1 − h[t_j][t_j])²
// (the k = j term removed), h = h[t_j][t]. Their gradients are kept in the same layout.
constexpr int kMom = 10;

// û·M·û − 2h û·V + h² m0 and M û of one bond and one species' moments
inline double moment_form(const double* __restrict M, double ux, double uy, double uz, double h, double& mx,
                          double& my, double& mz, double& lin) {
    mx = M[0] * ux + M[1] * uy + M[2] * uz;
    my = M[1] * ux + M[3] * uy + M[4] * uz;
    mz = M[2] * ux + M[4] * uy + M[5] * uz;
    lin = M[6] * ux + M[7] * uy + M[8] * uz;
    return (mx * ux + my * uy + mz * uz) - 2.0 * h * lin + h * h * M[9];
}

// Σ_k f(k) (û û (6), û (3), 1) over the bonds k < nb (of species t unless kS = 1)
template <int kS>
void bond_moments(int nb, int t, const int* __restrict type, const double* __restrict f, const double* __restrict ux,
                  const double* __restrict uy, const double* __restrict uz, double* __restrict out) {
    double m[kMom] = {0.0};
#pragma omp simd reduction(+ : m[:kMom])
    for (int e = 0; e < nb; ++e) {
        const double we = (kS == 1 || type[e] == t) ? f[e] : 0.0;
        const double wx = we * ux[e], wy = we * uy[e], wz = we * uz[e];
        m[0] += wx * ux[e];
        m[1] += wx * uy[e];
        m[2] += wx * uz[e];
        m[3] += wy * uy[e];
        m[4] += wy * uz[e];
        m[5] += wz * uz[e];
        m[6] += wx;
        m[7] += wy;
        m[8] += wz;
        m[9] += we;
    }
    for (int c = 0; c < kMom; ++c) out[c] = m[c];
}

// E_i from the screened bonds, and (want) the derivatives: B.dS = dE/dS_ij, B.dr = the radial
// dE/dr_ij at fixed û_ij, B.gux/guy/guz = dE/dû_ij, dp (if not null) = dE/dp_i except λ.
// Vectorised over the bonds; kS = 1: one species (compile time), 0: S species.
template <int kS>
double bond_terms(int nb, int S_rt, const double* __restrict r, const double* __restrict ux,
                  const double* __restrict uy, const double* __restrict uz, const int* __restrict type,
                  const double* __restrict Sb, const double* __restrict p, double rc, double hc, bool want,
                  double* __restrict dp, PinnBOPKernel::Buffers& B) {
    const int S = kS > 0 ? kS : S_rt;
    const double *__restrict pA = p, *__restrict pal = p + S, *__restrict pB = p + 2 * S,
                 *__restrict pbe = p + 3 * S, *__restrict ph = p + 4 * S;
    const int o_sigma = 4 * S + S * S, o_a = o_sigma + 1;
    const double sigma = p[o_sigma];
    const double* __restrict pa = p + o_a;
    double *__restrict fc = B.fc.data(), *__restrict dfc = B.dfc.data(), *__restrict rep = B.rep.data(),
           *__restrict att = B.att.data(), *__restrict w = B.w.data(), *__restrict bo = B.b.data(),
           *__restrict db = B.dbdz.data();
    SIMD
    for (int e = 0; e < nb; ++e) {
        const int tb = kS == 1 ? 0 : type[e];
        pinn_cutoff(r[e], rc, hc, fc[e], dfc[e]);
        rep[e] = vexp(pA[tb] - pal[tb] * r[e]);
        att[e] = vexp(pB[tb] - pbe[tb] * r[e]);
        w[e] = Sb[e] * fc[e];
    }
    B.moments.assign(2 * S * kMom, 0.0);  // second half: their gradients
    double* __restrict mom = B.moments.data();
    for (int t = 0; t < S; ++t) bond_moments<kS>(nb, t, type, w, ux, uy, uz, mom + t * kMom);
    double E = 0.0, Phi = 0.0;
#pragma omp simd reduction(+ : E, Phi)
    for (int e = 0; e < nb; ++e) {
        const int tb = kS == 1 ? 0 : type[e];
        double zb = 0.0, mx, my, mz, lin;
        for (int t = 0; t < S; ++t)
            zb += pa[tb * S + t] * moment_form(mom + t * kMom, ux[e], uy[e], uz[e], ph[tb * S + t], mx, my, mz, lin);
        const double hjj = ph[tb * S + tb];
        zb -= pa[tb * S + tb] * w[e] * (1.0 - hjj) * (1.0 - hjj);
        // b = (1 + z)^{−1/2}; the authors' guard where 1 + z ≤ 0 (a network may make a < 0)
        const double onez = 1.0 + zb;
        const bool bad = onez <= 0.0;
        const double bb = 1.0 / std::sqrt(bad ? std::fabs(onez) + 1e-20 : onez);
        bo[e] = bb;
        db[e] = bad ? (onez < 0.0 ? 0.5 * bb * bb * bb : 0.0) : -0.5 * bb * bb * bb;
        E += 0.5 * (rep[e] - Sb[e] * bb * att[e]) * fc[e];
        Phi += Sb[e] * bb * fc[e];
    }
    const double sq = Phi > 0 ? std::sqrt(Phi) : 0.0;
    E += Phi > 0 ? -sigma * sq : 0.0;
    if (!want) return E;

    const double dPhi = Phi > 0 ? -0.5 * sigma / sq : 0.0;  // dE/dΦ
    double *__restrict dS = B.dS.data(), *__restrict dr = B.dr.data(), *__restrict gux = B.gux.data(),
           *__restrict guy = B.guy.data(), *__restrict guz = B.guz.data(), *__restrict G = B.G.data();
    double* __restrict gmom = mom + S * kMom;
    // per bond; G = dE/dz_ij; dS and the radial derivative get the moment terms below
    SIMD
    for (int e = 0; e < nb; ++e) {
        const int tb = kS == 1 ? 0 : type[e];
        const double q = -0.5 * att[e] + dPhi, Sbb = Sb[e] * bo[e];
        dS[e] = bo[e] * fc[e] * q;
        G[e] = Sb[e] * fc[e] * q * db[e];
        dr[e] = 0.5 * (-pal[tb] * rep[e] + pbe[tb] * Sbb * att[e]) * fc[e] +
                (0.5 * (rep[e] - Sbb * att[e]) + dPhi * Sbb) * dfc[e];  // (the f_c(r_ij) factor)
        double gx = 0.0, gy = 0.0, gz = 0.0, mx, my, mz, lin;
        for (int t = 0; t < S; ++t) {
            const double* __restrict M = mom + t * kMom;
            const double c = G[e] * pa[tb * S + t], hh = ph[tb * S + t];
            moment_form(M, ux[e], uy[e], uz[e], hh, mx, my, mz, lin);
            gx += c * (2.0 * mx - 2.0 * hh * M[6]);
            gy += c * (2.0 * my - 2.0 * hh * M[7]);
            gz += c * (2.0 * mz - 2.0 * hh * M[8]);
        }
        gux[e] = gx;
        guy[e] = gy;
        guz[e] = gz;
    }
    // gradients of the moments: Σ_j c (û û, −2h û, h²), c = G_j a[t_j][t]
    double* __restrict f = B.tmp.data();
    for (int t = 0; t < S; ++t) {
        double* __restrict gm = gmom + t * kMom;
        SIMD
        for (int e = 0; e < nb; ++e) f[e] = G[e] * pa[(kS == 1 ? 0 : type[e]) * S + t];
        bond_moments<1>(nb, 0, type, f, ux, uy, uz, gm);  // Σ c (û û, û, 1)
        // the û and 1 parts carry −2h and h², h = h[t_j][t] (per bond)
        double lin_h[4] = {0.0};
#pragma omp simd reduction(+ : lin_h[:4])
        for (int e = 0; e < nb; ++e) {
            const double hh = ph[(kS == 1 ? 0 : type[e]) * S + t], c = f[e];
            lin_h[0] += -2.0 * c * hh * ux[e];
            lin_h[1] += -2.0 * c * hh * uy[e];
            lin_h[2] += -2.0 * c * hh * uz[e];
            lin_h[3] += c * hh * hh;
        }
        for (int c = 0; c < 4; ++c) gm[6 + c] = lin_h[c];
    }
    if (dp) {
        dp[o_sigma] = -sq;
        for (int tb = 0; tb < S; ++tb) {
            double acc[4] = {0.0};
#pragma omp simd reduction(+ : acc[:4])
            for (int e = 0; e < nb; ++e) {
                const double mk = (kS == 1 || type[e] == tb) ? fc[e] : 0.0;
                const double sba = Sb[e] * bo[e] * att[e];
                acc[0] += 0.5 * rep[e] * mk;
                acc[1] += -0.5 * r[e] * rep[e] * mk;
                acc[2] += -0.5 * sba * mk;
                acc[3] += 0.5 * r[e] * sba * mk;
            }
            for (int c = 0; c < 4; ++c) dp[c * S + tb] += acc[c];
            const double hjj = ph[tb * S + tb], ajj = pa[tb * S + tb], om = 1.0 - hjj;
            for (int t = 0; t < S; ++t) {
                const double* __restrict M = mom + t * kMom;
                const double aa = pa[tb * S + t], hh = ph[tb * S + t];
                double da = 0.0, dh = 0.0;
#pragma omp simd reduction(+ : da, dh)
                for (int e = 0; e < nb; ++e) {
                    const double Ge = (kS == 1 || type[e] == tb) ? G[e] : 0.0;
                    double mx, my, mz, lin;
                    const double form = moment_form(M, ux[e], uy[e], uz[e], hh, mx, my, mz, lin);
                    da += Ge * form;
                    dh += Ge * aa * (-2.0 * lin + 2.0 * hh * M[9]);
                    if (t == tb) {  // the k = j term removed from z_ij
                        da -= Ge * w[e] * om * om;
                        dh += Ge * ajj * w[e] * 2.0 * om;
                    }
                }
                dp[o_a + tb * S + t] += da;
                dp[4 * S + tb * S + t] += dh;
            }
        }
    }
    // through the moments: w_k = S_ik f_c(r_ik) and û_k
    SIMD
    for (int e = 0; e < nb; ++e) {
        const int tb = kS == 1 ? 0 : type[e];
        const double* __restrict gm = gmom + tb * kMom;
        const double hjj = ph[tb * S + tb], om = 1.0 - hjj;
        double mx, my, mz, lin;
        moment_form(gm, ux[e], uy[e], uz[e], 0.0, mx, my, mz, lin);  // gM û and gV·û
        const double dw = gm[9] + (mx * ux[e] + my * uy[e] + mz * uz[e]) + lin - G[e] * pa[tb * S + tb] * om * om;
        gux[e] += w[e] * (2.0 * mx + gm[6]);
        guy[e] += w[e] * (2.0 * my + gm[7]);
        guz[e] += w[e] * (2.0 * mz + gm[8]);
        dS[e] += dw * fc[e];
        dr[e] += dw * Sb[e] * dfc[e];
    }
    return E;
}

}  // namespace

double PinnBOPKernel::energy(int n, const double* __restrict dx, const double* __restrict dy,
                             const double* __restrict dz, const int* __restrict type_in, const double* __restrict p,
                             double* __restrict gx_out, double* __restrict gy_out, double* __restrict gz_out,
                             double* __restrict dp, Buffers& B) const {
    const int S = S_;
    const double rc = rc_, hc = hc_;
    // parameters of atom i (layout in the header): λ[t_j][t_k] last
    const int o_lam = 4 * S + 2 * S * S + 1;
    const double* __restrict plam = p + o_lam;
    const bool want_v = gx_out != nullptr, want_p = dp != nullptr, want = want_v || want_p;
    if (want_v) {
        std::fill(gx_out, gx_out + n, 0.0);
        std::fill(gy_out, gy_out + n, 0.0);
        std::fill(gz_out, gz_out + n, 0.0);
    }
    if (want_p) std::fill(dp, dp + n_params(), 0.0);

    // Neighbours with 0 < r < 1.5 rc (no other can enter E_i), counting-sorted into distance
    // bins: kBond bins below rc (the bonds are exactly the first nb entries), kBins − kBond
    // from rc to 1.5 rc, so that a bond's screening candidates (r_ik < r_ij + rc/2) form a
    // prefix.
    constexpr int kBond = 64, kBins = 96;
    const double rmax = 1.5 * rc, inv_bin = kBond / rc;
    grow(B.rall, n);
    grow(B.perm, n);
    grow(B.type, n);  // bin of each pair first, species of the sorted neighbours later
    double* __restrict rall = B.rall.data();
    SIMD
    for (int e = 0; e < n; ++e) rall[e] = std::sqrt(dx[e] * dx[e] + dy[e] * dy[e] + dz[e] * dz[e]);
    B.bin_start.assign(kBins + 2, 0);
    int* __restrict bin_start = B.bin_start.data();
    int* __restrict ebin = B.type.data();
    SIMD
    for (int e = 0; e < n; ++e) {
        const double rr = rall[e];
        const int bb = static_cast<int>(std::min(rr * inv_bin, static_cast<double>(kBins)));
        const int b = rr < rc ? std::min(bb, kBond - 1) : std::max(std::min(bb, kBins - 1), kBond);
        ebin[e] = rr > 0 && rr < rmax ? b : -1;
    }
    for (int e = 0; e < n; ++e)
        if (ebin[e] >= 0) ++bin_start[ebin[e] + 2];
    for (int b = 2; b <= kBins + 1; ++b) bin_start[b] += bin_start[b - 1];
    for (int e = 0; e < n; ++e)
        if (ebin[e] >= 0) B.perm[bin_start[ebin[e] + 1]++] = e;
    const int m = bin_start[kBins];  // bin_start[b] is now the first entry of bin b
    const int nb = bin_start[kBond];
    if (nb == 0) return 0.0;
    if (m > 0xffff)  // the screening packs neighbour indices into 16 bits
        throw std::invalid_argument("pinn_bop: more than 65535 neighbours within 1.5 rc of one atom");
    // sorted neighbours, followed by kPad padding entries read by the padding lanes of the loops
    // over pairs and candidates (their outputs are discarded)
    for (auto* v : {&B.x, &B.y, &B.z, &B.r, &B.ux, &B.uy, &B.uz, &B.P, &B.Q, &B.gx, &B.gy, &B.gz, &B.cu}) {
        grow(*v, m + kPad);
        std::fill(v->begin() + m, v->begin() + m + kPad, 0.0);
    }
    for (auto* v : {&B.x, &B.r}) std::fill(v->begin() + m, v->begin() + m + kPad, kPadding * rc);
    grow(B.type, m + kPad);
    std::fill(B.type.begin() + m, B.type.begin() + m + kPad, 0);
    const int* __restrict perm = B.perm.data();
    double *__restrict x = B.x.data(), *__restrict y = B.y.data(), *__restrict z = B.z.data();
    double *__restrict r = B.r.data(), *__restrict ux = B.ux.data(), *__restrict uy = B.uy.data(),
           *__restrict uz = B.uz.data();
    int* __restrict type = B.type.data();
    SIMD
    for (int c = 0; c < m; ++c) {
        const int e = perm[c];
        x[c] = dx[e];
        y[c] = dy[e];
        z[c] = dz[e];
        type[c] = type_in[e];
        const double rr = rall[e], ir = 1.0 / rr;
        r[c] = rr;
        ux[c] = dx[e] * ir;
        uy[c] = dy[e] * ir;
        uz[c] = dz[e] * ir;
    }
    for (auto* v : {&B.fc, &B.dfc, &B.S, &B.w, &B.b, &B.dbdz, &B.att, &B.rep, &B.dS, &B.tmp, &B.dr, &B.gux,
                    &B.guy, &B.guz, &B.G})
        grow(*v, m + kPad);

    // screening S_ij of every bond
    grow(B.kend, nb);
    grow(B.o_start, nb + 1);
    // single-precision copies of the neighbours beyond rc for the candidate test (gbits: its
    // result, one bit per candidate)
    for (auto* v : {&B.xf, &B.yf, &B.zf, &B.rf}) grow(*v, m + kPad);
    grow(B.gbits, (m + 64) / 8 + 8);
    {
        const int ka = (nb + 3) & ~3;
        float *__restrict xf = B.xf.data(), *__restrict yf = B.yf.data(), *__restrict zf = B.zf.data(),
              *__restrict rf = B.rf.data();
        SIMD
        for (int c = ka; c < m + kPad; ++c) {
            xf[c] = static_cast<float>(x[c]);
            yf[c] = static_cast<float>(y[c]);
            zf[c] = static_cast<float>(z[c]);
            rf[c] = static_cast<float>(r[c]);
        }
    }
    int n_far = 0;
    for (int j = 0; j < nb; ++j) {
        const int bj = static_cast<int>(std::min((r[j] + 0.5 * rc) * inv_bin, static_cast<double>(kBins)));
        B.kend[j] = bin_start[std::min(kBins, bj + 2)];  // one bin of margin for the rounding of the bound
        n_far += std::max(0, B.kend[j] - nb) + 8;  // rounded up to blocks of 4, padding per tile
    }
    const size_t n_entries = static_cast<size_t>(nb) * (nb + 1) / 2 + 4 * static_cast<size_t>(nb) + n_far;
    grow(B.lam, static_cast<size_t>(m + kPad) * S);
    grow(B.o_k, n_entries);
    for (auto* v : {&B.t_g1, &B.t_g2, &B.t_ir, &B.o_x, &B.o_y, &B.o_z}) grow(*v, n_entries);
    // (per tile; a tile has at most kTile + ka pair entries)
    for (auto* v : {&B.t_s1, &B.t_s2, &B.t_e1, &B.t_e2, &B.t_d1, &B.t_d2, &B.t_l1, &B.t_l2}) grow(*v, n_entries);
    const Sorted srt{m, nb, S, x, y, z, r, type};
    bool negative = false;
    for (int c = 0; c < S * S; ++c) negative |= !(plam[c] >= 0.0);
    const bool fact = S == 1 && !negative && plam[0] * rc < 100.0;
    if (fact) {
        double *__restrict P = B.P.data(), *__restrict Q = B.Q.data();
        const double lam0 = plam[0];
        SIMD
        for (int c = 0; c < m; ++c) P[c] = vexp_in_range(-lam0 * r[c]);  // λ r < 150
        // Q is read only for the bonds and the pair entries up to nb rounded up to 4
        const int mq = std::min(m, (nb + 3) & ~3);
        SIMD
        for (int c = 0; c < mq; ++c) Q[c] = vexp_in_range(lam0 * r[c]);
        if (want)
            screening_forward<true, false, true>(srt, P, Q, plam, rc, hc, B);
        else
            screening_forward<true, false, false>(srt, P, Q, plam, rc, hc, B);
    } else if (!negative) {
        if (want)
            screening_forward<false, false, true>(srt, B.P.data(), B.Q.data(), plam, rc, hc, B);
        else
            screening_forward<false, false, false>(srt, B.P.data(), B.Q.data(), plam, rc, hc, B);
    } else {
        if (want)
            screening_forward<false, true, true>(srt, B.P.data(), B.Q.data(), plam, rc, hc, B);
        else
            screening_forward<false, true, false>(srt, B.P.data(), B.Q.data(), plam, rc, hc, B);
    }
    const double* __restrict Sb = B.S.data();

    const double E = S == 1 ? bond_terms<1>(nb, S, r, ux, uy, uz, type, Sb, p, rc, hc, want, dp, B)
                            : bond_terms<0>(nb, S, r, ux, uy, uz, type, Sb, p, rc, hc, want, dp, B);
    if (!want) return E;
    double *__restrict gx = B.gx.data(), *__restrict gy = B.gy.data(), *__restrict gz = B.gz.data(),
           *__restrict cu = B.cu.data();
    std::fill(gx, gx + m, 0.0);
    std::fill(gy, gy + m, 0.0);
    std::fill(gz, gz + m, 0.0);
    std::fill(cu, cu + m, 0.0);
    // screening: L_j = dE/d log S_ij = S_ij dE/dS_ij (B.dS is overwritten with it)
    double* __restrict L = B.dS.data();
    for (int e = 0; e < nb; ++e) L[e] *= Sb[e];
    std::fill(L + nb, L + m + kPad, 0.0);  // read for the neighbours beyond rc and the padding
    if (want_p) {
        const double* __restrict Lam = B.lam.data();
        for (int e = 0; e < nb; ++e) {
            const int tb = type[e];
            for (int c = 0; c < S; ++c) dp[o_lam + tb * S + c] += L[e] * Lam[e * S + c];
        }
    }
    if (want_v) {
        screening_backward(srt, L, B, cu, gx, gy, gz);
        SIMD
        for (int e = 0; e < nb; ++e) {  // dû/dr = (I − ûûᵀ)/r
            const double ug = B.gux[e] * ux[e] + B.guy[e] * uy[e] + B.guz[e] * uz[e];
            const double inv = 1.0 / r[e];
            cu[e] += B.dr[e] - ug * inv;
            gx[e] += B.gux[e] * inv;
            gy[e] += B.guy[e] * inv;
            gz[e] += B.guz[e] * inv;
        }
        for (int c = 0; c < m; ++c) {
            const int e = perm[c];
            gx_out[e] = gx[c] + cu[c] * ux[c];
            gy_out[e] = gy[c] + cu[c] * uy[c];
            gz_out[e] = gz[c] + cu[c] * uz[c];
        }
    }
    return E;
}

}  // namespace physml
