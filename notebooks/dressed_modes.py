# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Beyond lowest order: dressed modes, current-induced forces and a microscopic exceptional point
#
# The paper's Eq. 8 lets the modes feel the phonon bath only. But the electrons are a bath
# too: they add the retarded self-energy Π^r_e(ω) = Δ(ω) − iΓ_e(ω)/2 to the modes' dynamical
# matrix (docs/physics.md §9). ehpjax computes it exactly from the poles of the electronic
# Green's function, and with it
#
# * the **dressed** currents — the modes become a harmonic system between five bosonic
#   terminals (LL, RR, RL, LR, ph) and J is a Landauer–Büttiker formula;
# * the dressed mode frequencies and the **stability** of the steady state;
# * the **current-induced forces** — friction, renormalisation, non-conservative and Berry forces;
# * and from them a **microscopic exceptional point**: two modes whose dressed frequencies
#   coalesce as the bias grows (the paper's Fig. 6, without fitted a, b, c).
#
# Runs as a script too: `MPLBACKEND=Agg python notebooks/dressed_modes.py`; `EHPJAX_QUICK=1`
# uses coarse grids.

# %%
import os
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np
import optimistix as optx

import ehpjax  # switches JAX to float64
from ehpjax._selfenergy import self_energy_complex

start = time.perf_counter()
QUICK = os.environ.get("EHPJAX_QUICK") == "1"  # coarse grids (tests, smoke runs)
junction = ehpjax.Junction.two_level(10.5, 9.5, 0.5, 0.5, 0.5)  # the paper's model (Figs. 3–5)
modes = ehpjax.Modes.single(1.0, 0.5)

# %% [markdown]
# ## The e-bath self-energy of the paper's mode
#
# Γ_e(ω) = Σ Λ^αβ is the electronic broadening; Δ(ω) is its Kramers–Kronig partner, the shift
# of the mode's squared frequency. At the paper's parameters Γ_e(Ω) is comparable with the
# phonon bath's Γ_ph(Ω) = 2Ωη = 1, and Δ(Ω) < 0 softens the mode.

# %%
omega = jnp.linspace(-3.0, 3.0, 121 if QUICK else 601)


def self_energy_on_grid(V):  # (a plain call: compiled once, for every V, with XLA's quick settings)
    return ehpjax.self_energy(junction, ehpjax.Baths.biased(V, 10.0, 0.3, 0.3), omega)[:, 0, 0]


fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), layout="constrained", sharey=True)
for ax, V in zip(axes, (0.0, -1.0)):
    pi = self_energy_on_grid(V)
    ax.plot(omega, -2 * pi.imag, label=r"$\Gamma_e = -2\,\mathrm{Im}\,\Pi^r_e$")
    ax.plot(omega, pi.real, label=r"$\Delta = \mathrm{Re}\,\Pi^r_e$")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel(r"$\omega$ ($\Omega$)")
    ax.set_title(f"V = {V:g}, T = 0.3", fontsize=9)
axes[0].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## The dressed mode
#
# The dressed pole solves ω² − Ω² + iωη − Π^r_e(ω) = 0 (Π^r_e continued analytically into the
# lower half-plane). At T = 0.3, V = −1 the mode is pulled down by a quarter of Ω and broadened.

# %%
def paper_point(baths):  # plain calls: each function compiled once for every point (no jit of our own to wait for)
    fine = ehpjax.FrequencyQuadrature()  # the 10-panel rule (the default rule's fine one) for both orders
    return (ehpjax.dressed_modes(junction, modes, baths), ehpjax.currents(junction, modes, baths, quadrature=fine),
            ehpjax.currents(junction, modes, baths, order="dressed", quadrature=fine))


for V, T_e, T_ph in ((0.0, 0.6, 0.4), (-1.0, 0.3, 0.3)):
    dm, lowest, dressed = paper_point(ehpjax.Baths.biased(V, 10.0, T_e, T_ph))
    print(f"V = {V:4.1f}, T_e = {T_e}, T_ph = {T_ph}: bare pole {complex(dm.bare[0]):.4f}, dressed "
          f"{complex(dm.frequencies[0]):.4f} (Q = {float(dm.quality_factor[0]):.2f}); "
          f"J lowest order {float(lowest.J):.4e}, dressed {float(dressed.J):.4e}")

# %% [markdown]
# Fig. 5 of the paper, dressed: J(V) at T_e = T_ph = 0.3. The cooling window (J < 0) survives,
# but the dressed mode exchanges less heat: J is smaller by about a third.

# %%
V_sweep = np.linspace(-3.0, 1.0, 9 if QUICK else 41)
# A sweep of the two-level model, whose defaults are `junction` and `modes` above, on the 10-panel
# rule (a first small sweep compiles with XLA's quick settings: seconds, not the ~10 s of a jit's).
J_lowest, J_dressed = (ehpjax.sweep({"V": V_sweep}, fixed={"mu0": 10.0, "T_e": 0.3, "T_ph": 0.3}, order=order,
                                    quadrature=ehpjax.FrequencyQuadrature(warn=False), progress=False).J
                       for order in ("lowest", "dressed"))
fig, ax = plt.subplots(figsize=(4.5, 3.2), layout="constrained")
ax.plot(V_sweep, J_lowest, color="C0", label="lowest order (Eq. 8)")
ax.plot(V_sweep, J_dressed, color="C0", ls="--", label="dressed")
ax.axhline(0, color="0.6", lw=0.6)
ax.set_xlabel("bias $V$ (ħΩ)")
ax.set_ylabel("$J$ (ħΩ²)")
ax.legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Current-induced forces
#
# Two modes, M¹ = g σ_z and M² = g σ_x, on a conductor of two levels coupled by a hopping,
# the left lead on level 1 and the right on level 2 (broad levels, G = 4). Split Π^r_e at
# ω = Ω into its four real parts: friction (symmetric part of Γ_e), renormalisation
# (symmetric part of Δ), the non-conservative force (real antisymmetric part of Π^r_e) and the
# Berry force (antisymmetric part of Im Δ). The non-conservative force grows linearly with the
# bias; the flat-DOS formula (docs/physics.md §6), V·a with a = −(g_s/2π) Im tr[M¹A_L M²A_R],
# gets its slope within ~10 % here, and fails for narrow levels.

# %%
G, g = 4.0, 0.25
H2 = np.array([[-G / 4, G / 2], [G / 2, G / 4]])
M2 = g * G / 4 * np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]])
two_mode = ehpjax.Junction(H2, np.diag([G, 0.0]), np.diag([0.0, G]), M2, spin_degeneracy=2.0)
mu0, T = 0.0, 0.05
a_flat = float(ehpjax.nonconservative_coefficient(two_mode, mu0)[0, 1])

V_forces = jnp.linspace(0.0, 3.0, 7 if QUICK else 31)
forces = jax.jit(jax.vmap(lambda V: ehpjax.current_induced_forces(two_mode, ehpjax.Baths.biased(V, mu0, T, T), 1.0)))(V_forces)
fig, ax = plt.subplots(figsize=(5, 3.2), layout="constrained")
ax.plot(V_forces, forces.friction[:, 0, 1], label=r"friction $\Gamma_{S,12}$")
ax.plot(V_forces, forces.renormalization[:, 0, 1], label=r"renormalisation $\Delta_{S,12}$")
ax.plot(V_forces, forces.nonconservative[:, 0, 1], label=r"non-conservative $\Gamma_{A,12}/2$")
ax.plot(V_forces, forces.berry[:, 0, 1], label=r"Berry $\Delta_{A,12}$")
ax.plot(V_forces, V_forces * a_flat, "k:", label="flat DOS $V a$")
ax.set_xlabel("bias $V$ (ħΩ)")
ax.set_ylabel(r"$\Pi^r_{e,12}$ parts at $\omega = \Omega$ (frequency²)")
ax.legend(fontsize=7)
plt.show()

narrow = ehpjax.Junction(H2 / G, np.diag([0.1, 0.0]), np.diag([0.0, 0.1]), M2, spin_degeneracy=2.0)
for name, jun in (("broad (G = 4)", two_mode), ("narrow (levels ±0.56, widths 0.1)", narrow)):
    exact = ehpjax.current_induced_forces(jun, ehpjax.Baths.biased(0.2, mu0, T, T), 1.0).nonconservative[0, 1]
    flat = 0.2 * float(ehpjax.nonconservative_coefficient(jun, mu0)[0, 1])
    print(f"{name:38s} non-conservative force at V = 0.2: exact {float(exact): .3e}, flat DOS {flat: .3e}")

# %% [markdown]
# ## A microscopic exceptional point
#
# Give the two modes frequencies Ω ± δ/2 (Ω = 1) and a weak phonon bath η = 0.002. Their
# dressed frequencies are the two zeros of det F(ω), F = ω² − K + iωη − Π^r_e(ω). As V grows the
# non-conservative force pulls them together; where two zeros merge, F has a double zero:
#
#     det F(ω) = 0,   d det F/dω = 0,
#
# four real equations. With the bias V and the detuning δ as unknowns besides ω, optimistix's
# Newton solver finds the exact EP, and its implicit-function gradients give dV_EP/dθ for any
# parameter θ.

# %%
Omega, eta = 1.0, 0.002
h = 1e-5


def two_modes(delta):
    return ehpjax.Modes(jnp.diag(jnp.stack([(Omega + delta / 2) ** 2, (Omega - delta / 2) ** 2])), eta * jnp.eye(2))


def det_and_slope(w, V, delta, jun):
    baths = ehpjax.Baths.biased(V, mu0, T, T)
    pi = self_energy_complex(jun, baths, jnp.stack([w, w + h, w - h]))
    m = two_modes(delta)
    f = w**2 * jnp.eye(2) - m.K + 1j * w * m.eta - pi[0]
    df = 2 * w * jnp.eye(2) + 1j * m.eta - (pi[1] - pi[2]) / (2 * h)
    det = f[0, 0] * f[1, 1] - f[0, 1] * f[1, 0]
    slope = df[0, 0] * f[1, 1] + f[0, 0] * df[1, 1] - df[0, 1] * f[1, 0] - f[0, 1] * df[1, 0]
    return det, slope


def ep_residual(y, jun):
    det, slope = det_and_slope(y[0] + 1j * y[1], y[2], y[3], jun)
    return jnp.stack([det.real, det.imag, slope.real, slope.imag])


@jax.jit
def exact_ep(y0, jun):
    return optx.root_find(ep_residual, optx.Newton(rtol=1e-12, atol=1e-14), y0, jun, max_steps=64).value


def scaled_coupling(t):  # the junction with its electron-mode coupling scaled by t (t = 1: two_mode)
    return ehpjax.Junction(H2, np.diag([G, 0.0]), np.diag([0.0, G]), t * M2, spin_degeneracy=2.0)


# the EP and one derivative of it in one program: forward mode (jax.jvp) through the implicit function
guess = jnp.array([0.99, -0.004, -1.2, 0.005])  # from a coarse look at K_eff
y_ep, dy_dg = jax.jvp(lambda t: exact_ep(guess, scaled_coupling(t)), (1.0,), (1.0,))
w_ep, V_ep, delta_ep, dV_dg = complex(y_ep[0] + 1j * y_ep[1]), float(y_ep[2]), float(y_ep[3]), dy_dg[2]
print(f"exact EP: V_EP = {V_ep:.6f}, detuning δ = {delta_ep:.6f}, ω_EP = {w_ep:.6f}")
print("residual:", np.asarray(jax.jit(ep_residual)(y_ep, two_mode)))
print(f"dV_EP/d(coupling scale) = {float(dV_dg):.4f} (implicit-function derivative through the pole condition)")

# %% [markdown]
# Sweep V (here negative: this junction's EP is at reverse bias) at that detuning: the dressed frequencies (``dressed_modes``, vmapped) meet at V_EP,
# and the right null vectors of F at the two frequencies become parallel (overlap → 1).

# %%
V_ep_sweep = jnp.linspace(0.0, 2 * V_ep, 11 if QUICK else 61)


def dressed_pair(V):
    baths = ehpjax.Baths.biased(V, mu0, T, T)
    dm = ehpjax.dressed_modes(two_mode, two_modes(delta_ep), baths, quadrature=ehpjax.FrequencyQuadrature(warn=False))
    w = dm.frequencies
    f = jax.vmap(lambda wk, pk: wk**2 * jnp.eye(2) - two_modes(delta_ep).K + 1j * wk * eta * jnp.eye(2) - pk)(
        w, self_energy_complex(two_mode, baths, w))
    v = jnp.conj(jnp.linalg.svd(f)[2][:, -1, :])
    return w, jnp.abs(jnp.vdot(v[0], v[1])), dm.stable


pairs, overlap, stable = jax.jit(jax.vmap(dressed_pair))(V_ep_sweep)
pairs, _ = ehpjax.track_branches(pairs)
fig, axes = plt.subplots(1, 3, figsize=(11, 3.2), layout="constrained")
for k in range(2):
    axes[0].plot(V_ep_sweep, pairs[:, k].real)
    axes[1].plot(V_ep_sweep, pairs[:, k].imag)
axes[2].plot(V_ep_sweep, overlap)
for ax, label in zip(axes, (r"Re $\omega$", r"Im $\omega$", "eigenvector overlap")):
    ax.axvline(V_ep, color="0.6", lw=0.6, ls=":")
    ax.set_xlabel("bias $V$ (ħΩ)")
    ax.set_ylabel(label)
plt.show()
print("stable along the sweep:", bool(np.all(stable)), "| first unstable V:",
      float(V_ep_sweep[np.argmin(np.asarray(stable))]) if not np.all(stable) else None)

# %% [markdown]
# ### Eq. 9 fed with the microscopic a, b, c
#
# Near Ω the dressed problem is ω² = eigenvalue of K_eff = K − iΩη + Π^r_e(Ω). Complex-conjugated
# (Eq. 9 writes damping as +iγ), its off-diagonal entries are V(a + ibΩ) + icΩ plus a real
# symmetric coupling Δ_S,12 that Eq. 9 does not have. Reading a, b, c off the exact self-energy at
# V_EP and feeding them to Eq. 9 (with the flat-DOS a, and with the exact one):

# %%
f_ep = ehpjax.current_induced_forces(two_mode, ehpjax.Baths.biased(V_ep, mu0, T, T), Omega)
a_exact = float(f_ep.nonconservative[0, 1]) / V_ep
b_exact = -float(f_ep.berry[0, 1]) / (V_ep * Omega)
c_exact = (float(f_ep.friction[0, 1]) / 2) / Omega
diag = np.sqrt(np.diag(np.asarray(two_modes(delta_ep).K)) + np.diag(np.asarray(f_ep.renormalization)))
delta_eff = float(diag[0] - diag[1])
print(f"a (flat DOS) = {a_flat:.5f}, a (exact at V_EP) = {a_exact:.5f}, b = {b_exact:.2e}, c = {c_exact:.2e}, "
      f"δ_eff = {delta_eff:.5f}, symmetric coupling Δ_S,12 = {float(f_ep.renormalization[0, 1]):.5f}")
for name, a in (("flat-DOS a", a_flat), ("exact a", a_exact)):
    V_eq9 = float(ehpjax.lossless_exceptional_bias(Omega, delta_eff, a, c_exact))
    print(f"Eq. 9 (γ → 0, b = 0) with the {name}: |V_EP| = {V_eq9:.4f}   (microscopic exact EP: |V_EP| = {abs(V_ep):.4f})")
print("Eq. 9 ignores the conservative coupling Δ_S,12, which the non-conservative force must also "
      "overcome: |a V_EP| ≈ sqrt((δ_eff Ω)² + Δ_S,12² − (cΩ)²) is the better estimate:",
      f"{np.sqrt(max((delta_eff * Omega) ** 2 + float(f_ep.renormalization[0, 1]) ** 2 - (c_exact * Omega) ** 2, 0.0)) / abs(a_exact):.4f}")
print(f"total time {time.perf_counter() - start:.1f} s")
