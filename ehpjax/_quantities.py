"""Names, symbols and units of every quantity ehpjax reports or takes (one place).

Units: ħ = k_B = e = 1 with the mode energy ħΩ as the unit of energy (docs/physics.md §1):
energies, frequencies, temperatures, chemical potentials and biases in ħΩ; energy currents
and power in ħΩ² (energy per unit time); number fluxes in Ω; charge currents in eΩ.
"""

from __future__ import annotations

from ._ehp import CHANNELS

UNITS_NOTE = "ħ = k_B = e = 1; energies, T, μ, V in ħΩ; J, P in ħΩ²; I, N in Ω (I in eΩ)"


def _q(symbol: str, unit: str, description: str) -> dict:
    return {"symbol": symbol, "unit": unit, "description": description}


QUANTITIES = {
    "J": _q("$J$", "ħΩ²", "energy current e-bath → modes (J < 0: electronic cooling of the modes)"),
    "I": _q("$I$", "eΩ", "boson-assisted charge current, electrons per unit time L → R"),
    "I_elastic": _q("$I_\\mathrm{el}$", "eΩ", "elastic Landauer current L → R"),
    "P": _q("$P$", "ħΩ²", "electrical power I·V fed into the boson-assisted processes"),
    "entropy_production": _q("$\\sigma$", "Ω", "entropy production (P − J)/T_e + J/T_ph"),
    "J_error": _q("$\\delta J$", "ħΩ²", "estimated quadrature error of J"),
    "I_error": _q("$\\delta I$", "eΩ", "estimated quadrature error of I"),
    **{f"J_{c}": _q(f"$J^{{{c}}}$", "ħΩ²", f"energy current of EHP channel {c}") for c in CHANNELS},
    **{f"N_{c}": _q(f"$N^{{{c}}}$", "Ω", f"boson-number flux of EHP channel {c}") for c in CHANNELS},
    "cop": _q("COP", "1", "cooling coefficient of performance −J/P"),
    "rectification": _q("$R$", "1", "thermal rectification (|J(ΔT)| − |J(−ΔT)|)/(|J(ΔT)| + |J(−ΔT)|)"),
    # bath names
    "mu0": _q("$\\mu_0$", "ħΩ", "mean chemical potential; μ_L,R = μ0 ± V/2"),
    "V": _q("$V$", "ħΩ", "bias μ_L − μ_R"),
    "mu_L": _q("$\\mu_L$", "ħΩ", "chemical potential of lead L"),
    "mu_R": _q("$\\mu_R$", "ħΩ", "chemical potential of lead R"),
    "T_e": _q("$T_e$", "ħΩ", "electron temperature (both leads)"),
    "T_ph": _q("$T_\\mathrm{ph}$", "ħΩ", "temperature of the modes' phonon bath"),
    "T": _q("$T$", "ħΩ", "temperature T_e = T_ph"),
    "T0": _q("$T_0$", "ħΩ", "mean temperature (T_e + T_ph)/2"),
    "delta_T": _q("$\\Delta T$", "ħΩ", "temperature difference T_e − T_ph"),
    # the two-level model's parameters
    "eps_L": _q("$\\varepsilon_L$", "ħΩ", "energy of level 1, coupled to lead L"),
    "eps_R": _q("$\\varepsilon_R$", "ħΩ", "energy of level 2, coupled to lead R"),
    "gamma_L": _q("$\\gamma_L$", "ħΩ", "broadening by lead L"),
    "gamma_R": _q("$\\gamma_R$", "ħΩ", "broadening by lead R"),
    "m": _q("$m$", "ħΩ", "electron–mode coupling"),
    "omega": _q("$\\Omega$", "ħΩ", "mode frequency"),
    "gamma_ph": _q("$\\gamma_\\mathrm{ph}$", "ħΩ", "friction of the mode by its phonon bath"),
}


def symbol(name: str) -> str:
    """Matplotlib mathtext symbol of a quantity (the name itself when unknown)."""
    return QUANTITIES.get(name, {}).get("symbol", name)


def unit(name: str) -> str:
    return QUANTITIES.get(name, {}).get("unit", "")


def label(name: str) -> str:
    """Axis label "symbol (unit)", e.g. "$J$ (ħΩ²)"; dimensionless quantities have no unit."""
    u = unit(name)
    return symbol(name) if u in ("", "1") else f"{symbol(name)} ({u})"
