"""Built-in models (docs/physics.md §11), each documented with its Hamiltonian."""

from __future__ import annotations

import math

from .._model import Junction, Modes
from ._model import Model, Parameter

INF = math.inf


def two_level() -> Model:
    """The paper's two-level junction (docs/physics.md §2, §7):
    H = diag(ε_L, ε_R), Γ_L = γ_L|1⟩⟨1|, Γ_R = γ_R|2⟩⟨2|, one mode with
    M = m(|1⟩⟨2| + |2⟩⟨1|), K = Ω², η = γ_ph. Defaults: the paper's Figs. 3–5."""
    parameters = (
        Parameter("eps_L", 10.5, description="energy of level 1, coupled to lead L"),
        Parameter("eps_R", 9.5, description="energy of level 2, coupled to lead R"),
        Parameter("gamma_L", 0.5, min=0.0, description="broadening of level 1 by lead L"),
        Parameter("gamma_R", 0.5, min=0.0, description="broadening of level 2 by lead R"),
        Parameter("m", 0.5, description="electron–mode coupling, M = m(|1⟩⟨2| + |2⟩⟨1|)"),
        Parameter("omega", 1.0, min=0.0, description="mode frequency Ω (K = Ω²)"),
        Parameter("gamma_ph", 0.5, min=0.0, description="friction η of the mode by its phonon bath"),
    )

    def build(p):
        junction = Junction.two_level(p["eps_L"], p["eps_R"], p["gamma_L"], p["gamma_R"], p["m"])
        return junction, Modes.single(p["omega"], p["gamma_ph"])

    return Model("two-level", parameters, build, description="the paper's two-level junction (Fig. 2)",
                 baths={"mu0": 10.0, "V": 0.0, "T_e": 0.5, "T_ph": 0.5})


BUILTIN = {"two-level": two_level}
