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
# # A serial triple-dot cooler against the best two-level cooler
#
# The paper's two-level junction cools its bosonic mode under reverse bias (Fig. 5). Is a
# longer chain better? We design a serial triple dot, L – 1 – 2 – 3 – R, with
#
# H = Σ ε_i|i⟩⟨i| + t(|1⟩⟨2| + |2⟩⟨3| + h.c.), Γ_L = γ_L|1⟩⟨1|, Γ_R = γ_R|3⟩⟨3|,
# one mode (Ω = 1, γ_ph = 0.5) modulating both hoppings, M = m₁₂(|1⟩⟨2| + h.c.) + m₂₃(|2⟩⟨3| + h.c.)
# (written as a model file, TOML, below),
#
# and compare it with the best two-level design (H = diag(ε_L, ε_R), M = m(|1⟩⟨2| + h.c.),
# same mode) at one operating point, V = −1, μ0 = 10, T_e = T_ph = 0.2, under **equal bounds**:
# levels within μ0 ± 3, broadenings 0.05 ≤ γ ≤ 1, every electron–mode coupling 0 < m < 0.5. The chain
# has one more knob, the hopping 0 < t < 1. Objective: the cooling power −J (ħΩ²).
#
# Units: ħ = k_B = e = 1, ħΩ = 1. Runs as a script in about a minute on a CPU
# (`MPLBACKEND=Agg python notebooks/triple_dot_cooler.py`); `EHPJAX_NOTEBOOK_FULL=1` runs the
# full search (64 starts × 400 steps each).

# %%
import os
import time

import matplotlib.pyplot as plt
import numpy as np

import ehpjax  # switches JAX to float64
from ehpjax import design

FULL = os.environ.get("EHPJAX_NOTEBOOK_FULL") == "1"
STARTS, STEPS = (64, 400) if FULL else (8, 60)
objective = design.Cooling(V=-1.0, mu0=10.0, T=0.2)
LEVELS, BROADENING, COUPLING = (7.0, 13.0), (0.05, 1.0), (0.0, 0.5)


TRIPLE_DOT = """
[model]
name = "triple-dot"
description = "serial triple dot; one mode modulating both hoppings"

[parameters]
eps1 = {value = 10.5, description = "energy of dot 1 (coupled to L)"}
eps2 = {value = 10.0, description = "energy of dot 2"}
eps3 = {value = 9.5, description = "energy of dot 3 (coupled to R)"}
t = {value = 0.3, min = 0.0, description = "hopping between neighbouring dots"}
gamma_L = {value = 0.5, min = 0.0, description = "broadening of dot 1 by lead L"}
gamma_R = {value = 0.5, min = 0.0, description = "broadening of dot 3 by lead R"}
m12 = {value = 0.4, description = "coupling of the mode to the bond 1-2"}
m23 = {value = 0.4, description = "coupling of the mode to the bond 2-3"}
omega = {value = 1.0, min = 0.0, description = "mode frequency"}
gamma_ph = {value = 0.5, min = 0.0, description = "friction of the mode by its phonon bath"}

[junction]
H = [["eps1", "t", 0], ["t", "eps2", "t"], [0, "t", "eps3"]]
gamma_L = [["gamma_L", 0, 0], [0, 0, 0], [0, 0, 0]]
gamma_R = [[0, 0, 0], [0, 0, 0], [0, 0, "gamma_R"]]
M = [[[0, "m12", 0], ["m12", 0, "m23"], [0, "m23", 0]]]

[modes]
K = [["omega**2"]]
eta = [["gamma_ph"]]
"""
chain = ehpjax.models.loads_model(TRIPLE_DOT)
print(chain)
two_level = ehpjax.models.get("two-level")

# %% [markdown]
# ## Two designs, equal bounds
#
# Each search runs all its starts at once (`jax.vmap`) with Adam and exact gradients; the first
# start is the model's default point, the others are random in the bounds.

# %%
runs = {}
for title, model, free, extra in [
    ("two-level", two_level, ("eps_L", "eps_R", "gamma_L", "gamma_R", "m"), {}),
    ("triple dot", chain, ("eps1", "eps2", "eps3", "t", "gamma_L", "gamma_R", "m12", "m23"), {"t": (0.0, 1.0)}),
]:
    bounds = {name: LEVELS for name in free if name.startswith("eps")}
    bounds.update({name: BROADENING for name in free if name.startswith("gamma")})
    bounds.update({name: COUPLING for name in free if name.startswith("m")}, **extra)
    start = {name: 0.4 for name in free if name.startswith("m")}  # inside the coupling bound
    t0 = time.perf_counter()
    runs[title] = design.optimize(objective, model, free=free, bounds=bounds, start=start, starts=STARTS,
                                  steps=STEPS, seed=0, learning_rate=0.08, progress=False)
    print(f"== {title} ({time.perf_counter() - t0:.1f} s, compilation included)\n{runs[title]}\n")

# %%
r2, r3 = runs["two-level"], runs["triple dot"]
winner = "triple dot" if r3.value > r2.value else "two-level"
print(f"cooling power -J: two-level {r2.value:.6e}, triple dot {r3.value:.6e} ħΩ²  "
      f"-> the {winner} cools more (ratio triple/two = {r3.value / r2.value:.3f})")
assert r2.second_law_violations == 0 and r3.second_law_violations == 0

# %% [markdown]
# ## Which electron–hole-pair channel carries the cooling?
#
# J = Σ J^αβ over the four EHP baths (LL, RR, RL, LR) with chemical potentials 0, 0, −V, +V.
# At V = −1 the inter-lead bath LR (electron in L, hole in R, μ_LR = V = −1) is "cold": it
# absorbs bosons. RL (μ = +1) is "hot" and emits them; LL and RR sit at μ = 0, like a thermal
# bath at T, and exchange nothing net with a mode at the same temperature... unless the
# transitions they allow see the bias through the level occupations.

# %%
print(f"{'channel':>8} {'mu_ab':>6} {'two-level J^ab':>15} {'triple-dot J^ab':>16}")
baths = objective.baths()
for k, name in enumerate(ehpjax.CHANNELS):
    print(f"{name:>8} {float(baths.mu_channels[k]):>6.1f} {float(r2.currents.channel(name)['J']):>15.4e} "
          f"{float(r3.currents.channel(name)['J']):>16.4e}")
print(f"{'total':>8} {'':>6} {float(r2.currents.J):>15.4e} {float(r3.currents.J):>16.4e}")
for title, r in runs.items():
    share = -float(r.currents.channel("LR")["J"]) / r.value
    print(f"{title}: LR carries {share:.3f} of the cooling power; COP = {float(ehpjax.cooling_cop(r.currents)):.4f}; "
          f"I = {float(r.currents.I):.4e} eΩ")
assert float(r2.currents.channel("LR")["J"]) < 0 and float(r3.currents.channel("LR")["J"]) < 0

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4.0), layout="constrained")
for title, r, color in (("two-level", r2, "C0"), ("triple dot", r3, "C3")):
    data = design.comparison_data(r)
    axes[0].plot(data["x"], data["design"], color=color, label=f"{title}: $-J$ = {r.value:.4g} at $V$ = −1")
axes[0].axhline(0.0, color="0.5", lw=0.6)
axes[0].axvline(-1.0, color="0.3", lw=0.8, ls=":", label="operating point")
axes[0].set_xlabel("$V$ (ħΩ)")
axes[0].set_ylabel("$J$ (ħΩ²)")
axes[0].set_title(r"$J(V)$ of the two designs, $\mu_0$ = 10, $T$ = 0.2", fontsize=10)
axes[0].legend(fontsize=8, loc="upper left")
x = np.arange(4)
for shift, (title, r, color) in zip((-0.2, 0.2), (("two-level", r2, "C0"), ("triple dot", r3, "C3"))):
    axes[1].bar(x + shift, [float(r.currents.channel(c)["J"]) for c in ehpjax.CHANNELS], width=0.4, color=color,
                label=title)
axes[1].set_xticks(x, [f"$J^{{{c}}}$" for c in ehpjax.CHANNELS])
axes[1].axhline(0.0, color="0.5", lw=0.6)
axes[1].set_ylabel("energy current per EHP channel (ħΩ²)")
axes[1].set_title("channel decomposition at the operating point", fontsize=10)
axes[1].legend(fontsize=8)
plt.show()

# %% [markdown]
# ## Why
#
# Numbers from the full run (`EHPJAX_NOTEBOOK_FULL=1`: 64 starts × 400 steps each):
#
# | design | −J (ħΩ²) | COP | free values (on a bound: *) |
# |---|---|---|---|
# | two-level | 8.715e-3 | 0.702 | ε_L = 10.387, ε_R = 9.613, γ_L = 0.050*, γ_R = 0.051*, m = 0.500* |
# | triple dot | 9.326e-3 | 0.752 | ε_1 = 10.369, ε_2 = 9.582, ε_3 = 9.583, t = 0.008, γ_L = 0.050*, γ_R = 0.055, m₁₂ = 0.500*, m₂₃ = 0.484 |
#
# The triple dot wins, by about 7 %. In both designs the cooling is carried entirely by the
# inter-lead channel LR (J^LR ≈ 1.01 J; RL heats a little; LL and RR give nothing): an electron
# from the filled R side absorbs a boson and hops up to the empty level on dot 1 (process 4' of
# the paper's Fig. 2(b)), at a transition energy just below Ω (≈ 0.77–0.80).
#
# Both searches push the broadenings to their lower bound 0.05 and the coupling m to its upper
# bound 0.5: narrower resonances and stronger coupling cool more. The chain gets around the
# broadening bound. It makes dots 2 and 3 a nearly degenerate dimer (ε_2 ≈ ε_3, t ≈ 0.008), whose
# two states (split by ≈ 0.016) each carry half of dot 3 and so half of lead R's broadening:
# the R side is effectively *narrower* than any single level allowed by γ ≥ 0.05. The check below
# shows that a two-level junction with γ_R halved (not allowed by the equal bounds) recovers
# about half of the gain; the rest comes from the two slightly split transition energies. The
# hopping to dot 1 stays small, so dot 1 keeps its own narrow level. Both searches were still
# improving slowly at the last step (relative change ~1e-4 over 10 steps), far too slowly to
# close a 7 % gap.

# %%
for title, r in runs.items():
    H = np.asarray(r.junction.H)
    print(f"{title}: levels (eigenvalues of H) {np.round(np.linalg.eigvalsh(H), 4)}")
p = {name: r2.parameters[name] for name in two_level.names}
check = two_level.build(dict(p, gamma_R=0.5 * p["gamma_R"]))
half = -float(ehpjax.currents(*check, objective.baths()).J)
print(f"two-level design with gamma_R halved: -J = {half:.4e} (design {r2.value:.4e}, triple dot {r3.value:.4e})")
