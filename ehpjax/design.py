"""Inverse design with optax: junctions that cool, rectify and convert heat to current.

    from ehpjax import design

    result = design.optimize(design.cooling(V=-1.0, mu0=10.0, T=0.2),
                             free=("eps_L", "eps_R", "gamma_L", "gamma_R"), starts=16, steps=300)
    print(result)                       # best value, the start's value, parameters, σ check
    result.junction, result.modes, result.baths   # the design as ehpjax inputs
    result.save("best.json")            # SPEC 8 field names; design.load_design reads it back

Objectives (to maximise unless ``maximize=False``): ``cooling`` (−J at bias V and
T_e = T_ph = T), ``cop`` (−J/P), ``rectification`` (R(ΔT) at T0), ``thermocurrent`` (I at
ΔT), ``custom(fn, ...)`` for any function of ``Currents``. Design variables of the
paper's two-level junction: ``VARIABLES``; the free ones move inside their bounds through
smooth bijections (sigmoid boxes, softplus for one-sided bounds), so every iterate is
physical. See ``optimize`` for the loop (Adam or L-BFGS over many starts with vmap).
"""

from ._design import (
    DEFAULT_FREE as DEFAULT_FREE,
    OBJECTIVES as OBJECTIVES,
    PAPER as PAPER,
    VARIABLES as VARIABLES,
    DesignError as DesignError,
    DesignResult as DesignResult,
    DesignSpace as DesignSpace,
    History as History,
    Objective as Objective,
    accurate_value as accurate_value,
    cooling as cooling,
    cop as cop,
    custom as custom,
    default_bounds as default_bounds,
    get_objective as get_objective,
    optimize as optimize,
    rectification as rectification,
    thermocurrent as thermocurrent,
    two_level_design as two_level_design,
)
from ._design_io import (
    SavedDesign as SavedDesign,
    design_record as design_record,
    load_design as load_design,
    save_design as save_design,
    write_history_csv as write_history_csv,
)
from ._design_plots import (
    comparison_data as comparison_data,
    plot_comparison as plot_comparison,
    plot_history as plot_history,
)
