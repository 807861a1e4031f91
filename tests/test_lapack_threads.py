"""SciPy's OpenBLAS (JAX's LAPACK on the CPU) runs on one thread after ``import ehpjax``."""

import numpy as np
import pytest
import threadpoolctl

import ehpjax  # noqa: F401  (the import sets the limit)
from ehpjax import _lapack_threads


def _threads():
    return [lib.num_threads for lib in _lapack_threads.scipy_blas_libraries()]


def test_import_leaves_scipys_blas_on_one_thread():
    assert _threads() and set(_threads()) == {1}  # SciPy's wheels bundle their OpenBLAS
    found = {lib.filepath for lib in _lapack_threads.scipy_blas_libraries()}
    loaded = {i["filepath"] for i in threadpoolctl.threadpool_info() if "scipy.libs" in i["filepath"]}
    assert loaded <= found  # every BLAS of SciPy's own is among those limited


@pytest.mark.parametrize("value, expected", [("2", 2), (" 3 ", 3), ("keep", "unchanged")])
def test_the_environment_variable_sets_or_keeps_the_threads(monkeypatch, value, expected):
    try:
        for lib in _lapack_threads.scipy_blas_libraries():
            lib.set_num_threads(5)
        monkeypatch.setenv(_lapack_threads.VARIABLE, value)
        _lapack_threads.limit_lapack_threads()
        assert set(_threads()) == {5 if expected == "unchanged" else expected}
    finally:
        monkeypatch.delenv(_lapack_threads.VARIABLE)
        _lapack_threads.limit_lapack_threads()
    assert set(_threads()) == {1}


@pytest.mark.parametrize("value", ["0", "-1", "many", ""])
def test_a_bad_value_warns_and_uses_one_thread(monkeypatch, value):
    monkeypatch.setenv(_lapack_threads.VARIABLE, value)
    with pytest.warns(RuntimeWarning, match="EHPJAX_LAPACK_THREADS must be a positive integer"):
        _lapack_threads.limit_lapack_threads()
    assert set(_threads()) == {1}


def test_lapack_results_do_not_depend_on_the_threads():
    """The limit changes who computes, not what: an inverse through JAX's LAPACK agrees to
    rounding with 1 and 2 OpenBLAS threads."""
    import jax.numpy as jnp

    a = np.random.default_rng(0).normal(size=(48, 48)) + 48 * np.eye(48)
    one = np.asarray(jnp.linalg.inv(a))
    try:
        for lib in _lapack_threads.scipy_blas_libraries():
            lib.set_num_threads(2)
        two = np.asarray(jnp.linalg.inv(jnp.asarray(a) + 0.0))
    finally:
        _lapack_threads.limit_lapack_threads()
    np.testing.assert_allclose(two, one, rtol=1e-12)
