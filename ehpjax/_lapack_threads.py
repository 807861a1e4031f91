"""One thread for the LAPACK that JAX calls on the CPU.

JAX's CPU kernels for eig, LU (inv, solve, det) and eigh call the LAPACK of SciPy, which in
SciPy's wheels is an OpenBLAS of its own (in ``scipy.libs``; NumPy's is another copy). After a
call, OpenBLAS's worker threads spin, waiting for more work, for a while (~0.1 s), on the
cores that XLA's thread pool computes on. One inverse of a 32×32 matrix at the start of a
program of 40 ms (the pole expansion of ``currents``) made it run 2× slower on two cores. The
matrices ehpjax decomposes are small (≤ 64), where OpenBLAS's threads gain nothing, so that
OpenBLAS is limited to one thread when ehpjax is imported (``threadpoolctl``), which also
applies to ``scipy.linalg`` in the same process. NumPy's OpenBLAS is left alone.

EHPJAX_LAPACK_THREADS=k sets k threads instead; EHPJAX_LAPACK_THREADS=keep leaves the
setting alone (as does a SciPy that links a BLAS shared with other packages).
"""

from __future__ import annotations

import os
import warnings

VARIABLE = "EHPJAX_LAPACK_THREADS"


def _requested() -> int | None:
    """Threads asked for by the environment (None: leave the setting alone)."""
    value = os.environ.get(VARIABLE, "1").strip()
    if value.lower() == "keep":
        return None
    if not value.isdigit() or int(value) < 1:
        warnings.warn(f"{VARIABLE} must be a positive integer or 'keep', got {value!r}; using 1", RuntimeWarning,
                      stacklevel=3)
        return 1
    return int(value)


def scipy_blas_libraries():
    """threadpoolctl's controllers of the BLAS libraries shipped inside SciPy's install (the
    LAPACK that JAX's CPU kernels call), loading that LAPACK first."""
    import scipy
    import scipy.linalg.cython_lapack  # noqa: F401  (loads SciPy's BLAS, as JAX does at its first LAPACK call)
    from threadpoolctl import ThreadpoolController

    root = os.path.dirname(os.path.realpath(scipy.__file__))  # …/site-packages/scipy
    inside = (root + os.sep, root + ".libs" + os.sep)  # the package and its bundled libraries
    return [lib for lib in ThreadpoolController().select(user_api="blas").lib_controllers
            if os.path.realpath(lib.filepath).startswith(inside)]


def limit_lapack_threads() -> None:
    """Set SciPy's bundled BLAS to ``EHPJAX_LAPACK_THREADS`` threads (default 1; module docstring)."""
    threads = _requested()
    if threads is None:
        return
    for lib in scipy_blas_libraries():
        lib.set_num_threads(threads)
