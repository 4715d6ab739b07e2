// physml C++ kernels for PINN inference: Gaussian–Legendre descriptors and PINN bond-order
// site energies, each with its exact first derivatives. Single-threaded loops over centre
// atoms with per-atom local buffers, everything in double precision.
//
// Two layers:
//
//  1. A torch-free per-atom API (this header, namespace physml): a centre atom's neighbours
//     are given as structure-of-arrays pair vectors r_ij = x_j − x_i (dx, dy, dz, length n)
//     and neighbour species (type, 0-based). A LAMMPS pair style calls these directly for
//     each atom i of its full neighbour list (no libtorch needed): descriptors → its own
//     network → per-atom BOP parameters → energy + dE/dr_ij (+ dE/dp_i → network backward →
//     descriptor backward). Forces follow as F_j −= dE/dr_ij, F_i += dE/dr_ij, and the
//     virial as W_ab = −Σ_ij r_ij,a dE/dr_ij,b.
//
//  2. Torch custom operators (torch_ops.cpp, `TORCH_LIBRARY(physml, m)`, CPU, float64) over
//     a whole pair list: pairs (i[e], j[e]) sorted by i, vectors (E, 3) (any strides),
//     species (N,) int64, per-atom parameters (N, P). Signatures:
//
//     physml::gl_descriptor(Tensor vectors, Tensor i, Tensor j, Tensor species, int n_atoms,
//         int n_species, int[] orders, float[] centres, float width, float cutoff,
//         float smoothing) -> (Tensor g, Tensor A)
//         g: (N, n_features) raw descriptors (before g_ref and the transform);
//         A: (N, n_angular, n_species, n_centres) per-atom moments, input of the backward.
//     physml::gl_descriptor_backward(Tensor grad_g, Tensor A, Tensor vectors, Tensor i,
//         Tensor j, Tensor species, int n_species, int[] orders, float[] centres,
//         float width, float cutoff, float smoothing) -> Tensor grad_vectors   (E, 3)
//     physml::pinn_bop(Tensor vectors, Tensor i, Tensor j, Tensor species, Tensor params,
//         int n_species, float rc, float hc, bool grad_vectors, bool grad_params)
//         -> (Tensor energies (N,), Tensor dE_dvectors (E, 3) or empty,
//             Tensor dE_dparams (N, P) or empty)
//         dE_dvectors[e] = ∂E_{i[e]}/∂r_e (E_i depends only on the pairs centred on i), so
//         for any upstream gradient g: dL/dr_e = g[i[e]] · dE_dvectors[e].
//     physml::pinn_bop_positions(Tensor vectors, Tensor i, Tensor j, Tensor species,
//         Tensor params, int n_species, float rc, float hc, bool grad_params)
//         -> (Tensor energies (N,), Tensor dE_dpositions (M, 3), Tensor dE_dparams (N, P) or empty)
//         the same with r_e = x_{j[e]} − x_{i[e]} + shift_e: dE_dpositions[a] = ∂(Σ_i E_i)/∂x_a
//         (M = species.size(0) atoms), the pair Jacobians scattered as they are computed.
//
// Equations and conventions are those of physml/ml/descriptors.py (GaussianLegendre) and
// physml/empirical/bop.py (PinnBOP); the Python modules document them with references.
#pragma once

#include <cstdint>
#include <vector>

namespace physml {

/// PINN cutoff f_c(r) = z⁴/(1+z⁴), z = (r − rc)/h for r < rc (else 0), and f_c'(r).
/// Branch-free, so that loops over pairs vectorise.
inline void pinn_cutoff(double r, double rc, double h, double& fc, double& dfc) {
    const double z = (r - rc) / h;
    const double z2 = z * z;
    const double z4 = z2 * z2;
    const double inv = 1.0 / (1.0 + z4);
    const bool in = r < rc;
    fc = in ? z4 * inv : 0.0;
    dfc = in ? (4.0 / h) * z2 * z * inv * inv : 0.0;
}

/// exp(x) to ≤ 2 ulp for −708 ≤ x ≤ 709 (no range check: the caller guarantees the range),
/// written with arithmetic and integer bit operations only, so that loops calling it are
/// auto-vectorised. glibc's vector exp is only available under -ffast-math, which would also
/// relax the rest of the arithmetic; this keeps IEEE semantics elsewhere.
inline double vexp_in_range(double x) {
    const double log2e = 1.4426950408889634, ln2hi = 6.93147180369123816490e-01, ln2lo = 1.90821492927058770002e-10;
    const double shifter = 6755399441055744.0;  // 1.5·2^52: adding it rounds to an integer
    double kd = x * log2e + shifter;
    int64_t kb;
    __builtin_memcpy(&kb, &kd, 8);
    kd -= shifter;
    const double r = (x - kd * ln2hi) - kd * ln2lo;  // |r| ≤ ln2/2
    // e^r by its Taylor series to r^13 (truncation < 1e-17 relative): the terms r^4..r^13 by
    // Estrin's scheme (a short dependency chain), the leading ones by Horner's (accuracy)
    const double r2 = r * r, r4 = r2 * r2;
    const double p45 = 1.0 / 24.0 + r * (1.0 / 120.0), p67 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    const double p89 = 1.0 / 40320.0 + r * (1.0 / 362880.0), pab = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
    const double pcd = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    const double h = (p45 + r2 * p67) + r4 * ((p89 + r2 * pab) + r4 * pcd);
    const double q = 1.0 + r * (1.0 + r * (0.5 + r * (1.0 / 6.0 + r * h)));
    const int64_t eb = (kb - 0x4338000000000000LL + 1023) << 52;  // 2^k
    double scale;
    __builtin_memcpy(&scale, &eb, 8);
    return q * scale;
}

/// exp(x) to ≤ 2 ulp, x clamped to [−708, 709] (below −708 the result is e^{−708}, i.e. 0 for
/// every use here); vectorises as vexp_in_range.
inline double vexp(double x) { return vexp_in_range(x < -708.0 ? -708.0 : (x > 709.0 ? 709.0 : x)); }

/// Gaussian–Legendre descriptors of one centre atom (Purja Pun et al. 2019/2020):
///   g^{(l,m)}_{b(t_j,t_k)} = Σ_j Σ_k P_l(cos θ_jik) f_m(r_ij) f_m(r_ik)   (k = j included)
///   f_m(r) = exp(−(r − r0_m)²/σ²)/r0_m · F_c(r; cutoff, smoothing)
/// computed through the addition theorem P_l(û·v̂) = Σ_q Q_lq(û) Q_lq(v̂) with the real
/// polynomial features Q of physml/ml/harmonics.py (same column order):
///   Q_{l,m,c|s}(û) = √(2(l−m)!/(l+m)!) (d^m P_l/dz^m)(z) · {Re, Im} (x + iy)^m   (norm 1 for m = 0),
///   A[q][t][m] = Σ_{j: t_j = t} Q_q(û_ij) f_m(r_ij),
///   g[b(a,c)][l][m] = (2 − δ_ac) Σ_{q ∈ l} A[q][a][m] A[q][c][m].
/// d^m P_l/dz^m follows from the recurrence (l−m+1) T_{l+1,m} = (2l+1) z T_{l,m} − (l+m) T_{l−1,m},
/// T_{m,m} = (2m−1)!!, and its z-derivative is T_{l,m+1}. Feature column:
/// b · n_orders · n_centres + (index of l) · n_centres + m, blocks b over unordered species
/// pairs (a ≤ c) row by row. All per-pair work is done on structure-of-arrays buffers of the
/// atom's pairs (vectorised loops).
class GaussianLegendreKernel {
   public:
    GaussianLegendreKernel(const std::vector<int>& orders, const std::vector<double>& centres, double width,
                           double cutoff, double smoothing, int n_species);

    int n_species() const { return n_species_; }
    int n_orders() const { return static_cast<int>(orders_.size()); }
    int n_centres() const { return static_cast<int>(r0_.size()); }
    int n_angular() const { return nq_; }
    int n_blocks() const { return n_species_ * (n_species_ + 1) / 2; }
    int n_features() const { return n_blocks() * n_orders() * n_centres(); }
    /// length of the per-atom moment array A (n_angular × n_species × n_centres)
    int moment_size() const { return nq_ * n_species_ * n_centres(); }

    /// Scratch buffers reused across atoms.
    struct Buffers {
        std::vector<double> r, ux, uy, uz, fc, dfc, F, dF, T, re, im, Q, gA, gux, guy, guz, gr;
        std::vector<int> idx, seg;
    };

    /// Descriptors of one atom with n neighbours: writes A (moment_size) and g (n_features).
    /// Neighbours at r ≥ cutoff (or r = 0) are ignored.
    void forward(int n, const double* dx, const double* dy, const double* dz, const int* type, double* A, double* g,
                 Buffers& buf) const;

    /// Vector–Jacobian product: given A from forward and grad_g = dL/dg (n_features), writes
    /// dL/dr_ij into gx, gy, gz (length n; overwritten).
    void backward(int n, const double* dx, const double* dy, const double* dz, const int* type, const double* A,
                  const double* grad_g, double* gx, double* gy, double* gz, Buffers& buf) const;

   private:
    // compact the pairs inside the cutoff (grouped by species) and evaluate the radial and
    // angular tables on them; returns their number
    int prepare(int n, const double* dx, const double* dy, const double* dz, const int* type, bool derivatives,
                Buffers& B) const;

    std::vector<int> orders_;
    std::vector<double> r0_, inv_r0_;
    double inv_w2_, cutoff_, smoothing_;
    int n_species_, lmax_, nq_;
    std::vector<int> col_order_, col_l_, col_m_, col_sin_, order_start_;  // per column / per order
    std::vector<double> col_norm_, rec_a_, rec_b_, dfact_;  // normalisation; recurrence coefficients; (2m−1)!!
    std::vector<int> block_;  // (S, S) unordered species pair → block index
};

/// PINN bond-order site energy of one atom i with its own parameters p_i
/// (Purja Pun et al., Phys. Rev. Mater. 4, 113807 (2020)):
///   E_i = ½ Σ_j [e^{A−α r_ij} − S_ij b_ij e^{B−β r_ij}] f_c(r_ij) − σ (Σ_j S_ij b_ij f_c(r_ij))^{1/2}
///   S_ij = Π_{k≠j} [1 − f_c(x_ijk) e^{−λ x_ijk}],  x_ijk = r_ik + r_jk − r_ij  (only x < rc counts)
///   b_ij = (1 + z_ij)^{−1/2},  z_ij = Σ_{k≠j} a S_ik (cos θ_jik − h)² f_c(r_ik)
/// z_ij from per-atom moments of the bonds (M = Σ w û ûᵀ, V = Σ w û, m0 = Σ w per species of k,
/// w = S_ik f_c(r_ik)), so the bond order is linear in the number of bonds; the screening is
/// evaluated by unordered pairs of bonds {j, k} (both triplets from one r_jk) plus the
/// neighbours k beyond rc that pass a cheap test (pinn_kernels.cpp). Parameter vector
/// layout (P = 4S + 3S² + 1, the .pinn block order, species of i implied):
///   A[t_j] (S), α[t_j] (S), B[t_j] (S), β[t_j] (S), h[t_j][t_k] (S²), σ (1), a[t_j][t_k] (S²),
///   λ[t_j][t_k] (S²).
class PinnBOPKernel {
   public:
    PinnBOPKernel(int n_species, double rc, double hc);

    int n_species() const { return S_; }
    int n_params() const { return 4 * S_ + 3 * S_ * S_ + 1; }

    /// Scratch buffers reused across atoms (no allocation per atom once grown).
    struct Buffers {
        // neighbours (bonds first, distance bins), P = e^{−λr}, Q = e^{λr}, gradients (û coefficient cu)
        std::vector<double> rall, x, y, z, r, ux, uy, uz, P, Q, gx, gy, gz, cu;
        // per bond; G = dE/dz_ij, lam = Σ_k d log|s_ijk|/dλ per species of k
        std::vector<double> fc, dfc, S, w, b, dbdz, att, rep, dS, dr, gux, guy, guz, G, lam, tmp;
        std::vector<double> t_g1, t_g2, t_ir;          // per screening entry (j, k): d log|s|/dx, 1/r_jk
        std::vector<double> o_x, o_y, o_z;             // per compacted entry: r_k − r_j
        std::vector<double> t_s1, t_s2, t_e1, t_e2, t_d1, t_d2, t_l1, t_l2;  // per entry of a tile
        std::vector<int> perm, type, bin_start, kend, o_start, o_k;
        std::vector<float> xf, yf, zf, rf;  // neighbours beyond rc, single precision (candidate test)
        std::vector<uint8_t> gbits;         // its results, one bit per candidate
        std::vector<double> moments;        // (2, S, 10): M (6, symmetric), V (3), m0 per species; gradients
    };

    /// Site energy of one atom with n neighbours (vectors r_ij, species of j). If gx is not
    /// null, writes dE_i/dr_ij into gx, gy, gz (length n, overwritten); if dp is not null,
    /// writes dE_i/dp_i (n_params, overwritten). Neighbours beyond 1.5 rc never contribute.
    double energy(int n, const double* dx, const double* dy, const double* dz, const int* type, const double* p,
                  double* gx, double* gy, double* gz, double* dp, Buffers& buf) const;

   private:
    int S_;
    double rc_, hc_;
};

}  // namespace physml
