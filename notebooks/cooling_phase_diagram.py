# %% [markdown]
# # Cooling phase diagram of the two-level junction
#
# Where does the biased conductor *cool* the mode (J < 0)? We sweep the level splitting
# ε_L − ε_R and the bias V = μ_L − μ_R at T_e = T_ph = 0.3 (units ħΩ = k_B = e = 1) for the
# paper's model (docs/physics.md §7) with `ehpjax.sweep`, which returns a labelled xarray
# Dataset.
#
# Open it as a notebook with jupytext (`pip install jupytext jupyterlab`, then open the file in
# JupyterLab, or `jupytext --to ipynb notebooks/cooling_phase_diagram.py`). As a plain script,
# `MPLBACKEND=Agg python notebooks/cooling_phase_diagram.py` runs it without showing the
# figure; `EHPJAX_QUICK=1` uses a coarse grid.

# %%
import os

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

import ehpjax

QUICK = os.environ.get("EHPJAX_QUICK") == "1"  # coarse grid (tests, smoke runs)
splitting = np.linspace(-2.0, 2.0, 9 if QUICK else 41)  # ε_L − ε_R, levels centred on 10
V = np.linspace(-3.0, 3.0, 13 if QUICK else 61)
S, B = np.meshgrid(splitting, V, indexing="ij")
# Both levels move with the splitting: a "flat" sweep over the listed points.
flat = ehpjax.sweep(
    {"eps_L": (10.0 + S / 2).ravel(), "eps_R": (10.0 - S / 2).ravel(), "V": B.ravel()},
    mode="flat",
    fixed={"T_e": 0.3, "T_ph": 0.3, "mu0": 10.0},
    progress=False,
)
# Back onto the (splitting, V) grid as a labelled Dataset.
ds = flat.drop_vars(["eps_L", "eps_R", "V"]).assign_coords(point=np.arange(S.size))
ds = ds.coarsen(point=V.size).construct(point=("splitting", "V")).assign_coords(splitting=splitting, V=V)
print(flat.J.attrs.get("long_name", "J"), "|", flat.attrs["units"])
best = ds.J.argmin(...)
print(f"largest cooling power {float(-ds.J.min()):.4g} at ε_L − ε_R = {float(ds.splitting[best['splitting']]):.2f}, "
      f"V = {float(ds.V[best['V']]):.2f}")

# %% [markdown]
# Blue is cooling. Cooling is much weaker than heating, so the colour scale has two slopes
# split at J = 0, with ticks on both sides: equal colour saturation means the same fraction
# of the largest cooling or of the largest heating, not the same |J|. It needs the bias to point *against* the level order: V < 0 with ε_L > ε_R
# (paper Fig. 2b: the upper level on the left is empty, the lower one on the right filled),
# or the mirror image V > 0 with ε_L < ε_R. Electrons then tunnel uphill between the leads
# by absorbing a mode quantum through an inter-lead EHP channel, carrying heat out of the mode.

# %%
fig, (ax_map, ax_channels) = plt.subplots(1, 2, figsize=(11, 4.4), dpi=110, layout="constrained")
J = ds.J.transpose("V", "splitting")
lo, hi = float(J.min()), float(J.max())
norm = TwoSlopeNorm(vmin=min(lo, -1e-12), vcenter=0.0, vmax=max(hi, 1e-12))
mesh = ax_map.pcolormesh(ds.splitting, ds.V, J, cmap="RdBu_r", norm=norm, shading="auto")
ax_map.contour(ds.splitting, ds.V, J, levels=[0.0], colors="k", linewidths=0.8)
bar = fig.colorbar(mesh, ax=ax_map, label="energy current electrons → mode $J$ (ħΩ²)")
bar.set_ticks([*np.linspace(norm.vmin, 0.0, 3)[:-1], 0.0, *np.linspace(0.0, norm.vmax, 4)[1:]])
bar.ax.yaxis.set_major_formatter(plt.FormatStrFormatter("%.3g"))
ax_map.set(xlabel=r"level splitting $\varepsilon_L - \varepsilon_R$ (ħΩ)", ylabel=r"bias $V = \mu_L - \mu_R$ (ħΩ)",
           title=r"$T_e = T_\mathrm{ph} = 0.3$, $\mu_0 = 10$, $\gamma_{L,R} = m = \gamma_\mathrm{ph} = 0.5$ (ħΩ)")

cut = ds.sel(splitting=1.0, method="nearest")
for name, label in (("J_RL", "$J^{RL}$"), ("J_LR", "$J^{LR}$"), ("J", "$J$")):
    ax_channels.plot(cut.V, cut[name], label=label, lw=2 if name == "J" else 1.2)
ax_channels.axhline(0, color="0.6", lw=0.8)
ax_channels.set(xlabel=r"bias $V$ (ħΩ)", ylabel="energy current $J$, $J^{αβ}$ (ħΩ²)",
                title=r"channels at $\varepsilon_L - \varepsilon_R = 1$ (the paper's model)")
ax_channels.legend(loc="upper left")
plt.show()

# %% [markdown]
# The second law holds everywhere on the grid: σ = (P − J)/T_e + J/T_ph ≥ 0.

# %%
print("min entropy production:", float(ds.entropy_production.min()))
assert float(ds.entropy_production.min()) > -1e-12
