"""The README's Python example runs exactly as written there."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _python_block() -> str:
    section = README.read_text().split("## Scripts, scenario sweeps and the trade-off frontier", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_example_runs_as_written(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(_python_block(), "README example", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "area plans, all compliant: True" in out
    assert "of collaboration kept" in out and "floor-40k" in out
    assert (tmp_path / "out" / "sondrio-25k" / "plans.gpkg").exists()
    assert (tmp_path / "out" / "sweep" / "results.csv").exists()
