"""Inverse design of any model with optax: junctions that cool, rectify and convert heat
to current (docs/physics.md §5, §11).

    import optax
    from ehpjax import design, models

    result = design.optimize(design.Cooling(V=-1.0, mu0=10.0, T=0.2), models.get("two-level"),
                             free=("eps_L", "eps_R", "gamma_L", "gamma_R"), starts=16, steps=300,
                             optimizer=optax.adam(0.05))
    print(result)                 # value, start value, free numbers (bounds reached flagged), convergence
    result.junction, result.modes, result.baths   # the design as ehpjax inputs
    result.save("best.json")      # design.load_design reads it back

Objectives are values: ``Cooling``, ``COP``, ``Rectification``, ``Thermocurrent``,
``Custom(fn)`` (or the short forms ``cooling(...)`` etc.; by name with
``get_objective``). Free numbers are a model's parameters and the bath names μ0, V, T_e,
T_ph, with bounds (``default_bounds``), and whole matrices under a mask (``Hermitian``
for H, M^k, K; ``PSD`` for Γ_L, Γ_R, η as L L†). Smooth bijections keep every iterate
physical; all starts run at once through one jitted step with exact gradients, compiled once
for every operating point and bounds (their numbers are data: a scan over biases compiles once).
"""

from ._files import (
    SavedDesign as SavedDesign,
    design_record as design_record,
    load_design as load_design,
    prepare_out as prepare_out,
    save_design as save_design,
    write_history_csv as write_history_csv,
)
from ._loop import (
    DEFAULT_FREE as DEFAULT_FREE,
    OPTIMIZERS as OPTIMIZERS,
    Problem as Problem,
    accurate_value as accurate_value,
    make_optimizer as make_optimizer,
    optimize as optimize,
    prepare as prepare,
    run as run,
)
from ._objectives import (
    COP as COP,
    OBJECTIVES as OBJECTIVES,
    Cooling as Cooling,
    Custom as Custom,
    DesignError as DesignError,
    Objective as Objective,
    Rectification as Rectification,
    Thermocurrent as Thermocurrent,
    cooling as cooling,
    cop as cop,
    custom as custom,
    get_objective as get_objective,
    rectification as rectification,
    thermocurrent as thermocurrent,
)
from ._plots import (
    comparison_data as comparison_data,
    plot_comparison as plot_comparison,
    plot_history as plot_history,
    save_figures as save_figures,
)
from ._results import DesignResult as DesignResult, History as History
from ._space import (
    DESIGNABLE_BATHS as DESIGNABLE_BATHS,
    DesignSpace as DesignSpace,
    Hermitian as Hermitian,
    PSD as PSD,
    default_bounds as default_bounds,
)

from ..models import two_level as _two_level

PAPER = _two_level().defaults  # the paper's parameters, docs/physics.md §7
VARIABLES = (*PAPER, "V")  # the two-level model's design variables (earlier versions' fixed set)
