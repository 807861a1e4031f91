"""ehpjax: hybrid energy transport between electrons and bosons in nanojunctions, in JAX.

A voltage-biased coherent conductor acts on bosonic modes like four bosonic baths of
electron–hole pairs (LL, RR, RL, LR) with chemical potentials 0, 0, −V, +V. See SPEC.md
for units (ħ = k_B = e = 1) and sign conventions.

Importing ehpjax switches JAX to 64-bit floats (``jax_enable_x64``): physics results are
float64 without any flag to remember.
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._bosons import boson_green as boson_green, boson_spectral as boson_spectral, mode_poles as mode_poles
from ._currents import (
    Currents as Currents,
    cooling_cop as cooling_cop,
    currents as currents,
    elastic_current as elastic_current,
    rectification as rectification,
)
from ._ehp import (
    CHANNELS as CHANNELS,
    ehp_dos as ehp_dos,
    golden_rule_rates as golden_rule_rates,
    power_spectrum as power_spectrum,
)
from ._exceptional import (
    ExceptionalPointResult as ExceptionalPointResult,
    closest_approach as closest_approach,
    discriminant as discriminant,
    ehp_broadening as ehp_broadening,
    eigenvector_overlap as eigenvector_overlap,
    exceptional_point_matrix as exceptional_point_matrix,
    find_exceptional_point as find_exceptional_point,
    lossless_exceptional_bias as lossless_exceptional_bias,
    mode_eigenvectors as mode_eigenvectors,
    mode_frequencies as mode_frequencies,
    nonconservative_coefficient as nonconservative_coefficient,
    nonconservative_coupling as nonconservative_coupling,
    phase_rigidity as phase_rigidity,
    solve_exceptional_point as solve_exceptional_point,
    track_branches as track_branches,
)
from ._green import (
    retarded_green as retarded_green,
    spectral_function as spectral_function,
    spectral_functions as spectral_functions,
)
from ._model import Baths as Baths, Junction as Junction, Modes as Modes
from ._adaptive import AdaptiveQuadrature as AdaptiveQuadrature
from ._quadrature import FrequencyQuadrature as FrequencyQuadrature
from . import figures as figures  # the paper's Figs. 3–6 (data and plots; matplotlib imported lazily)
from ._sweep import SweepError as SweepError, sweep as sweep
from . import design as design  # inverse design with optax (objectives, optimize, best.json)
from ._design import DesignError as DesignError, DesignResult as DesignResult, optimize as optimize

__version__ = "0.1.0"
