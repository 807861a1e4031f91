"""Safe expressions of model files: only the whitelist is evaluated, the rest is refused
with a message that quotes the expression and names what is refused."""

import builtins
import cmath
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import ehpjax
from ehpjax.models._expressions import compile_expression, compile_matrix

NAMES = ("t", "eps", "phi")
VALUES = {"t": 0.7, "eps": -1.3, "phi": 0.4}


@pytest.mark.parametrize(
    "text, refused",
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('true')", "attribute access"),
        ("t.real", "attribute access"),
        ("().__class__.__bases__", "attribute access"),
        ("lambda: 1", "a lambda"),
        ("(lambda x: x)(t)", "lambda"),
        ("t[0]", "a subscript"),
        ("t < 1", "a comparison"),
        ("t if eps else 0", "a conditional"),
        ("t and eps", "a boolean operator"),
        ("[t]", "a list"),
        ("'abc'", "the constant 'abc'"),
        ("True", "the constant True"),
        ("t // 2", "the operator //"),
        ("t % 2", "the operator %"),
        ("not t", "the operator not"),
        ("sqrt(x=t)", "one positional argument"),
        ("sqrt(t, eps)", "one positional argument"),
        ("sqrt", "without calling it"),
        ("open('f')", "unknown function 'open'"),
        ("abs(t)", "unknown function 'abs'"),
        ("(x := 1)", "assignment"),
        ("f'{t}'", "f-string"),
    ],
)
def test_code_is_refused_with_a_message(text, refused):
    with pytest.raises(ehpjax.EhpjaxError, match="H\\[0,1\\]") as err:
        compile_expression(text, NAMES, "H[0,1]")
    message = str(err.value)
    assert refused in message
    assert repr(text) in message or text in message


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ehpjax.models.ModelError, match="unknown name 'tt'") as err:
        compile_expression("2*tt", NAMES, "M[0,0,1]")
    assert "parameters: eps, phi, t" in str(err.value)


@pytest.mark.parametrize("entry", [True, None, [1.0], {"a": 1}, "", "1 +", float("nan"), float("inf")])
def test_entries_that_are_not_numbers_or_valid_expressions(entry):
    with pytest.raises(ehpjax.EhpjaxError):
        compile_expression(entry, NAMES, "x")


def test_eval_and_exec_are_never_used(monkeypatch):
    text = "sqrt(t) * cos(phi) - eps**2"
    compile_expression(text, NAMES)(VALUES)  # warm up: lazy imports inside JAX use exec

    def forbidden(*args, **kwargs):
        raise AssertionError("eval or exec called")

    for name in ("eval", "exec"):  # (ast.parse itself needs compile, for parsing only)
        monkeypatch.setattr(builtins, name, forbidden)
    expr = compile_expression(text, NAMES)
    assert abs(float(expr(VALUES)) - (math.sqrt(0.7) * math.cos(0.4) - 1.69)) < 1e-14


@pytest.mark.parametrize(
    "text, expected",
    [
        ("-t**2 + 3*eps/2 - (t - eps)", -(0.7**2) + 3 * -1.3 / 2 - (0.7 - -1.3)),
        ("2**-t", 2 ** -0.7),
        ("-(t)**2", -(0.7**2)),  # ** binds tighter than unary minus, as in Python
        ("+t - -eps", 0.7 - 1.3),
        ("sqrt(t) + exp(eps) - log(t) + cos(phi) * sin(phi)",
         math.sqrt(0.7) + math.exp(-1.3) - math.log(0.7) + math.cos(0.4) * math.sin(0.4)),
        ("pi * t / 4", math.pi * 0.7 / 4),
        ("t * exp(1j * phi)", 0.7 * cmath.exp(0.4j)),
        ("2.5j * t - 1", 2.5j * 0.7 - 1),
        ("(1 + 2j) * (eps - 1j)", (1 + 2j) * (-1.3 - 1j)),
        ("1e-3 * t", 7e-4),
        ("3", 3.0),
    ],
)
def test_arithmetic_matches_python(text, expected):
    value = complex(np.asarray(compile_expression(text, NAMES)(VALUES)))
    assert abs(value - expected) <= 1e-14 * max(1.0, abs(expected))


def test_numbers_and_names_used():
    expr = compile_expression("t*eps + pi", NAMES)
    assert expr.names == {"t", "eps"}
    assert not expr.is_complex
    assert compile_expression("1j*t", NAMES).is_complex
    assert compile_expression(2, NAMES)(VALUES) == 2.0


def test_integer_powers_are_exact_products():
    for text, exact in (("t**2", 0.7 * 0.7), ("t**3", 0.7 * 0.7 * 0.7), ("(-t)**2", 0.7 * 0.7), ("t**-1", 1 / 0.7)):
        assert float(compile_expression(text, NAMES)(VALUES)) == exact
    assert float(compile_expression("eps**2", NAMES)(VALUES)) == 1.3 * 1.3  # negative base
    assert complex(compile_expression("(1j*t)**2", NAMES)(VALUES)) == -(0.7 * 0.7)


def test_huge_powers_give_inf_not_a_hang():
    assert math.isinf(float(compile_expression("9**9**9", NAMES)(VALUES)))


def test_traceable_under_jit_vmap_grad():
    expr = compile_expression("sqrt(t) * exp(-t) + sin(2*t)", ("t",))
    f = lambda t: expr({"t": t})  # noqa: E731
    exact = lambda t: math.exp(-t) * (0.5 / math.sqrt(t) - math.sqrt(t)) + 2 * math.cos(2 * t)  # noqa: E731
    assert abs(float(jax.jit(jax.grad(f))(0.7)) - exact(0.7)) < 1e-14
    ts = jnp.array([0.3, 0.7, 1.1])
    np.testing.assert_allclose(jax.vmap(f)(ts), [f(float(t)) for t in ts], rtol=1e-15)


def test_matrix_shapes_and_values():
    function, _, shape = compile_matrix([["eps", "t"], ["t", "-eps"]], NAMES, "H")
    assert shape == (2, 2)
    np.testing.assert_array_equal(function(VALUES), np.array([[-1.3, 0.7], [0.7, 1.3]]))
    with pytest.raises(ehpjax.EhpjaxError, match=r"H must have shape \(3, 3\), got \(2, 2\)"):
        compile_matrix([["eps", "t"], ["t", "-eps"]], NAMES, "H", (3, 3))
    with pytest.raises(ehpjax.EhpjaxError, match="rows of different lengths"):
        compile_matrix([["eps", "t"], ["t"]], NAMES, "H")
