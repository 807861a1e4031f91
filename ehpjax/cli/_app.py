"""The ``ehpjax`` typer app: every command registered statically, one error path.

Errors in the user's input (``EhpjaxError``, click usage errors, and the value checks of
ehpjax's own input validation) print ONE line ``ehpjax: error: <message>`` on stderr and
exit with status 2. Anything else is a bug and keeps its traceback. ehpjax's own warnings
(inaccurate points, a damaged checkpoint) print one line ``ehpjax: warning: <message>``.

Running the app turns on JAX's persistent compilation cache (``compilation_cache_dir``), so
that a command's compiled programs are reused by the next call in a new process.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import warnings
from pathlib import Path
from typing import Annotated

import typer
from typer.core import TyperGroup

try:  # typer >= 0.20 vendors click as typer._click
    from typer._click.exceptions import ClickException, NoArgsIsHelpError
except ImportError:  # pragma: no cover - older typer with click as a dependency
    from click.exceptions import ClickException, NoArgsIsHelpError

from .._errors import EhpjaxError
from .._files import OVERWRITE_HINT
from .._quantities import UNITS_NOTE

CACHE_ENV = "EHPJAX_CACHE_DIR"
_OFF = ("", "0", "off", "none", "false", "no")


# ----------------------------------------------------------------------------------------
# Persistent compilation cache


def compilation_cache_dir() -> Path | None:
    """Where the CLI keeps JAX's compiled programs: ``$EHPJAX_CACHE_DIR`` if set (empty, 0 or
    "off" disables the cache), else ``$XDG_CACHE_HOME/ehpjax/jax`` (default ``~/.cache``;
    ``~/Library/Caches`` on macOS, ``%LOCALAPPDATA%`` on Windows)."""
    env = os.environ.get(CACHE_ENV)
    if env is not None:
        return None if env.strip().lower() in _OFF else Path(env).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "ehpjax" / "jax"


def enable_compilation_cache() -> Path | None:
    """Point JAX's persistent compilation cache at ``compilation_cache_dir()`` unless the
    user configured JAX's own cache (``JAX_COMPILATION_CACHE_DIR``) or disabled ours.
    Returns the folder in use (None: no cache). A folder that cannot be created only
    means no cache."""
    import jax

    if jax.config.jax_compilation_cache_dir:  # the user's own JAX setting wins
        return Path(jax.config.jax_compilation_cache_dir)
    folder = compilation_cache_dir()
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(folder))
    # Cache every program that takes noticeable time to compile (JAX's default is 1 s).
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.1)
    return folder


# ----------------------------------------------------------------------------------------
# One error path


_EQX_MESSAGE = re.compile(r"EquinoxRuntimeError: (.*?)(?:\n\s*\n|\Z)", re.DOTALL)


def input_error_message(error: BaseException) -> str | None:
    """The one-line message of an error in the user's input, or None for anything else.

    Input errors: ``EhpjaxError``; a ``ValueError`` raised by ehpjax's input validation
    (``ehpjax/_checks.py``) on concrete values; and value checks at run time inside
    compiled code (``eqx.error_if``: equinox's ``EquinoxRuntimeError``, or the runtime error
    of plain ``jax.jit`` carrying the check's message), which only fail on the values given."""
    if isinstance(error, EhpjaxError):
        return str(error)
    if isinstance(error, ValueError) and _raised_in(error, ("_checks.py",)):
        return str(error)
    if isinstance(error, (RuntimeError, ValueError)) and "EquinoxRuntimeError: " in str(error):
        # jax reports a failed check as equinox's EquinoxRuntimeError (under eqx.filter_jit) or
        # as its own runtime error (plain jax.jit) carrying the check's message
        match = _EQX_MESSAGE.search(str(error))
        if match:
            return match.group(1)
    return None


def _raised_in(error: BaseException, filenames: tuple[str, ...]) -> bool:
    tb = error.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    path = Path(last.tb_frame.f_code.co_filename)
    return path.parent.name == "ehpjax" and path.name in filenames


def _echo_error(message: str) -> None:
    """The one error line; the library's keyword ``overwrite=True`` named as the command's flag."""
    message = " ".join(str(message).split()).replace(OVERWRITE_HINT, "pass --overwrite")
    typer.echo(f"ehpjax: error: {message}", err=True)


def _show_warning(message, category, filename, lineno, file=None, line=None, *, fallback=warnings.showwarning):
    """``warnings.showwarning`` while a command runs: ehpjax's warnings as one line (not Python's
    file, line and source), any other as Python shows it."""
    if str(message).startswith("ehpjax") or "ehpjax" in Path(filename).parts:
        typer.echo(f"ehpjax: warning: {' '.join(str(message).split())}", err=True)
    else:
        fallback(message, category, filename, lineno, file, line)


class _QuietValueChecks(logging.Filter):
    """Drop JAX's log of a failed callback when the failure is an equinox value check
    (``eqx.error_if``): the error path prints its message as one line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not (error is not None and type(error).__name__ == "_EquinoxRuntimeError")


class _Group(TyperGroup):
    """Root group: one error path, and help without ``<bool>``-style value placeholders."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        _tidy_metavars(self)
        enable_compilation_cache()
        quiet = _QuietValueChecks()
        callback_logger = logging.getLogger("jax._src.callback")
        callback_logger.addFilter(quiet)
        shown = warnings.showwarning
        warnings.showwarning = functools.partial(_show_warning, fallback=shown)
        try:
            rv = super().main(args=args, prog_name=prog_name or "ehpjax", complete_var=complete_var,
                              standalone_mode=False, **extra)
        except NoArgsIsHelpError as e:  # bare `ehpjax`: the help, already printed
            if e.format_message().strip():
                typer.echo(e.format_message())
            code = e.exit_code
        except ClickException as e:  # usage errors: unknown option, bad value type, ...
            _echo_error(e.format_message())
            code = 2
        except typer.Abort:
            _echo_error("aborted")
            code = 1
        except Exception as e:
            message = input_error_message(e)
            if message is None:
                raise  # a bug: keep the traceback
            _echo_error(message)
            code = 2
        else:
            if not standalone_mode:
                return rv
            code = rv if isinstance(rv, int) else 0
        finally:
            callback_logger.removeFilter(quiet)
            warnings.showwarning = shown
        if standalone_mode:
            sys.exit(code)
        return code


_PLAIN_TYPES = {"float": "X", "int": "N", "integer": "N", "str": "TEXT", "text": "TEXT", "path": "PATH"}


def _plain_type(param, ctx=None) -> str | None:
    """The value placeholder of ``param`` in the help: none for a flag, the option's own
    metavar if it names one, else a plain word (X, N, TEXT, PATH), also for repeatable options."""
    if getattr(param, "is_flag", False):
        return None
    if param.metavar is not None:
        return param.metavar
    kind = param.bare_type() if hasattr(param, "bare_type") else getattr(param.type, "name", "text")
    kind = kind.removeprefix("list[").removesuffix("]").lower()
    return _PLAIN_TYPES.get(kind, kind.upper())


def _argument_usage(param, ctx=None) -> list[str]:
    """An argument on the usage line: its metavar (its name in capitals), in brackets if optional."""
    name = param.metavar or param.name.upper()
    return [name if param.required else f"[{name}]"]


def _tidy_metavars(command) -> None:
    """Help without ``<bool>``/``<list[str]>`` placeholders, for every command and sub-command, and
    usage lines that name a required argument as its metavar (CONFIG, not typer's ``{config}``)."""
    for param in getattr(command, "params", ()):
        param.display_type_rich = functools.partial(_plain_type, param)
        if getattr(param, "param_type_name", None) == "argument":
            param.get_usage_pieces = functools.partial(_argument_usage, param)
    get_help_option = command.get_help_option

    def help_option(ctx):
        option = get_help_option(ctx)
        if option is not None:
            option.display_type_rich = functools.partial(_plain_type, option)
        return option

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        _tidy_metavars(sub)


# ----------------------------------------------------------------------------------------
# The app


app = typer.Typer(
    cls=_Group,
    name="ehpjax",
    help=(
        "Hybrid electron–boson energy transport in biased nanojunctions (JAX). A biased conductor acts on "
        "bosonic modes as four electron–hole-pair baths (LL, RR, RL, LR) with chemical potentials 0, 0, −V, +V. "
        f"Units: {UNITS_NOTE}. Compiled programs are cached in ~/.cache/ehpjax/jax ({CACHE_ENV} sets the "
        "folder, EHPJAX_CACHE_DIR=off disables it)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version_callback(value: bool):
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ehpjax {version('ehpjax')}")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            typer.echo("ehpjax (not installed)")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                          help="Print the version and exit.")] = False,
):
    """Hybrid electron–boson energy transport in biased nanojunctions (JAX)."""


# ----------------------------------------------------------------------------------------
# Static registration of every command module (each defines ``register(app)``).

from . import _currents, _models, _optimize, _reproduce, _sweep  # noqa: E402

COMMAND_MODULES = [_currents, _models, _sweep, _optimize, _reproduce]

for _module in COMMAND_MODULES:
    _module.register(app)
