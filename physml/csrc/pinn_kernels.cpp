// Torch-free per-atom kernels: Gaussian–Legendre descriptors and the PINN bond-order site
// energy with exact first derivatives. See pinn_kernels.h for the equations and layouts.
//
// Cost per centre atom with n neighbours in the list and nb bonds (r < rc):
//   descriptors: O(n · n_angular · n_centres) forward and backward (addition theorem), as
//     small dense loops over the atom's pairs in structure-of-arrays buffers;
//   bond order: O(nb · S) from per-atom moments of the bonds;
//   screening: O(nb · n) candidate tests (dot products, no sqrt), then one sqrt and one exp
//     per triplet with x_ijk < rc, vectorised over the atom's triplets.
// The derivatives of a site energy involve only that atom's own pairs, so they are computed
// in the same call while the atom's triplets are in cache.
#include "pinn_kernels.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <x86intrin.h>
double g_prof[16]; unsigned long long g_prof_t;

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

// Neighbours of atom i in distance order (bonds r < rc first), structure of arrays.
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
// are tested without sqrt (x < rc ⟺ r_jk < t = rc + r_ij − r_ik, t > 0) and compacted first,
// as few of them pass; their mirror triplet (i; k, j) is evaluated too but discarded (k is
// not a bond). Three passes, each a simple vectorised loop with short dependency chains:
//   1. per bond j, its entries (j, k): r_jk, x_ijk, x_ikj and the two exponentials;
//   2. over all entries of the atom at once: the two factors s and their log-derivatives
//      (one division per entry);
//   3. per bond j: the products S_ij and S_ik, and Σ d log|s|/dλ.
// Bond j's entries are the neighbours k in [4⌊(j + 1)/4⌋, ka), ka = nb rounded up to a multiple
// of 4: whole aligned blocks of 4 (no scalar remainder loops, and the accumulations into
// S_ik, Σ_k and the gradients of k reuse the same aligned vectors from one bond to the next,
// which store-to-load forwarding needs). The entries k ≤ j get x = far away (s = 1); the last
// ones may run past the bonds into the neighbours beyond rc (whose (i; j, k) is then done here
// and not among the compacted ones) or into the far-away padding entries. Compacted lists are
// padded with a far-away entry.
//
// kFact (one species, 0 ≤ λ, λ rc < 100): e^{−λx_ijk} = e^{−λ r_jk} e^{−λ r_ik} e^{λ r_ij} with
// the per-neighbour tables P = e^{−λr}, Q = e^{λr}, so one exponential per pair serves both
// triplets. Every factor is below e^{4.5 λ rc} and the product below e^{6 λ rc} < e^{600}
// (r_ij, r_ik < 1.5 rc, r_jk < 3 rc): no overflow, and each factor is accurate to ≤ 2 ulp,
// as accurate as e^{−λx} of the rounded x itself. Otherwise (several species: λ_i[t_j][t_k]
// and λ_i[t_k][t_j] may differ) each triplet has its own exponential. kSafe: some λ < 0.
inline int bond_first(int j) { return (j + 1) & ~3; }

template <bool kFact, bool kSafe, bool kGrad>
void screening_forward(const Sorted& a, const double* __restrict P, const double* __restrict Q,
                       const double* __restrict lam, double rc, double hc, PinnBOPKernel::Buffers& B) {
    const int nb = a.nb, S = a.S;
    const double ih = 1.0 / hc;
    const double *__restrict x = a.x, *__restrict y = a.y, *__restrict z = a.z, *__restrict r = a.r;
    const int* __restrict type = a.type;
    const int* __restrict kend = B.kend.data();
    double* __restrict Sb = B.S.data();
    double* __restrict Lam = B.lam.data();  // (m + 4, S): Σ_k d log|s_ijk|/dλ per species of k
    // per entry; pass 2 overwrites x1, x2 with s1, s2 and e1, e2 with d log|s|/dx
    double *__restrict X1 = B.t_s1.data(), *__restrict X2 = B.t_s2.data(), *__restrict E1 = B.t_g1.data(),
           *__restrict E2 = B.t_g2.data(), *__restrict D1 = B.t_d1.data(), *__restrict D2 = B.t_d2.data(),
           *__restrict IR = B.t_ir.data(), *__restrict L1 = B.t_l1.data(), *__restrict L2 = B.t_l2.data();
    int *__restrict ok = B.o_k.data(), *__restrict ostart = B.o_start.data();
    int64_t* __restrict mask = B.mask.data();
    const double lam0 = lam[0];
    double lcol[kMaxSpecies];
    const int ka = (nb + 3) & ~3;
    int NA = 0;
    for (int j = 0; j < nb; ++j) NA += ka - bond_first(j);
    // ---- pass 1 ----
    int base = 0, no = NA;
    for (int j = 0; j < nb; ++j) {
        const double xj = x[j], yj = y[j], zj = z[j], rj = r[j];
        const int tj = type[j];
        const double* __restrict lrow = lam + tj * S;  // λ_i[t_j][·]
        for (int t = 0; t < S; ++t) lcol[t] = lam[t * S + tj];  // λ_i[·][t_j]
        const double Pj = kFact ? P[j] : 0.0, Qj = kFact ? Q[j] : 0.0;
        const int k0 = bond_first(j), na = ka - k0;
        {
            const double* __restrict xk = x + k0;
            const double* __restrict yk = y + k0;
            const double* __restrict zk = z + k0;
            const double* __restrict rk = r + k0;
            const double* __restrict Pk = P + k0;
            const double* __restrict Qk = Q + k0;
            const int* __restrict tk = type + k0;
            double *__restrict x1 = X1 + base, *__restrict x2 = X2 + base, *__restrict e1 = E1 + base,
                   *__restrict e2 = E2 + base, *__restrict l1 = L1 + base, *__restrict l2 = L2 + base,
                   *__restrict d = D1 + base;
            SIMD
            for (int t = 0; t < na; ++t) {
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
        }
        base += na;
        // neighbours k beyond rc (not yet done above): test, compact, then as above
        ostart[j] = no;
        const int ke = kend[j];
        if (ke > ka) {
            const double tb = rc + rj;
            SIMD
            for (int k = ka; k < ke; ++k) {
                const double t = tb - r[k];
                const double ex = x[k] - xj, ey = y[k] - yj, ez = z[k] - zj;
                const double d2 = ex * ex + ey * ey + ez * ez;
                mask[k] = (t > 0.0) & (d2 < t * t);
            }
            const int lo = no;
            int k = ka;
            for (; k + 4 <= ke; k += 4) {
                ok[no] = k;
                no += static_cast<int>(mask[k]);
                ok[no] = k + 1;
                no += static_cast<int>(mask[k + 1]);
                ok[no] = k + 2;
                no += static_cast<int>(mask[k + 2]);
                ok[no] = k + 3;
                no += static_cast<int>(mask[k + 3]);
            }
            for (; k < ke; ++k) {
                ok[no] = k;
                no += static_cast<int>(mask[k]);
            }
            for (; (no - lo) & 3; ++no) ok[no] = a.m;  // padding: a far-away entry
            SIMD
            for (int q = lo; q < no; ++q) {
                const int kk = ok[q];
                const double ex = x[kk] - xj, ey = y[kk] - yj, ez = z[kk] - zj;
                const double rjk = std::sqrt(ex * ex + ey * ey + ez * ez);
                D1[q] = rjk;
                X1[q] = r[kk] + rjk - rj;
                X2[q] = rj + rjk - r[kk];
                if (kFact) {
                    E1[q] = P[kk] * Qj;
                    E2[q] = 0.0;
                } else {
                    L1[q] = lrow[type[kk]];
                    L2[q] = 0.0;
                }
            }
        }
    }
    ostart[nb] = no;
    // ---- pass 2: all entries ----
    SIMD
    for (int p = 0; p < no; ++p) {
        if (kFact) {
            const double E = vexp_in_range(-lam0 * D1[p]);  // λ r_jk < 350
            E1[p] *= E;
            E2[p] *= E;
        } else {
            E1[p] = vexp(-L1[p] * X1[p]);
            E2[p] = vexp(-L2[p] * X2[p]);
        }
    }
    SIMD
    for (int p = 0; p < no; ++p) {
        const double x1 = X1[p], x2 = X2[p], e1 = E1[p], e2 = E2[p];
        const double la = kFact ? lam0 : L1[p], lb = kFact ? lam0 : L2[p];
        const Triplet T1 = triplet_terms(x1, e1, rc, ih), T2 = triplet_terms(x2, e2, rc, ih);
        double s1, g1 = 0.0, d1 = 0.0, s2, g2 = 0.0, d2 = 0.0, ir = 0.0;
        const double rjk = std::max(D1[p], kTinyDistance);
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
        X1[p] = s1;
        X2[p] = s2;
        if (kGrad) {
            E1[p] = g1;
            E2[p] = g2;
            D1[p] = d1;
            D2[p] = d2;
            IR[p] = ir;
        }
    }
    // ---- pass 3: products ----
    std::fill(Sb, Sb + a.m + 4, 1.0);
    if (kGrad) std::fill(Lam, Lam + static_cast<size_t>(a.m + 4) * S, 0.0);
    base = 0;
    for (int j = 0; j < nb; ++j) {
        const int k0 = bond_first(j), na = ka - k0, tj = type[j];
        const double *__restrict s1 = X1 + base, *__restrict s2 = X2 + base, *__restrict d1 = D1 + base,
                     *__restrict d2 = D2 + base;
        double* __restrict Sk = Sb + k0;
        double prod = 1.0, dl = 0.0;
#pragma omp simd reduction(* : prod)
        for (int t = 0; t < na; ++t) {
            prod *= s1[t];
            Sk[t] *= s2[t];
        }
        const int lo = ostart[j], hi = ostart[j + 1];
#pragma omp simd reduction(* : prod)
        for (int q = lo; q < hi; ++q) prod *= X1[q];
        Sb[j] *= prod;
        if (kGrad) {
            if (kFact) {
                double* __restrict Lk = Lam + k0;
#pragma omp simd reduction(+ : dl)
                for (int t = 0; t < na; ++t) {
                    dl += d1[t];
                    Lk[t] += d2[t];
                }
#pragma omp simd reduction(+ : dl)
                for (int q = lo; q < hi; ++q) dl += D1[q];
                Lam[j] += dl;
            } else {
                const int* __restrict tk = type + k0;
                double* __restrict Lk = Lam + k0 * S + tj;
                for (int t = 0; t < na; ++t) Lk[t * S] += d2[t];
                for (int c = 0; c < S; ++c) {
                    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
                    for (int t = 0; t < na; ++t) acc += tk[t] == c ? d1[t] : 0.0;
#pragma omp simd reduction(+ : acc)
                    for (int q = lo; q < hi; ++q) acc += type[ok[q]] == c ? D1[q] : 0.0;
                    Lam[j * S + c] += acc;
                }
            }
        }
        base += na;
    }
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
        double su = 0.0, sx = 0.0, sy = 0.0, sz = 0.0;
#pragma omp simd reduction(+ : su, sx, sy, sz)
        for (int t = 0; t < na; ++t) {
            const double g1 = Lj * pdx[t], g2 = Lk[t] * pdx2[t];
            const double A = g1 - g2, C = (g1 + g2) * pir[t];
            const double ax = C * (xk[t] - xj), ay = C * (yk[t] - yj), az = C * (zk[t] - zj);
            cuk[t] += A;
            gxk[t] += ax;
            gyk[t] += ay;
            gzk[t] += az;
            su += A;
            sx += ax;
            sy += ay;
            sz += az;
        }
        base += na;
        // compacted neighbours beyond rc (distinct within one bond: no write conflicts)
#pragma omp simd reduction(+ : su, sx, sy, sz)
        for (int q = ostart[j]; q < ostart[j + 1]; ++q) {
            const int k = ok[q];
            const double g1 = Lj * G1[q];
            const double C = g1 * IR[q];
            const double ax = C * (x[k] - xj), ay = C * (y[k] - yj), az = C * (z[k] - zj);
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

}  // namespace

double PinnBOPKernel::energy(int n, const double* __restrict dx, const double* __restrict dy,
                             const double* __restrict dz, const int* __restrict type_in, const double* __restrict p,
                             double* __restrict gx_out, double* __restrict gy_out, double* __restrict gz_out,
                             double* __restrict dp, Buffers& B) const {
    const int S = S_;
    const double rc = rc_, hc = hc_;
    // parameters of atom i (layout in the header)
    const double* __restrict pA = p;
    const double* __restrict pal = p + S;
    const double* __restrict pB = p + 2 * S;
    const double* __restrict pbe = p + 3 * S;
    const double* __restrict ph = p + 4 * S;
    const int o_sigma = 4 * S + S * S, o_a = o_sigma + 1, o_lam = o_a + S * S;
    const double sigma = p[o_sigma];
    const double* __restrict pa = p + o_a;
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
    // sorted neighbours, followed by 4 far-away entries read by the padding lanes of the pair
    // loops (their outputs are discarded)
    for (auto* v : {&B.x, &B.y, &B.z, &B.r, &B.ux, &B.uy, &B.uz, &B.P, &B.Q, &B.gx, &B.gy, &B.gz, &B.cu}) {
        grow(*v, m + 4);
        std::fill(v->begin() + m, v->begin() + m + 4, 0.0);
    }
    for (auto* v : {&B.y, &B.z}) std::fill(v->begin() + m, v->begin() + m + 4, 0.0);
    for (auto* v : {&B.x, &B.r}) std::fill(v->begin() + m, v->begin() + m + 4, kPadding * rc);
    grow(B.type, m + 4);
    std::fill(B.type.begin() + m, B.type.begin() + m + 4, 0);
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
    for (auto* v : {&B.fc, &B.dfc, &B.S, &B.w, &B.b, &B.dbdz, &B.att, &B.rep, &B.dS, &B.dfc_total, &B.dr, &B.gux,
                    &B.guy, &B.guz, &B.dw})
        grow(*v, m + 4);

    // screening S_ij of every bond
    grow(B.kend, nb);
    grow(B.o_start, nb + 1);
    grow(B.mask, m);
    int n_far = 0;
    for (int j = 0; j < nb; ++j) {
        const int bj = static_cast<int>(std::min((r[j] + 0.5 * rc) * inv_bin, static_cast<double>(kBins)));
        B.kend[j] = bin_start[std::min(kBins, bj + 2)];  // one bin of margin for the rounding of the bound
        n_far += std::max(0, B.kend[j] - nb) + 4;  // padded to multiples of 4 per bond
    }
    const size_t n_entries = static_cast<size_t>(nb) * (nb + 1) / 2 + 4 * static_cast<size_t>(nb) + n_far;
    grow(B.lam, static_cast<size_t>(m + 4) * S);
    grow(B.o_k, n_entries);
    for (auto* v : {&B.t_s1, &B.t_s2, &B.t_g1, &B.t_g2}) grow(*v, n_entries);
    for (auto* v : {&B.t_d1, &B.t_d2, &B.t_ir, &B.t_l1, &B.t_l2}) grow(*v, n_entries);
    const Sorted srt{m, nb, S, x, y, z, r, type};
    bool negative = false;
    for (int c = 0; c < S * S; ++c) negative |= !(plam[c] >= 0.0);
    const bool fact = S == 1 && !negative && plam[0] * rc < 100.0;
    if (fact) {
        double *__restrict P = B.P.data(), *__restrict Q = B.Q.data();
        const double lam0 = plam[0];
        SIMD
        for (int c = 0; c < m; ++c) {
            P[c] = vexp_in_range(-lam0 * r[c]);  // λ r < 150
            Q[c] = vexp_in_range(lam0 * r[c]);
        }
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

    // moments of the bonds per species of k: M = Σ w û ûᵀ (9), V = Σ w û (3), m0 = Σ w
    constexpr int MS = 13;
    B.moments.assign(2 * S * MS, 0.0);  // second half: their gradients
    double* __restrict mom = B.moments.data();
    {
        double *__restrict fcb = B.fc.data(), *__restrict dfcb = B.dfc.data(), *__restrict rep = B.rep.data(),
               *__restrict att = B.att.data();
        SIMD
        for (int e = 0; e < nb; ++e) {
            pinn_cutoff(r[e], rc, hc, fcb[e], dfcb[e]);
            rep[e] = vexp(pA[type[e]] - pal[type[e]] * r[e]);
            att[e] = vexp(pB[type[e]] - pbe[type[e]] * r[e]);
        }
    }
    for (int e = 0; e < nb; ++e) {
        const double w = Sb[e] * B.fc[e];
        B.w[e] = w;
        const double u[3] = {ux[e], uy[e], uz[e]};
        double* __restrict M = mom + type[e] * MS;
        for (int a = 0; a < 3; ++a) {
            for (int c = 0; c < 3; ++c) M[3 * a + c] += w * u[a] * u[c];
            M[9 + a] += w * u[a];
        }
        M[12] += w;
    }

    // bond order, pair terms, promotion
    double E = 0.0, Phi = 0.0;
    for (int e = 0; e < nb; ++e) {
        const int tb = type[e];
        const double u[3] = {ux[e], uy[e], uz[e]};
        double zb = 0.0;
        for (int tk = 0; tk < S; ++tk) {
            const double* __restrict M = mom + tk * MS;
            double quad = 0.0, lin = 0.0;
            for (int a = 0; a < 3; ++a) {
                quad += u[a] * (M[3 * a] * u[0] + M[3 * a + 1] * u[1] + M[3 * a + 2] * u[2]);
                lin += u[a] * M[9 + a];
            }
            const double hh = ph[tb * S + tk];
            zb += pa[tb * S + tk] * (quad - 2.0 * hh * lin + hh * hh * M[12]);
        }
        const double hjj = ph[tb * S + tb];
        zb -= pa[tb * S + tb] * B.w[e] * (1.0 - hjj) * (1.0 - hjj);
        const double onez = 1.0 + zb;
        double bb, db;
        if (onez <= 0.0) {  // the authors' guard (a network may make a < 0)
            bb = 1.0 / std::sqrt(std::fabs(onez) + 1e-20);
            db = onez < 0.0 ? 0.5 * bb * bb * bb : 0.0;
        } else {
            bb = 1.0 / std::sqrt(onez);
            db = -0.5 * bb * bb * bb;
        }
        B.b[e] = bb;
        B.dbdz[e] = db;
        E += 0.5 * (B.rep[e] - Sb[e] * bb * B.att[e]) * B.fc[e];
        Phi += Sb[e] * bb * B.fc[e];
    }
    const double sq = Phi > 0 ? std::sqrt(Phi) : 0.0;
    E += Phi > 0 ? -sigma * sq : 0.0;
    if (!want) return E;

    // ---- first derivatives (reverse mode, by hand), in the sorted order ----
    double *__restrict gx = B.gx.data(), *__restrict gy = B.gy.data(), *__restrict gz = B.gz.data(),
           *__restrict cu = B.cu.data();
    std::fill(gx, gx + m, 0.0);
    std::fill(gy, gy + m, 0.0);
    std::fill(gz, gz + m, 0.0);
    std::fill(cu, cu + m, 0.0);
    const double dPhi = Phi > 0 ? -0.5 * sigma / sq : 0.0;  // dE/dΦ
    if (want_p) dp[o_sigma] = -sq;
    double* __restrict gmom = mom + S * MS;
    for (int e = 0; e < nb; ++e) {
        const int tb = type[e];
        const double rb = r[e], fc = B.fc[e], Sv = Sb[e], bb = B.b[e], att = B.att[e], rep = B.rep[e];
        const double q = -0.5 * att + dPhi;
        B.dS[e] = bb * fc * q;
        const double dEdb = Sv * fc * q;
        B.dfc_total[e] = 0.5 * (rep - Sv * bb * att) + dPhi * Sv * bb;
        B.dr[e] = 0.5 * (-pal[tb] * rep + pbe[tb] * Sv * bb * att) * fc;
        if (want_p) {
            dp[tb] += 0.5 * rep * fc;
            dp[S + tb] += -0.5 * rb * rep * fc;
            dp[2 * S + tb] += -0.5 * Sv * bb * att * fc;
            dp[3 * S + tb] += 0.5 * rb * Sv * bb * att * fc;
        }
        const double G = dEdb * B.dbdz[e];  // dE/dz_ij
        const double u[3] = {ux[e], uy[e], uz[e]};
        double gu[3] = {0.0, 0.0, 0.0};
        for (int tk = 0; tk < S; ++tk) {
            const double* __restrict M = mom + tk * MS;
            double* __restrict gM = gmom + tk * MS;
            const double aa = pa[tb * S + tk], hh = ph[tb * S + tk];
            const double c = G * aa;
            double Mu[3], quad = 0.0, lin = 0.0;
            for (int a = 0; a < 3; ++a) {
                Mu[a] = M[3 * a] * u[0] + M[3 * a + 1] * u[1] + M[3 * a + 2] * u[2];
                quad += u[a] * Mu[a];
                lin += u[a] * M[9 + a];
            }
            for (int a = 0; a < 3; ++a) {
                for (int d = 0; d < 3; ++d) gM[3 * a + d] += c * u[a] * u[d];
                gM[9 + a] += -2.0 * c * hh * u[a];
                gu[a] += c * (2.0 * Mu[a] - 2.0 * hh * M[9 + a]);
            }
            gM[12] += c * hh * hh;
            if (want_p) {
                dp[o_a + tb * S + tk] += G * (quad - 2.0 * hh * lin + hh * hh * M[12]);
                dp[4 * S + tb * S + tk] += c * (-2.0 * lin + 2.0 * hh * M[12]);
            }
        }
        // the k = j term removed from z_ij
        const double hjj = ph[tb * S + tb], ajj = pa[tb * S + tb], om = 1.0 - hjj;
        B.dw[e] = -G * ajj * om * om;
        if (want_p) {
            dp[o_a + tb * S + tb] -= G * B.w[e] * om * om;
            dp[4 * S + tb * S + tb] += G * ajj * B.w[e] * 2.0 * om;
        }
        B.gux[e] = gu[0];
        B.guy[e] = gu[1];
        B.guz[e] = gu[2];
    }
    // through the moments: w_k = S_ik f_c(r_ik) and û_k
    for (int e = 0; e < nb; ++e) {
        const double* __restrict gM = gmom + type[e] * MS;
        const double u[3] = {ux[e], uy[e], uz[e]};
        double gMu[3], dw = gM[12];
        for (int a = 0; a < 3; ++a) {
            gMu[a] = gM[3 * a] * u[0] + gM[3 * a + 1] * u[1] + gM[3 * a + 2] * u[2];
            dw += u[a] * gMu[a] + gM[9 + a] * u[a];
        }
        dw += B.dw[e];
        const double w = B.w[e];
        B.gux[e] += w * (2.0 * gMu[0] + gM[9]);
        B.guy[e] += w * (2.0 * gMu[1] + gM[10]);
        B.guz[e] += w * (2.0 * gMu[2] + gM[11]);
        B.dS[e] += dw * B.fc[e];
        B.dfc_total[e] += dw * Sb[e];
    }
    // screening: L_j = dE/d log S_ij = S_ij dE/dS_ij (B.dS is overwritten with it)
    double* __restrict L = B.dS.data();
    for (int e = 0; e < nb; ++e) L[e] *= Sb[e];
    std::fill(L + nb, L + m + 4, 0.0);  // read for the neighbours beyond rc and the padding
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
        for (int e = 0; e < nb; ++e) {
            const double dEdr = B.dr[e] + B.dfc_total[e] * B.dfc[e];
            const double ug = B.gux[e] * ux[e] + B.guy[e] * uy[e] + B.guz[e] * uz[e];
            const double inv = 1.0 / r[e];
            cu[e] += dEdr - ug * inv;
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
