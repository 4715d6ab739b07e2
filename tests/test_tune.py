"""`physml tune`: a 2-trial study in SQLite (also read through optuna-dashboard's web API),
and two worker processes sharing one study on a real PostgreSQL server started on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import optuna
import pytest

from tests.test_fit_cli import CONFIG, _data

TUNE = """
[tune]
n_trials = 2
study_name = "t"
[[tune.space]]
path = "optimizer.learning_rate"
type = "float"
low = 0.001
high = 0.05
log = true
[[tune.space]]
path = "model.terms.0.config.cutoff"
type = "categorical"
choices = [4.5, 5.0]
"""


def _config(tmp_path, out):
    data = _data(tmp_path)
    cfg = tmp_path / "tune.toml"
    cfg.write_text(CONFIG.format(out=out, data=data, epochs=4) + TUNE)
    return cfg


def test_sqlite_study_and_best_model(tmp_path):
    from physml.cli import main

    cfg = _config(tmp_path, tmp_path / "study")
    assert main(["tune", str(cfg)]) == 0
    study = optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'study' / 'study.db'}")
    assert len(study.trials) == 2
    best = json.loads((tmp_path / "study" / "best_trial.json").read_text())
    assert set(best["params"]) == {"optimizer.learning_rate", "model.terms.0.config.cutoff"}
    assert (tmp_path / "study" / "best" / "model.json").exists()
    # an interrupted study resumes: one more trial is added to the same study
    assert main(["tune", str(cfg), "--n-trials", "1"]) == 0
    assert len(optuna.load_study(study_name="t", storage=f"sqlite:///{tmp_path / 'study' / 'study.db'}").trials) == 3
    _check_dashboard(f"sqlite:///{tmp_path / 'study' / 'study.db'}")


def _get(app, path: str) -> dict:
    """GET ``path`` from a WSGI app (no server, no socket) and decode its JSON answer."""
    from wsgiref.util import setup_testing_defaults

    env: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET"}
    setup_testing_defaults(env)
    status: list[str] = []
    body = b"".join(app(env, lambda s, headers, exc_info=None: status.append(s)))
    assert status[0].startswith("200"), (path, status, body[:500])
    return json.loads(body)


def _check_dashboard(storage: str) -> None:
    """optuna-dashboard's own API (the one its web page reads) lists the study, its trials,
    their sampled parameters and the per-epoch validation losses reported for pruning."""
    dashboard = pytest.importorskip("optuna_dashboard", reason="optuna-dashboard not installed (the [test] extra has it)")
    app = dashboard.wsgi(storage)
    studies = _get(app, "/api/studies")["study_summaries"]
    (summary,) = [s for s in studies if s["study_name"] == "t"]
    detail = _get(app, f"/api/studies/{summary['study_id']}")
    trials = detail["trials"]
    assert len(trials) == 3 and all(t["state"] == "Complete" for t in trials)
    names = {p["name"] for t in trials for p in t["params"]}
    assert names == {"optimizer.learning_rate", "model.terms.0.config.cutoff"}
    study = optuna.load_study(study_name="t", storage=storage)
    for t, ref in zip(sorted(trials, key=lambda t: t["number"]), study.trials):
        assert t["values"] == pytest.approx([ref.value])
        steps = sorted(v["step"] for v in t["intermediate_values"])
        assert steps == sorted(ref.intermediate_values) and len(steps) > 0  # the epochs the pruner saw


def test_two_workers_share_a_postgresql_study(tmp_path):
    from tests.postgres import pg_bindir, postgres_server

    if pg_bindir() is None:
        pytest.skip("PostgreSQL server binaries are not installed (.ci/run installs Debian's postgresql)")
    cfg = _config(tmp_path, tmp_path / "pg")
    with postgres_server() as url:
        url = url.replace("postgresql://", "postgresql+psycopg://")
        env = dict(os.environ, PYTHONPATH=os.getcwd())
        procs = [
            subprocess.Popen([sys.executable, "-m", "physml.cli", "tune", str(cfg), "--storage", url, "--n-trials", "1", "--out", str(tmp_path / f"w{k}")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for k in range(2)
        ]
        for p in procs:
            out, err = p.communicate(timeout=600)
            assert p.returncode == 0, err[-2000:]
        study = optuna.load_study(study_name="t", storage=url)
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        assert len(done) == 2  # both workers' trials landed in the one shared study
