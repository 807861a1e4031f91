"""Safe arithmetic expressions for the entries of model files (docs/physics.md §11).

An entry is a number or a string such as ``"0.5*t"``, ``"sqrt(gL*gR)"`` or
``"g*exp(1j*phi)"``. The string is parsed by Python's ``ast`` (``mode="eval"``) and only a
whitelist of node types is accepted:

    numbers (int, float, complex literals such as 1j or 2.5j), parameter names, pi,
    + − * / ** (binary), unary − and +, parentheses,
    calls sqrt(x), exp(x), log(x), cos(x), sin(x) with one positional argument.

Everything else (attribute access, subscripts, lambdas, comparisons, keyword arguments,
strings, unknown names or functions) is refused with a ``ModelError`` that quotes the
expression. The user's text is never passed to ``eval`` or ``exec``: the accepted tree is
turned into nested Python closures over ``jax.numpy`` functions, so the result is traceable
by jit, vmap and grad.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import operator
from typing import Callable, Mapping

import jax.numpy as jnp

from ._model import ModelError

FUNCTIONS: dict[str, Callable] = {"sqrt": jnp.sqrt, "exp": jnp.exp, "log": jnp.log, "cos": jnp.cos, "sin": jnp.sin}
CONSTANTS: dict[str, float] = {"pi": math.pi}
RESERVED = frozenset(FUNCTIONS) | frozenset(CONSTANTS)  # names a parameter may not take
MAX_LENGTH = 2000

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.Pow: jnp.power}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}
_REFUSED_OPERATORS = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>",
                      ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~"}

Params = Mapping[str, object]


@dataclasses.dataclass(frozen=True)
class Expression:
    """A compiled entry: ``expr(params)`` evaluates it (jax.numpy, traceable);
    ``names`` are the parameter names it uses; ``text`` is what the user wrote."""

    text: str
    names: frozenset[str]
    function: Callable[[Params], object]
    is_complex: bool  # a complex literal occurs in it

    def __call__(self, params: Params):
        return self.function(params)


def compile_expression(entry, names, where: str = "expression") -> Expression:
    """Compile a number or an expression string over the parameter ``names``.

    ``where`` says where the entry stands (e.g. ``"junction.H[0,1]"``) for error messages.
    """
    known = frozenset(names)
    if isinstance(entry, bool) or not isinstance(entry, (int, float, complex, str)):
        raise ModelError(f"{where}: {entry!r} is neither a number nor an expression string")
    if not isinstance(entry, str):
        value = _number(entry, where)
        return Expression(repr(entry), frozenset(), lambda p: value, isinstance(value, complex))
    text = entry.strip()
    if not text:
        raise ModelError(f"{where}: empty expression")
    if len(text) > MAX_LENGTH:
        raise ModelError(f"{where}: expression longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as err:
        raise ModelError(f"{where}: cannot parse the expression {text!r} ({err.msg})") from None
    except (ValueError, RecursionError, MemoryError):
        raise ModelError(f"{where}: cannot parse the expression {text!r}") from None
    compiler = _Compiler(text, known, where)
    try:
        function = compiler.visit(tree.body)
    except RecursionError:
        raise ModelError(f"{where}: the expression {text!r} is nested too deeply") from None
    return Expression(text, frozenset(compiler.used), function, compiler.is_complex)


def _number(value, where: str):
    if isinstance(value, complex):
        if not (math.isfinite(value.real) and math.isfinite(value.imag)):
            raise ModelError(f"{where}: {value!r} is not finite")
        return value
    value = float(value)
    if not math.isfinite(value):
        raise ModelError(f"{where}: {value!r} is not finite")
    return value


class _Compiler:
    """Walks an accepted ``ast`` tree and returns a closure; refuses every other node."""

    def __init__(self, text: str, known: frozenset[str], where: str):
        self.text, self.known, self.where = text, known, where
        self.used: set[str] = set()
        self.is_complex = False

    def refuse(self, what: str):
        raise ModelError(f"{self.where}: the expression {self.text!r} uses {what}, which is not allowed "
                         f"(allowed: numbers, parameter names, pi, 1j, + - * / **, parentheses and "
                         f"{', '.join(FUNCTIONS)})")

    def visit(self, node) -> Callable[[Params], object]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float, complex)):
                self.refuse(f"the constant {node.value!r}")
            value = _number(node.value, self.where)
            self.is_complex |= isinstance(value, complex)
            return lambda p: value
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            op = _BINARY.get(type(node.op))
            if op is None:
                self.refuse(f"the operator {_REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)}")
            left = self.visit(node.left)
            exponent = _integer_literal(node.right) if op is jnp.power else None
            if exponent is not None:  # x**k with a literal integer k: exact repeated products
                return lambda p: jnp.asarray(left(p)) ** exponent
            right = self.visit(node.right)
            return lambda p: op(left(p), right(p))
        if isinstance(node, ast.UnaryOp):
            op = _UNARY.get(type(node.op))
            if op is None:
                self.refuse(f"the operator {_REFUSED_OPERATORS.get(type(node.op), type(node.op).__name__)}")
            operand = self.visit(node.operand)
            return lambda p: op(operand(p))
        if isinstance(node, ast.Call):
            return self.call(node)
        self.refuse(_describe(node))

    def name(self, name: str):
        if name in self.known:
            self.used.add(name)
            return lambda p: p[name]
        if name in CONSTANTS:
            value = CONSTANTS[name]
            return lambda p: value
        if name in FUNCTIONS:
            self.refuse(f"the function {name} without calling it")
        known = ", ".join(sorted(self.known)) or "none"
        raise ModelError(f"{self.where}: unknown name {name!r} in the expression {self.text!r} "
                         f"(parameters: {known}; constants: pi, 1j; functions: {', '.join(FUNCTIONS)})")

    def call(self, node: ast.Call):
        if not isinstance(node.func, ast.Name):
            self.refuse(f"a call of something other than a function name ({_describe(node.func)})")
        name = node.func.id
        if name not in FUNCTIONS:
            raise ModelError(f"{self.where}: unknown function {name!r} in the expression {self.text!r} "
                             f"(functions: {', '.join(FUNCTIONS)})")
        if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
            self.refuse(f"{name}(...) with other than one positional argument")
        function, argument = FUNCTIONS[name], self.visit(node.args[0])
        return lambda p: function(argument(p))


def _integer_literal(node) -> int | None:
    """k if ``node`` is a literal integer (or its negative) of modest size, else None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1 if isinstance(node.op, ast.USub) else 1
        node = node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int and node.value <= 64:
        return sign * node.value
    return None


def _describe(node) -> str:
    names = {ast.Attribute: "attribute access", ast.Subscript: "a subscript", ast.Lambda: "a lambda",
             ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional",
             ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.Set: "a set",
             ast.ListComp: "a comprehension", ast.GeneratorExp: "a generator", ast.SetComp: "a comprehension",
             ast.DictComp: "a comprehension", ast.NamedExpr: "an assignment (:=)", ast.JoinedStr: "an f-string",
             ast.Starred: "a starred argument", ast.Await: "await", ast.Yield: "yield", ast.Slice: "a slice"}
    return names.get(type(node), f"a {type(node).__name__} node")


def compile_matrix(rows, names, where: str, shape: tuple[int, ...] | None = None):
    """Compile a nested list of entries; returns (function params -> jnp array, nested
    Expressions, shape). ``shape`` (if given) is checked; otherwise the list must be
    rectangular."""
    found = _shape(rows, where)
    if shape is not None and found != shape:
        raise ModelError(f"{where} must have shape {_fmt(shape)}, got {_fmt(found)}")

    def compile_nested(item, index):
        if isinstance(item, list):
            return [compile_nested(x, index + (i,)) for i, x in enumerate(item)]
        return compile_expression(item, names, f"{where}[{','.join(map(str, index))}]")

    compiled = compile_nested(rows, ())

    def evaluate(nested, p):
        if isinstance(nested, list):
            return jnp.stack([evaluate(x, p) for x in nested])
        return jnp.asarray(nested(p))

    return (lambda p: evaluate(compiled, p)), compiled, found


def _shape(rows, where: str) -> tuple[int, ...]:
    if not isinstance(rows, list):
        return ()
    if not rows:
        raise ModelError(f"{where}: empty list")
    shapes = [_shape(r, where) for r in rows]
    if any(s != shapes[0] for s in shapes):
        raise ModelError(f"{where}: rows of different lengths or depths ({', '.join(_fmt(s) for s in shapes)})")
    return (len(rows),) + shapes[0]


def _fmt(shape) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if len(shape) != 1 else f"({shape[0]},)"
