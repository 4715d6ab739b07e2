// Torch custom operators over whole pair lists (namespace physml; signatures in
// pinn_kernels.h). Each op walks the centre atoms in order and calls the per-atom kernels of
// pinn_kernels.cpp on an atom's pair vectors as structure-of-arrays components: read in place
// when the vectors are (3, E) rows (the pair geometry's layout), else gathered into contiguous
// local buffers (any input strides). CPU, float64, single thread.
#include <ATen/ATen.h>
#include <torch/library.h>

#include <algorithm>
#include <vector>

#include "pinn_kernels.h"

namespace {

struct PairList {
    std::vector<int64_t> start;  // (N + 1) offsets of each centre atom's pairs
    std::vector<int> type;       // species of j for every pair
    int64_t max_pairs = 0;
};

PairList check_pairs(const at::Tensor& vectors, const at::Tensor& i, const at::Tensor& j, const at::Tensor& species,
                     int64_t n_atoms, int64_t n_species, const char* op) {
    TORCH_CHECK(vectors.device().is_cpu() && i.device().is_cpu() && j.device().is_cpu() && species.device().is_cpu(),
                op, ": CPU tensors only");
    TORCH_CHECK(vectors.scalar_type() == at::kDouble, op, ": vectors must be float64, got ", vectors.scalar_type());
    TORCH_CHECK(vectors.dim() == 2 && vectors.size(1) == 3, op, ": vectors must be (E, 3), got ", vectors.sizes());
    TORCH_CHECK(i.scalar_type() == at::kLong && j.scalar_type() == at::kLong && species.scalar_type() == at::kLong, op,
                ": i, j and species must be int64");
    const int64_t E = vectors.size(0);
    TORCH_CHECK(i.dim() == 1 && j.dim() == 1 && i.size(0) == E && j.size(0) == E, op,
                ": i and j must be (E,) with E = ", E);
    TORCH_CHECK(species.dim() == 1, op, ": species must be (N,)");
    TORCH_CHECK(n_species >= 1, op, ": n_species must be >= 1");
    const int64_t N = n_atoms;
    TORCH_CHECK(N >= 0, op, ": n_atoms must be >= 0");
    const at::Tensor ic = i.contiguous(), jc = j.contiguous(), sc = species.contiguous();
    const int64_t* ip = ic.data_ptr<int64_t>();
    const int64_t* jp = jc.data_ptr<int64_t>();
    const int64_t* sp = sc.data_ptr<int64_t>();
    const int64_t ns_atoms = sc.size(0);
    // one pass without error branches (the species lookup clamped, the offsets of each centre
    // atom's pairs written as if the list were valid); only a failure rescans for the message
    TORCH_CHECK(E == 0 || ns_atoms > 0, op, ": empty species array");
    PairList pl;
    pl.type.resize(E);
    pl.start.assign(N + 1, E);
    int64_t n_bad = E > 0 && (ip[0] < 0 || ip[E - 1] >= N), n_bad_species = 0, prev = E > 0 ? ip[0] : 0, a = 0;
    for (int64_t e = 0; e < E; ++e) {
        const int64_t ie = ip[e], je = jp[e];
        n_bad += (ie < prev) | (je < 0) | (je >= ns_atoms);
        prev = ie;
        const int64_t t = sp[std::min(std::max(je, int64_t{0}), ns_atoms - 1)];
        n_bad_species += (t < 0) | (t >= n_species);
        pl.type[e] = static_cast<int>(t);
        for (const int64_t last = std::min(ie, N - 1); a <= last; ++a) pl.start[a] = e;
    }
    if (n_bad) {
        int64_t before = 0;
        for (int64_t e = 0; e < E; ++e) {
            const int64_t c = ip[e], d = jp[e];
            TORCH_CHECK(c >= 0 && c < N, op, ": centre index ", c, " of pair ", e, " outside 0..", N - 1);
            TORCH_CHECK(c >= before, op, ": the pair list must be sorted by centre atom i (pair ", e, ")");
            TORCH_CHECK(d >= 0 && d < ns_atoms, op, ": neighbour index ", d, " of pair ", e,
                        " outside the species array");
            before = c;
        }
    }
    if (n_bad_species)
        for (int64_t e = 0; e < E; ++e) {
            const int64_t d = jp[e], t = sp[d];
            TORCH_CHECK(t >= 0 && t < n_species, op, ": species ", t, " of atom ", d, " outside 0..", n_species - 1);
        }
    for (int64_t c = 0; c < N; ++c) pl.max_pairs = std::max(pl.max_pairs, pl.start[c + 1] - pl.start[c]);
    return pl;
}

// per-atom structure-of-arrays copy of the pair vectors
struct Local {
    std::vector<double> x, y, z, gx, gy, gz;
    explicit Local(int64_t n) : x(n), y(n), z(n), gx(n), gy(n), gz(n) {}
    void gather(const double* v, int64_t s0, int64_t s1, int64_t lo, int64_t n) {
        for (int64_t k = 0; k < n; ++k) {
            const double* p = v + (lo + k) * s0;
            x[k] = p[0];
            y[k] = p[s1];
            z[k] = p[2 * s1];
        }
    }
    // into a (3, E) buffer
    void scatter(double* out, int64_t E, int64_t lo, int64_t n) const {
        std::copy(gx.begin(), gx.begin() + n, out + lo);
        std::copy(gy.begin(), gy.begin() + n, out + E + lo);
        std::copy(gz.begin(), gz.begin() + n, out + 2 * E + lo);
    }
};

// An (E, 3) gradient of the pair vectors stored as (3, E) (x, y, z rows, the kernels' layout):
// a tensor of its own with strides (1, E), not a view of a (3, E) one, so that autograd may
// accumulate the other gradients of the pair vectors into it in place (it never adds into a
// view) instead of allocating and writing a third (E, 3) array
at::Tensor pair_gradient(int64_t E, const at::TensorOptions& opts) { return at::empty_strided({E, 3}, {1, E}, opts); }

// calls fn(a, lo, n, x, y, z) for every centre atom a with n > 0 pairs [lo, lo + n), x, y, z
// its pair vectors' components: read in place if the vectors are stored as (3, E) rows (stride
// 1 along the pairs, the layout of the pair geometry), else gathered into loc
template <class Fn>
void for_each_atom(const PairList& pl, const at::Tensor& vectors, int64_t n_atoms, Local& loc, Fn&& fn) {
    const double* v = vectors.data_ptr<double>();
    const int64_t s0 = vectors.stride(0), s1 = vectors.stride(1);
    const bool rows = s0 == 1;
    for (int64_t a = 0; a < n_atoms; ++a) {
        const int64_t lo = pl.start[a], n = pl.start[a + 1] - lo;
        if (n == 0) continue;
        if (rows) {
            fn(a, lo, n, v + lo, v + s1 + lo, v + 2 * s1 + lo);
        } else {
            loc.gather(v, s0, s1, lo, n);
            fn(a, lo, n, loc.x.data(), loc.y.data(), loc.z.data());
        }
    }
}

physml::GaussianLegendreKernel make_gl(const std::vector<int64_t>& orders, const std::vector<double>& centres,
                                       double width, double cutoff, double smoothing, int64_t n_species) {
    std::vector<int> o(orders.begin(), orders.end());
    try {
        return physml::GaussianLegendreKernel(o, centres, width, cutoff, smoothing, static_cast<int>(n_species));
    } catch (const std::invalid_argument& err) {
        TORCH_CHECK(false, err.what());
    }
}

std::tuple<at::Tensor, at::Tensor> gl_descriptor(const at::Tensor& vectors, const at::Tensor& i, const at::Tensor& j,
                                                 const at::Tensor& species, int64_t n_atoms, int64_t n_species,
                                                 std::vector<int64_t> orders, std::vector<double> centres,
                                                 double width, double cutoff, double smoothing) {
    const auto kern = make_gl(orders, centres, width, cutoff, smoothing, n_species);
    const PairList pl = check_pairs(vectors, i, j, species, n_atoms, n_species, "gl_descriptor");
    const auto opts = vectors.options();
    at::Tensor g = at::zeros({n_atoms, kern.n_features()}, opts);
    at::Tensor A = at::zeros({n_atoms, kern.n_angular(), n_species, kern.n_centres()}, opts);
    double* gp = g.data_ptr<double>();
    double* Ap = A.data_ptr<double>();
    Local loc(pl.max_pairs);
    physml::GaussianLegendreKernel::Buffers buf;
    for_each_atom(pl, vectors, n_atoms, loc, [&](int64_t a, int64_t lo, int64_t n, const double* x, const double* y, const double* z) {
        kern.forward(static_cast<int>(n), x, y, z, pl.type.data() + lo,
                     Ap + a * kern.moment_size(), gp + a * kern.n_features(), buf);
    });
    return {g, A};
}

at::Tensor gl_descriptor_backward(const at::Tensor& grad_g, const at::Tensor& A, const at::Tensor& vectors,
                                  const at::Tensor& i, const at::Tensor& j, const at::Tensor& species,
                                  int64_t n_species, std::vector<int64_t> orders, std::vector<double> centres,
                                  double width, double cutoff, double smoothing) {
    const auto kern = make_gl(orders, centres, width, cutoff, smoothing, n_species);
    const int64_t N = grad_g.size(0);
    const PairList pl = check_pairs(vectors, i, j, species, N, n_species, "gl_descriptor_backward");
    TORCH_CHECK(grad_g.scalar_type() == at::kDouble && grad_g.dim() == 2 && grad_g.size(1) == kern.n_features(),
                "gl_descriptor_backward: grad_g must be float64 (N, ", kern.n_features(), ")");
    TORCH_CHECK(A.scalar_type() == at::kDouble && A.numel() == N * kern.moment_size(),
                "gl_descriptor_backward: A must be the float64 moments of the forward");
    const at::Tensor gg = grad_g.contiguous(), Ac = A.contiguous();
    const int64_t E = vectors.size(0);
    // every entry is written (zeros for atoms without pairs are not needed: none exist)
    at::Tensor out = pair_gradient(E, vectors.options());
    const double* ggp = gg.data_ptr<double>();
    const double* Ap = Ac.data_ptr<double>();
    double* op = out.data_ptr<double>();
    Local loc(pl.max_pairs);
    physml::GaussianLegendreKernel::Buffers buf;
    for_each_atom(pl, vectors, N, loc, [&](int64_t a, int64_t lo, int64_t n, const double* x, const double* y, const double* z) {
        kern.backward(static_cast<int>(n), x, y, z, pl.type.data() + lo,
                      Ap + a * kern.moment_size(), ggp + a * kern.n_features(), loc.gx.data(), loc.gy.data(),
                      loc.gz.data(), buf);
        loc.scatter(op, E, lo, n);
    });
    return out;
}

// the BOP kernel and the validated pair list of one pinn_bop* call
struct BOPCall {
    physml::PinnBOPKernel kern{1, 1.0, 1.0};
    PairList pl;
    at::Tensor params;  // contiguous
    int64_t N = 0, P = 0;
};

BOPCall bop_call(const at::Tensor& vectors, const at::Tensor& i, const at::Tensor& j, const at::Tensor& species,
                 const at::Tensor& params, int64_t n_species, double rc, double hc, const char* op) {
    TORCH_CHECK(params.scalar_type() == at::kDouble && params.dim() == 2 && params.device().is_cpu(), op,
                ": params must be a float64 CPU (N, P) tensor");
    BOPCall c;
    c.N = params.size(0);
    try {
        c.kern = physml::PinnBOPKernel(static_cast<int>(n_species), rc, hc);
    } catch (const std::invalid_argument& err) {
        TORCH_CHECK(false, err.what());
    }
    c.P = c.kern.n_params();
    TORCH_CHECK(params.size(1) == c.P, op, ": params must have ", c.P, " columns for ", n_species, " species, got ",
                params.size(1));
    c.pl = check_pairs(vectors, i, j, species, c.N, n_species, op);
    c.params = params.contiguous();
    return c;
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> pinn_bop(const at::Tensor& vectors, const at::Tensor& i,
                                                        const at::Tensor& j, const at::Tensor& species,
                                                        const at::Tensor& params, int64_t n_species, double rc,
                                                        double hc, bool grad_vectors, bool grad_params) {
    const BOPCall c = bop_call(vectors, i, j, species, params, n_species, rc, hc, "pinn_bop");
    const int64_t N = c.N, P = c.P;
    const auto opts = vectors.options();
    const int64_t E = vectors.size(0);
    at::Tensor energies = at::zeros({N}, opts);
    at::Tensor dv = pair_gradient(grad_vectors ? E : 0, opts);  // every entry is written
    at::Tensor dp = grad_params ? at::zeros({N, P}, opts) : at::empty({0}, opts);
    const double* pp = c.params.data_ptr<double>();
    double* ep = energies.data_ptr<double>();
    double* dvp = grad_vectors ? dv.data_ptr<double>() : nullptr;
    double* dpp = grad_params ? dp.data_ptr<double>() : nullptr;
    Local loc(c.pl.max_pairs);
    physml::PinnBOPKernel::Buffers buf;
    for_each_atom(c.pl, vectors, N, loc, [&](int64_t a, int64_t lo, int64_t n, const double* x, const double* y, const double* z) {
        // dE/dr straight into the (3, E) output
        ep[a] = c.kern.energy(static_cast<int>(n), x, y, z, c.pl.type.data() + lo,
                              pp + a * P, grad_vectors ? dvp + lo : nullptr, grad_vectors ? dvp + E + lo : nullptr,
                              grad_vectors ? dvp + 2 * E + lo : nullptr, grad_params ? dpp + a * P : nullptr, buf);
    });
    return {energies, dv, dp};
}

// As pinn_bop with grad_vectors, but ∂(Σ_i E_i)/∂x_a for the atom positions x (r_e = x_j − x_i
// + shift): each atom's pair Jacobian is scattered to x_j (+) and x_i (−) while it is in cache,
// and no (E, 3) Jacobian is written
std::tuple<at::Tensor, at::Tensor, at::Tensor> pinn_bop_positions(const at::Tensor& vectors, const at::Tensor& i,
                                                                  const at::Tensor& j, const at::Tensor& species,
                                                                  const at::Tensor& params, int64_t n_species,
                                                                  double rc, double hc, bool grad_params) {
    const BOPCall c = bop_call(vectors, i, j, species, params, n_species, rc, hc, "pinn_bop_positions");
    const int64_t N = c.N, P = c.P;
    const auto opts = vectors.options();
    at::Tensor energies = at::zeros({N}, opts);
    at::Tensor gpos = at::zeros({species.size(0), 3}, opts);  // j < species.size(0) (check_pairs)
    at::Tensor dp = grad_params ? at::zeros({N, P}, opts) : at::empty({0}, opts);
    const at::Tensor jc = j.contiguous();
    const int64_t* jp = jc.data_ptr<int64_t>();
    const double* pp = c.params.data_ptr<double>();
    double* ep = energies.data_ptr<double>();
    double* gp = gpos.data_ptr<double>();
    double* dpp = grad_params ? dp.data_ptr<double>() : nullptr;
    Local loc(c.pl.max_pairs);
    physml::PinnBOPKernel::Buffers buf;
    for_each_atom(c.pl, vectors, N, loc, [&](int64_t a, int64_t lo, int64_t n, const double* x, const double* y, const double* z) {
        ep[a] = c.kern.energy(static_cast<int>(n), x, y, z, c.pl.type.data() + lo,
                              pp + a * P, loc.gx.data(), loc.gy.data(), loc.gz.data(),
                              grad_params ? dpp + a * P : nullptr, buf);
        double sx = 0.0, sy = 0.0, sz = 0.0;
        for (int64_t e = 0; e < n; ++e) {
            double* f = gp + 3 * jp[lo + e];
            f[0] += loc.gx[e];
            f[1] += loc.gy[e];
            f[2] += loc.gz[e];
            sx += loc.gx[e];
            sy += loc.gy[e];
            sz += loc.gz[e];
        }
        gp[3 * a] -= sx;
        gp[3 * a + 1] -= sy;
        gp[3 * a + 2] -= sz;
    });
    return {energies, gpos, dp};
}

}  // namespace

TORCH_LIBRARY(physml, m) {
    m.def(
        "gl_descriptor(Tensor vectors, Tensor i, Tensor j, Tensor species, int n_atoms, int n_species, int[] orders, "
        "float[] centres, float width, float cutoff, float smoothing) -> (Tensor, Tensor)",
        &gl_descriptor);
    m.def(
        "gl_descriptor_backward(Tensor grad_g, Tensor A, Tensor vectors, Tensor i, Tensor j, Tensor species, "
        "int n_species, int[] orders, float[] centres, float width, float cutoff, float smoothing) -> Tensor",
        &gl_descriptor_backward);
    m.def(
        "pinn_bop(Tensor vectors, Tensor i, Tensor j, Tensor species, Tensor params, int n_species, float rc, "
        "float hc, bool grad_vectors, bool grad_params) -> (Tensor, Tensor, Tensor)",
        &pinn_bop);
    m.def(
        "pinn_bop_positions(Tensor vectors, Tensor i, Tensor j, Tensor species, Tensor params, int n_species, "
        "float rc, float hc, bool grad_params) -> (Tensor, Tensor, Tensor)",
        &pinn_bop_positions);
}
