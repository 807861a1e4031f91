"""The ``ehpjax`` command: help texts, ``reproduce`` into a temporary directory, ``currents``
(table and JSON) against physical constraints, and one-line errors for bad options."""

import json

import numpy as np
import pytest
from typer.main import get_command
from typer.testing import CliRunner

import ehpjax
from ehpjax.cli import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args))


def test_help_lists_commands_and_units():
    res = invoke("--help")
    assert res.exit_code == 0
    for word in ("reproduce", "currents", "ħΩ"):
        assert word in res.stdout
    assert invoke("--version").stdout.strip() == f"ehpjax {ehpjax.__version__}"


@pytest.mark.parametrize("name", ["reproduce", "currents"])
def test_every_option_is_explained(name):
    command = get_command(app).commands[name]
    for param in command.params:
        assert param.help and len(param.help) > 15, f"{name} {param.name} has no help"
    res = invoke(name, "--help")
    assert res.exit_code == 0
    assert "ħΩ" in res.stdout or "ħΩ/k_B" in res.stdout


def test_currents_physical_defaults_table():
    res = invoke("currents")
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    for key in ("J ", "J^LL", "J^RR", "J^RL", "J^LR", "I ", "P ", "σ "):
        assert any(line.lstrip().startswith(key) for line in lines), key


def test_currents_json():
    res = invoke("currents", "--json", "--T-e", "0.7", "--T-ph", "0.3", "--mu0", "10")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["inputs"]["T_e"] == 0.7 and out["inputs"]["mu_L"] == 10.0
    channels = out["J_channels"]
    assert set(channels) == {"LL", "RR", "RL", "LR"}
    assert abs(sum(channels.values()) - out["J"]) < 1e-12 * abs(out["J"])
    assert out["I"] == pytest.approx(out["N_channels"]["LR"] - out["N_channels"]["RL"], rel=1e-12)
    assert out["J"] > 0  # V = 0, T_e > T_ph: heat flows from the electrons into the mode
    assert out["P"] == 0.0 and out["entropy_production"] > 0
    assert out["version"] == ehpjax.__version__


def test_currents_equilibrium_is_zero():
    out = json.loads(invoke("currents", "--json", "--T-e", "0.3", "--T-ph", "0.3").stdout)
    assert abs(out["J"]) < 1e-14 and abs(out["I"]) < 1e-14


def test_currents_cooling_point_of_fig5():
    """Reverse bias at T = 0.3 is inside the cooling window (paper Fig. 5): J < 0, P > 0."""
    out = json.loads(invoke("currents", "--json", "-V", "-1", "--T-e", "0.3", "--T-ph", "0.3").stdout)
    assert out["J"] < 0 and out["P"] > 0
    assert out["cooling_cop"] == pytest.approx(-out["J"] / out["P"])
    assert out["entropy_production"] >= 0


def test_currents_json_model_file_matches_two_level(tmp_path):
    model = {
        "H": [[10.5, 0.0], [0.0, 9.5]], "gamma_L": [[0.5, 0.0], [0.0, 0.0]], "gamma_R": [[0.0, 0.0], [0.0, 0.5]],
        "M": [[[0.0, 0.5], [0.5, 0.0]]], "K": [[1.0]], "eta": [[0.5]],
    }
    path = tmp_path / "paper.json"
    path.write_text(json.dumps(model))
    from_file = json.loads(invoke("currents", "--json", "--model", str(path), "-V", "0.5").stdout)
    built_in = json.loads(invoke("currents", "--json", "-V", "0.5").stdout)
    for key in ("J", "I", "P"):
        assert from_file[key] == pytest.approx(built_in[key], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize(
    "args, needle",
    [
        (("currents", "--T-e", "-0.5"), "--T-e"),
        (("currents", "--T-ph", "0"), "--T-ph"),
        (("currents", "--model", "three-level"), "unknown model"),
        (("currents", "--T-e", "hot"), "--T-e"),
        (("currents", "--gamma-L", "-1"), "--gamma-L"),
        (("currents", "--no-such-option"), "no-such-option"),
        (("frobnicate",), "frobnicate"),
    ],
)
def test_bad_options_one_line(args, needle):
    res = invoke(*args)
    assert res.exit_code != 0
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("ehpjax: error:") and needle in err
    assert "Traceback" not in res.output


def test_bad_model_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"H": [[1.0]]}')
    res = invoke("currents", "--model", str(bad))
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1 and "lacks" in res.stderr
    not_psd = tmp_path / "not_psd.json"
    not_psd.write_text(json.dumps({"H": [[0.0]], "gamma_L": [[-1.0]], "gamma_R": [[1.0]], "M": [[[1.0]]],
                                   "K": [[1.0]], "eta": [[0.1]]}))
    res = invoke("currents", "--model", str(not_psd))
    assert res.exit_code != 0 and len(res.stderr.strip().splitlines()) == 1 and "gamma_L" in res.stderr


def test_reproduce_unwritable_dir(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    res = invoke("reproduce", "--out", str(blocker / "figs"))
    assert res.exit_code != 0
    err = res.stderr.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ehpjax: error:") and "a_file" in err


def test_reproduce_quick(tmp_path):
    out = tmp_path / "figs"
    res = invoke("reproduce", "--out", str(out), "--quick", "--no-progress", "--dpi", "60")
    assert res.exit_code == 0, res.output
    names = {f"fig{n}.{ext}" for n in range(3, 7) for ext in ("png", "csv")} | {"params.json"}
    assert names <= {p.name for p in out.iterdir()}
    for n in range(3, 7):
        assert (out / f"fig{n}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        header = (out / f"fig{n}.csv").read_text().splitlines()[0].split(",")
        assert all("[" in col for col in header)
        rows = np.loadtxt(out / f"fig{n}.csv", delimiter=",", skiprows=1)
        assert rows.ndim == 2 and rows.shape[1] == len(header) and np.all(np.isfinite(rows))
    params = json.loads((out / "params.json").read_text())
    assert params["ehpjax_version"] == ehpjax.__version__
    assert params["settings"]["T0"] == 0.5 and params["settings"]["eps_L"] == 10.5
    assert params["results"]["fig6_V_EP_lossless"] == pytest.approx(0.6928203230, rel=1e-9)
    assert "V_EP" in res.stdout
