"""ehpjax: hybrid energy transport between electrons and bosons in nanojunctions, in JAX.

A voltage-biased coherent conductor acts on bosonic modes like four bosonic baths of
electron–hole pairs (LL, RR, RL, LR) with chemical potentials 0, 0, −V, +V. See docs/physics.md
for units (ħ = k_B = e = 1) and sign conventions.

Importing ehpjax switches JAX to 64-bit floats (``jax_enable_x64``): physics results are
float64 without any flag to remember. The applications (``figures``, ``design``,
``optimize``, ``sweep``) are imported on first use, so ``import ehpjax`` stays light.
It also limits the OpenBLAS inside SciPy, which JAX calls for LAPACK on the CPU, to one
thread (its idle threads spin on the cores XLA computes on; ``_lapack_threads``).
"""

import jax as _jax

from ._lapack_threads import limit_lapack_threads as _limit_lapack_threads

_jax.config.update("jax_enable_x64", True)
_limit_lapack_threads()

from ._bosons import boson_green as boson_green, boson_spectral as boson_spectral, mode_poles as mode_poles
from ._currents import (
    Currents as Currents,
    cooling_cop as cooling_cop,
    currents as currents,
    elastic_current as elastic_current,
    rectification as rectification,
    rectification_ratio as rectification_ratio,
)
from ._dressed import (
    TERMINALS as TERMINALS,
    DressedCurrents as DressedCurrents,
    dressed_currents as dressed_currents,
    dressed_modes as dressed_modes,
)
from ._ehp import (
    CHANNELS as CHANNELS,
    ehp_dos as ehp_dos,
    golden_rule_rates as golden_rule_rates,
    power_spectrum as power_spectrum,
)
from ._errors import EhpjaxError as EhpjaxError
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
from ._forces import CurrentInducedForces as CurrentInducedForces, current_induced_forces as current_induced_forces
from ._linear_response import LinearResponse as LinearResponse, linear_response as linear_response
from ._model import Baths as Baths, Junction as Junction, Modes as Modes
from ._adaptive import AdaptiveQuadrature as AdaptiveQuadrature
from ._quadrature import FrequencyQuadrature as FrequencyQuadrature
from ._selfenergy import self_energy as self_energy
from ._stability import DressedInstabilityError as DressedInstabilityError, DressedModes as DressedModes
from . import models as models  # models by named parameters (built-in library, model files)
from .models import Model as Model, Parameter as Parameter


def _read_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ehpjax")
    except PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


__version__ = _read_version()

# Imported on first use, so that ``import ehpjax`` loads neither optax nor matplotlib:
# name → (module, attribute or None for the module itself).
_LAZY = {
    "figures": (".figures", None),  # the paper's Figs. 3–6 (data and plots)
    "design": (".design", None),  # inverse design with optax
    "optimize": (".design", "optimize"),
    "DesignResult": (".design", "DesignResult"),
    "DesignError": (".design", "DesignError"),
    "sweeps": (".sweeps", None),  # parameter sweeps to xarray / NetCDF
    "sweep": (".sweeps", "sweep"),
    "SweepError": (".sweeps", "SweepError"),
}


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'ehpjax' has no attribute {name!r}")
    import importlib

    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name, __name__)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
