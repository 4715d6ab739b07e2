"""The README's two set-up commands exist and CI runs the README's test command."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [ln.split("#")[0].strip() for ln in block.strip().splitlines() if ln.strip()]


def test_readme_opens_with_two_commands():
    cmds = _commands()
    assert len(cmds) == 2
    assert "physml" in cmds[0] and "pytest" in cmds[1]


def test_ci_runs_the_readme_test_command():
    install, _, run = _commands()[1].partition(" && ")
    ci = (ROOT / ".ci" / "run").read_text()
    assert install.replace("pip install", "python -m pip install -q") in ci
    assert f"{run} 2>&1 | tee" in ci.replace("python -m pytest", "python -m pytest")
