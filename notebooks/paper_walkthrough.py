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
# # A walk through the paper: Figs. 3–6
#
# Hu, Wang, Nian and Lü show that a voltage-biased coherent conductor acts on bosonic modes
# (phonons, photons) like **four baths of electron–hole pairs** (EHPs): LL and RR with chemical
# potential 0, and the inter-lead baths RL and LR with chemical potentials −V and +V. The energy
# current from the electrons into the modes is then a Landauer formula (paper Eq. 8),
#
# $$J = \sum_{\alpha\beta} \int_0^\infty \frac{d\omega}{2\pi}\, \omega\,
#       \mathrm{Tr}[\Lambda^{\alpha\beta}(\omega) A_{ph}(\omega)]\,
#       [n_B(\omega - \mu_{\alpha\beta}; T_e) - n_B(\omega; T_{ph})].$$
#
# This notebook recomputes the paper's four applications with `ehpjax` and says what each
# shows. Units: ħ = k_B = e = 1 and the mode energy ħΩ = 1.
#
# Open it as a notebook with jupytext (`pip install jupytext jupyterlab`, then open the file in
# JupyterLab, or `jupytext --to ipynb notebooks/paper_walkthrough.py`). Run as a plain script,
# `MPLBACKEND=Agg python notebooks/paper_walkthrough.py` checks that it runs but shows no
# figure; `EHPJAX_QUICK=1` uses the coarse grids of `ehpjax reproduce --quick`.

# %%
import os
import time

import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import ehpjax  # switches JAX to float64
from ehpjax import figures

start = time.perf_counter()
QUICK = os.environ.get("EHPJAX_QUICK") == "1"  # coarse grids (tests, smoke runs)
# Every parameter of the figures, including the choices the paper leaves open; the model's numbers
# are the defaults of the built-in model ehpjax.models.get("two-level").
settings = figures.PaperSettings.quick() if QUICK else figures.PaperSettings()
junction, modes = settings.system()
data = figures.paper_data(settings)  # the data of all four figures (one batched evaluation of the currents)
print(settings)

# %% [markdown]
# ## The model and its four EHP baths
#
# Two levels, ε_L = 10.5 on the left lead and ε_R = 9.5 on the right (broadening 0.5 each), are
# connected only through one mode of energy Ω = 1: M = m(|1⟩⟨2| + |2⟩⟨1|). Since the level
# splitting equals Ω, the inter-lead transitions are resonant with the mode. For this model
# Λ^LL = Λ^RR = 0: only the inter-lead baths exist. The LR bath (electron in L, hole in R) is
# resonant at ω = ε_L − ε_R = Ω; the RL bath only has the off-resonant tail. Under bias each
# becomes negative (population inversion) for ω below its chemical potential.

# %%
omega = jnp.linspace(0.01, 3.0, 300)
fig, axes = plt.subplots(1, 2, figsize=(8.5, 3.2), layout="constrained", sharey=True)
for ax, V in zip(axes, (0.0, -1.0)):
    lam = ehpjax.ehp_dos(junction, ehpjax.Baths.biased(V, 10.0, 0.2, 0.2), omega)[..., 0, 0].real
    for k, name in enumerate(ehpjax.CHANNELS):
        ax.plot(omega, lam[k], label=rf"$\Lambda^{{{name}}}$")
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set_xlabel(r"$\omega$ (ħΩ)")
    ax.set_title(f"V = {V:g}, T_e = 0.2 (ħΩ)", fontsize=9)
axes[0].set_ylabel(r"EHP density of states $\Lambda^{\alpha\beta}(\omega)$ (Ω²)")
axes[0].legend(fontsize=8)

# %% [markdown]
# ## Fig. 3 — non-reciprocal heat transport
#
# With μ_L = μ_R the electrons and the phonon bath exchange heat when T_e ≠ T_ph. If the
# electronic spectral function were flat, Λ(ω) ∝ ω would not depend on T_e and Eq. 8 would be
# the Landauer formula between two harmonic baths: J(−ΔT) = −J(ΔT). The Lorentzian levels make
# Λ depend on T_e, so swapping the temperatures does not just flip the current: the
# rectification ratio R(ΔT) is of order 0.3–0.5 here. (The parameters are symmetric under a
# particle–hole transformation combined with L ↔ R, which maps μ onto 20 − μ: the curves for
# μ = 9 and 11, and 9.5 and 10.5, coincide exactly.)

# %%
thermal = data["thermal"]
figures.plot_fig3(thermal)

# %% [markdown]
# The flat-DOS limit in numbers: broaden both levels and the rectification disappears
# (|R| ∝ 1/γ² at large γ).

# %%
def rectification_vs_broadening(gamma):
    broad = ehpjax.Junction.two_level(10.5, 9.5, gamma, gamma, 0.5)
    return ehpjax.rectification(broad, modes, 0.5, 0.6, 10.0, quadrature=ehpjax.FrequencyQuadrature(warn=False))


for gamma in (0.5, 4.0, 32.0):
    print(f"γ_L = γ_R = {gamma:5.1f}:  R(ΔT = 0.6) = {float(rectification_vs_broadening(gamma)): .5f}")

# %% [markdown]
# ## Fig. 4 — a thermoelectric current from a temperature difference
#
# The boson-assisted charge current I = N^LR − N^RL counts inter-lead EHPs. The two inter-lead
# channels carry charge in opposite directions; the resonance ε_L − ε_R = Ω favours LR, so a
# net current flows: hot electrons (ΔT > 0) emit into the mode by hopping L(10.5) → R(9.5),
# a hot phonon bath drives the reverse. The current is largest for μ between ε_R and ε_L,
# where one level is filled and the other empty, and electricity is produced by a cold as well
# as by a hot phonon bath.

# %%
figures.plot_fig4(thermal)
mu_fine = np.linspace(8.5, 11.5, 13)
I_fine = ehpjax.sweep({"mu0": mu_fine}, fixed={"V": 0.0, "T_e": 0.7, "T_ph": 0.3},  # (the model's defaults: the paper's)
                      quadrature=ehpjax.FrequencyQuadrature(warn=False), progress=False).I
print("μ of the largest |I| at ΔT = 0.4:", float(mu_fine[np.argmax(np.abs(I_fine.values))]))

# %% [markdown]
# ## Fig. 5 — electronic cooling of the mode
#
# Now T_e = T_ph = T and a bias V = μ_L − μ_R is applied. At reverse bias (V < 0) the filled
# level ε_R and the empty level ε_L favour creating LR pairs: an electron absorbs a boson to hop
# from 9.5 up to 10.5 (paper Fig. 2b), and the LR bath, whose chemical potential is V < 0,
# cools the mode. The off-resonant RL bath has chemical potential −V > 0 and heats it. The
# window of J < 0 ends where the RL heating wins; it widens as T grows and from T ≈ 0.4 on
# covers every negative bias. The channel-resolved currents show the competition.

# %%
cooling = data["cooling"]
figures.plot_fig5(cooling)
print("window edges:", dict(zip(cooling["T"].tolist(), np.round(cooling["window_edges"], 3).tolist())))

# %%
k = list(cooling["T"]).index(0.3)
fig, ax = plt.subplots(figsize=(5.4, 3.4), layout="constrained")
for c, name in enumerate(ehpjax.CHANNELS[2:], start=2):
    ax.plot(cooling["V"], cooling["J_channels"][k, :, c], label=rf"$J^{{{name}}}$")
ax.plot(cooling["V"], cooling["J"][k], "k", lw=2, label="$J$")
ax.axhline(0, color="0.6", lw=0.6)
ax.set_xlim(-4, 1)
ax.set_ylim(-0.025, 0.03)
ax.set_xlabel("bias $V$ (ħΩ)")
ax.set_ylabel("heat current $J$, $J^{αβ}$ (ħΩ²)")
ax.set_title("T = 0.3 (ħΩ): LR cools, RL heats", fontsize=9)
ax.legend(fontsize=8, loc="upper left")

# %% [markdown]
# ## Fig. 6 — a current-induced exceptional point
#
# With two modes the e-bath also couples them. Under bias the coupling acquires a real
# antisymmetric part, the current-induced non-conservative force, which enters the effective
# dynamical matrix as ±V·a (paper Eq. 9). As V grows the two frequencies are pulled together
# until, at V_EP = Ω√(δ² − c²)/a ≈ 0.6928 for γ → 0, both the eigenvalues and the eigenvectors
# coalesce (overlap 1). Beyond it the imaginary parts split: one mode is damped more, the other
# is amplified (Im ω < 0 in Eq. 9's +iγ convention), the onset of a current-driven instability.

# %%
ep = data["exceptional_point"]
figures.plot_fig6(ep)
print(f"V_EP (γ → 0) = {ep['V_ep_lossless']:.6f}; closest approach at γ = 0.001: V = {ep['V_closest']:.6f}, "
      f"overlap = {ep['overlap_closest']:.6f}")

# %% [markdown]
# At finite γ with b = 0 the discriminant of Eq. 9 keeps the imaginary part 2δ²Ωγ, so the EP
# is only approached. A small effective Lorentz term b supplies the missing imaginary part; two
# real parameters can then be tuned to an exact EP (Newton's method via optimistix,
# differentiable by the implicit function theorem):

# %%
p = dict(V=0.7, **settings.eq9())
exact, residual = ehpjax.solve_exceptional_point(p, unknowns=("V", "b"))
print({k: round(float(v), 10) for k, v in exact.items()}, " |disc| =", float(residual))

# %% [markdown]
# Where does a come from? The real antisymmetric part of the e-bath self-energy is exactly
# Im Γ_e/2 with Γ_e = Σ_αβ Λ^αβ; for a flat DOS it is −(g_s V/2π) Im tr[M¹A_L M²A_R]. A two-level
# junction with two modes (M¹ = m σz, M² = m σx) and broad levels gives a ≈ 0.056, close to the
# paper's 0.05, and the EP of Eq. 9 built from it:

# %%
G = 40.0
two_mode = ehpjax.Junction(
    H=np.array([[-G / 4, G / 2], [G / 2, G / 4]]), gamma_L=np.diag([G, 0.0]), gamma_R=np.diag([0.0, G]),
    M=G / 4 * np.array([[[1.0, 0.0], [0.0, -1.0]], [[0.0, 1.0], [1.0, 0.0]]]), spin_degeneracy=2.0,
)
a_flat = float(ehpjax.nonconservative_coefficient(two_mode, 0.0)[0, 1])
exact_nc = ehpjax.nonconservative_coupling(two_mode, ehpjax.Baths.biased(0.5, 0.0, 0.1, 0.1), 1.0)[0, 1]
print(f"flat-DOS a = {a_flat:.5f};  exact Π_nc/V at V = 0.5: {float(exact_nc) / 0.5:.5f}")
print(f"predicted V_EP = {float(ehpjax.lossless_exceptional_bias(1.0, 0.04, a_flat, 0.02)):.4f}")

# %%
print(f"walk-through done in {time.perf_counter() - start:.1f} s")
