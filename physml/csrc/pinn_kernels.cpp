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

// Screening factors of one bond's candidate triplets t ∈ [lo, hi): s = 1 − f_c(x) e^{−λx} with
// d log|s|/dx, d log|s|/dλ and the unit vector d̂ = (r_k − r_j)/r_jk. kSingle: one species
// (λ needs no gather).
template <bool kSingle>
void screening_factors(int lo, int hi, const int* __restrict tk, double vx, double vy, double vz, double rb,
                       const double* __restrict x, const double* __restrict y, const double* __restrict z,
                       const double* __restrict r, const int* __restrict type, const double* __restrict lrow,
                       double rc, double hc, double* __restrict ts, double* __restrict tgx, double* __restrict tgl,
                       double* __restrict tdx, double* __restrict tdy, double* __restrict tdz) {
    const double lam0 = lrow[0];
    SIMD
    for (int t = lo; t < hi; ++t) {
        const int k = tk[t];
        const double ex = x[k] - vx, ey = y[k] - vy, ez = z[k] - vz;
        const double rjk = std::sqrt(ex * ex + ey * ey + ez * ez);
        const double xx = r[k] + rjk - rb;
        double fc, dfc;
        pinn_cutoff(xx, rc, hc, fc, dfc);
        const double lam = kSingle ? lam0 : lrow[type[k]];
        const double ee = vexp(-lam * xx);
        const double fe = fc * ee;
        const double s = 1.0 - fe;
        // as the torch path: |s| clamped at 1e-300 in the product, 1/s guarded at s = 0
        ts[t] = std::fabs(s) < 1e-300 ? (s < 0 ? -1e-300 : 1e-300) : s;
        const double inv_s = 1.0 / (s == 0.0 ? 1e-300 : s);
        tgx[t] = (lam * fc - dfc) * ee * inv_s;  // d log|s| / dx
        tgl[t] = xx * fe * inv_s;                // d log|s| / dλ
        const double ir = rjk > 0 ? 1.0 / rjk : 1.0;
        tdx[t] = ex * ir;
        tdy[t] = ey * ir;
        tdz[t] = ez * ir;
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
    // bins so that a bond's screening candidates (r_ik < r_ij + rc/2) form a prefix.
    constexpr int kBins = 128;
    const double rmax = 1.5 * rc, inv_bin = kBins / rmax;
    grow(B.rall, n);
    grow(B.perm, n);
    double* __restrict rall = B.rall.data();
    SIMD
    for (int e = 0; e < n; ++e) rall[e] = std::sqrt(dx[e] * dx[e] + dy[e] * dy[e] + dz[e] * dz[e]);
    B.bin_start.assign(kBins + 2, 0);
    int* __restrict bin_start = B.bin_start.data();
    auto bin = [&](double r) { return std::min(kBins - 1, static_cast<int>(r * inv_bin)); };
    for (int e = 0; e < n; ++e)
        if (rall[e] > 0 && rall[e] < rmax) ++bin_start[bin(rall[e]) + 2];
    for (int b = 2; b <= kBins + 1; ++b) bin_start[b] += bin_start[b - 1];
    for (int e = 0; e < n; ++e)
        if (rall[e] > 0 && rall[e] < rmax) B.perm[bin_start[bin(rall[e]) + 1]++] = e;
    const int m = bin_start[kBins];  // bin_start[b] is now the first entry of bin b
    if (m == 0) return 0.0;
    for (auto* v : {&B.x, &B.y, &B.z, &B.r, &B.ux, &B.uy, &B.uz, &B.gx, &B.gy, &B.gz}) grow(*v, m);
    grow(B.type, m);
    grow(B.bond, m);
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
        const double rr = rall[e];
        r[c] = rr;
        ux[c] = dx[e] / rr;
        uy[c] = dy[e] / rr;
        uz[c] = dz[e] / rr;
    }
    int nb = 0;
    for (int c = 0; c < m; ++c)
        if (r[c] < rc) B.bond[nb++] = c;
    if (nb == 0) return 0.0;
    for (auto* v : {&B.fc, &B.dfc, &B.S, &B.w, &B.b, &B.dbdz, &B.att, &B.rep, &B.dS, &B.dfc_total, &B.dr, &B.gux,
                    &B.guy, &B.guz, &B.dw})
        grow(*v, nb);
    const int* __restrict bond = B.bond.data();

    // screening candidates (bond j, neighbour k ≠ j) with x_ijk < rc, tested without sqrt:
    // x < rc ⟺ r_jk < t = rc + r_ij − r_ik (t > 0) ⟺ |r_k − r_j|² < t². A vectorised pass
    // writes the test into a mask, a branch-free pass compacts the passing k.
    grow(B.mask, m);
    grow(B.t_k, static_cast<size_t>(nb) * m);
    grow(B.t_start, nb + 1);
    int nt = 0;
    for (int bi = 0; bi < nb; ++bi) {
        const int jb = bond[bi];
        const double tb = rc + r[jb], vx = x[jb], vy = y[jb], vz = z[jb];
        const int kend = bin_start[std::min(kBins, static_cast<int>((r[jb] + 0.5 * rc) * inv_bin) + 1)];
        int64_t*__restrict mask = B.mask.data();
        int* __restrict tk = B.t_k.data();
        SIMD
        for (int k = 0; k < kend; ++k) {
            const double t = tb - r[k];
            const double ex = x[k] - vx, ey = y[k] - vy, ez = z[k] - vz;
            const double d2 = ex * ex + ey * ey + ez * ez;
            mask[k] = (t > 0.0) & (d2 < t * t);
        }
        if (jb < kend) mask[jb] = 0;
        B.t_start[bi] = nt;
        int k = 0;
        for (; k + 4 <= kend; k += 4) {
            tk[nt] = k;
            nt += static_cast<int>(mask[k]);
            tk[nt] = k + 1;
            nt += static_cast<int>(mask[k + 1]);
            tk[nt] = k + 2;
            nt += static_cast<int>(mask[k + 2]);
            tk[nt] = k + 3;
            nt += static_cast<int>(mask[k + 3]);
        }
        for (; k < kend; ++k) {
            tk[nt] = k;
            nt += static_cast<int>(mask[k]);
        }
    }
    B.t_start[nb] = nt;
    for (auto* v : {&B.t_s, &B.t_gx, &B.t_glam, &B.t_dx, &B.t_dy, &B.t_dz}) grow(*v, nt);
    for (int bi = 0; bi < nb; ++bi) {
        const int jb = bond[bi];
        const auto f = S == 1 ? screening_factors<true> : screening_factors<false>;
        f(B.t_start[bi], B.t_start[bi + 1], B.t_k.data(), x[jb], y[jb], z[jb], r[jb], x, y, z, r, type,
          plam + type[jb] * S, rc, hc, B.t_s.data(), B.t_gx.data(), B.t_glam.data(), B.t_dx.data(), B.t_dy.data(),
          B.t_dz.data());
    }
    double* __restrict Sb = B.S.data();
    for (int bi = 0; bi < nb; ++bi) {
        double prod = 1.0;
        for (int t = B.t_start[bi]; t < B.t_start[bi + 1]; ++t) prod *= B.t_s[t];
        Sb[bi] = prod;
    }

    // moments of the bonds per species of k: M = Σ w û ûᵀ (9), V = Σ w û (3), m0 = Σ w
    constexpr int MS = 13;
    B.moments.assign(2 * S * MS, 0.0);  // second half: their gradients
    double* __restrict mom = B.moments.data();
    for (int bi = 0; bi < nb; ++bi) {
        const int e = bond[bi];
        pinn_cutoff(r[e], rc, hc, B.fc[bi], B.dfc[bi]);
        B.rep[bi] = vexp(pA[type[e]] - pal[type[e]] * r[e]);
        B.att[bi] = vexp(pB[type[e]] - pbe[type[e]] * r[e]);
    }
    for (int bi = 0; bi < nb; ++bi) {
        const int e = bond[bi];
        const double w = Sb[bi] * B.fc[bi];
        B.w[bi] = w;
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
    for (int bi = 0; bi < nb; ++bi) {
        const int e = bond[bi];
        const int tb = type[e];
        const double u[3] = {ux[e], uy[e], uz[e]};
        double z = 0.0;
        for (int tk = 0; tk < S; ++tk) {
            const double* __restrict M = mom + tk * MS;
            double quad = 0.0, lin = 0.0;
            for (int a = 0; a < 3; ++a) {
                quad += u[a] * (M[3 * a] * u[0] + M[3 * a + 1] * u[1] + M[3 * a + 2] * u[2]);
                lin += u[a] * M[9 + a];
            }
            const double hh = ph[tb * S + tk];
            z += pa[tb * S + tk] * (quad - 2.0 * hh * lin + hh * hh * M[12]);
        }
        const double hjj = ph[tb * S + tb];
        z -= pa[tb * S + tb] * B.w[bi] * (1.0 - hjj) * (1.0 - hjj);
        const double onez = 1.0 + z;
        double bb, db;
        if (onez <= 0.0) {  // the authors' guard (a network may make a < 0)
            bb = 1.0 / std::sqrt(std::fabs(onez) + 1e-20);
            db = onez < 0.0 ? 0.5 * bb * bb * bb : 0.0;
        } else {
            bb = 1.0 / std::sqrt(onez);
            db = -0.5 * bb * bb * bb;
        }
        B.b[bi] = bb;
        B.dbdz[bi] = db;
        E += 0.5 * (B.rep[bi] - Sb[bi] * bb * B.att[bi]) * B.fc[bi];
        Phi += Sb[bi] * bb * B.fc[bi];
    }
    const double sq = Phi > 0 ? std::sqrt(Phi) : 0.0;
    E += Phi > 0 ? -sigma * sq : 0.0;
    if (!want) return E;

    // ---- first derivatives (reverse mode, by hand), in the sorted order ----
    double *__restrict gx = B.gx.data(), *__restrict gy = B.gy.data(), *__restrict gz = B.gz.data();
    std::fill(gx, gx + m, 0.0);
    std::fill(gy, gy + m, 0.0);
    std::fill(gz, gz + m, 0.0);
    const double dPhi = Phi > 0 ? -0.5 * sigma / sq : 0.0;  // dE/dΦ
    if (want_p) dp[o_sigma] = -sq;
    double* __restrict gmom = mom + S * MS;
    for (int bi = 0; bi < nb; ++bi) {
        const int e = bond[bi];
        const int tb = type[e];
        const double rb = r[e], fc = B.fc[bi], Sv = Sb[bi], bb = B.b[bi], att = B.att[bi], rep = B.rep[bi];
        const double q = -0.5 * att + dPhi;
        B.dS[bi] = bb * fc * q;
        const double dEdb = Sv * fc * q;
        B.dfc_total[bi] = 0.5 * (rep - Sv * bb * att) + dPhi * Sv * bb;
        B.dr[bi] = 0.5 * (-pal[tb] * rep + pbe[tb] * Sv * bb * att) * fc;
        if (want_p) {
            dp[tb] += 0.5 * rep * fc;
            dp[S + tb] += -0.5 * rb * rep * fc;
            dp[2 * S + tb] += -0.5 * Sv * bb * att * fc;
            dp[3 * S + tb] += 0.5 * rb * Sv * bb * att * fc;
        }
        const double G = dEdb * B.dbdz[bi];  // dE/dz_ij
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
        B.dw[bi] = -G * ajj * om * om;
        if (want_p) {
            dp[o_a + tb * S + tb] -= G * B.w[bi] * om * om;
            dp[4 * S + tb * S + tb] += G * ajj * B.w[bi] * 2.0 * om;
        }
        B.gux[bi] = gu[0];
        B.guy[bi] = gu[1];
        B.guz[bi] = gu[2];
    }
    // through the moments: w_k = S_ik f_c(r_ik) and û_k
    for (int bi = 0; bi < nb; ++bi) {
        const int e = bond[bi];
        const double* __restrict gM = gmom + type[e] * MS;
        const double u[3] = {ux[e], uy[e], uz[e]};
        double gMu[3], dw = gM[12];
        for (int a = 0; a < 3; ++a) {
            gMu[a] = gM[3 * a] * u[0] + gM[3 * a + 1] * u[1] + gM[3 * a + 2] * u[2];
            dw += u[a] * gMu[a] + gM[9 + a] * u[a];
        }
        dw += B.dw[bi];
        const double w = B.w[bi];
        B.gux[bi] += w * (2.0 * gMu[0] + gM[9]);
        B.guy[bi] += w * (2.0 * gMu[1] + gM[10]);
        B.guz[bi] += w * (2.0 * gMu[2] + gM[11]);
        B.dS[bi] += dw * B.fc[bi];
        B.dfc_total[bi] += dw * Sb[bi];
    }
    // screening triplets: dE/dx_ijk = S_ij dE/dS_ij · d log|s|/dx, one bond's triplets at a time
    {
        const int* __restrict tk = B.t_k.data();
        const double *__restrict tgx = B.t_gx.data(), *__restrict tgl = B.t_glam.data();
        const double *__restrict tdx = B.t_dx.data(), *__restrict tdy = B.t_dy.data(), *__restrict tdz = B.t_dz.data();
        double dlam[kMaxSpecies];
        for (int bi = 0; bi < nb; ++bi) {
            const int je = bond[bi], tb = type[je];
            const double L = B.dS[bi] * Sb[bi];  // dE/d log S_ij
            const int lo = B.t_start[bi], hi = B.t_start[bi + 1];
            if (want_p) {
                for (int c = 0; c < S; ++c) dlam[c] = 0.0;
                for (int t = lo; t < hi; ++t) dlam[type[tk[t]]] += tgl[t];
                for (int c = 0; c < S; ++c) dp[o_lam + tb * S + c] += L * dlam[c];
            }
            if (want_v) {
                // x = r_ik + r_jk − r_ij: dx/dr_ik = û_k + d̂, dx/dr_ij = −û_j − d̂ (d = r_ik − r_ij)
                double sg = 0.0, sx = 0.0, sy = 0.0, sz = 0.0;
                for (int t = lo; t < hi; ++t) {
                    const int k = tk[t];
                    const double g = L * tgx[t];
                    const double ax = g * tdx[t], ay = g * tdy[t], az = g * tdz[t];
                    gx[k] += g * ux[k] + ax;
                    gy[k] += g * uy[k] + ay;
                    gz[k] += g * uz[k] + az;
                    sg += g;
                    sx += ax;
                    sy += ay;
                    sz += az;
                }
                gx[je] -= sg * ux[je] + sx;
                gy[je] -= sg * uy[je] + sy;
                gz[je] -= sg * uz[je] + sz;
            }
        }
    }
    if (want_v) {
        for (int bi = 0; bi < nb; ++bi) {
            const int e = bond[bi];
            const double dEdr = B.dr[bi] + B.dfc_total[bi] * B.dfc[bi];
            const double ug = B.gux[bi] * ux[e] + B.guy[bi] * uy[e] + B.guz[bi] * uz[e];
            const double inv = 1.0 / r[e];
            gx[e] += dEdr * ux[e] + (B.gux[bi] - ug * ux[e]) * inv;
            gy[e] += dEdr * uy[e] + (B.guy[bi] - ug * uy[e]) * inv;
            gz[e] += dEdr * uz[e] + (B.guz[bi] - ug * uz[e]) * inv;
        }
        for (int c = 0; c < m; ++c) {
            const int e = perm[c];
            gx_out[e] = gx[c];
            gy_out[e] = gy[c];
            gz_out[e] = gz[c];
        }
    }
    return E;
}

}  // namespace physml
