"""Sweeps: a model evaluated over named parameter axes, into an xarray Dataset or a NetCDF file.

    import ehpjax
    ds = ehpjax.sweep({"V": np.linspace(-2, 2, 41), "eps_L": [10.0, 10.5]}, fixed={"T_e": 0.3})
    ds = ehpjax.sweep({"t": [0.1, 0.2, 0.3]}, model=ehpjax.models.get("serial-chain", n=3), fixed={"T_e": 0.3})

Modules: ``_spec`` (names and values checked against the model), ``_store`` (chunk results,
checkpoints verified on resume), ``_run`` (the chunked, sharded evaluation), ``_config``
(TOML configs), ``_plots`` (labelled plots of the NetCDF files), ``_netcdf`` (a streaming
NetCDF-3 writer), ``_atomic`` (atomic outputs), ``_identity`` (fingerprints).
"""

from __future__ import annotations

from ._config import parse_config as parse_config, read_config as read_config, run_config as run_config
from ._plots import plot_results as plot_results
from ._run import DEFAULT_CHUNK as DEFAULT_CHUNK, sweep as sweep, sweep_to_file as sweep_to_file
from ._spec import SweepError as SweepError, SweepSpec as SweepSpec
