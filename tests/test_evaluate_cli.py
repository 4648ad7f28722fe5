"""`indicators evaluate` and `indicators template --self-eval`: exit codes per SPEC §4 with one Chinese line each
(2 bad usage: no release, no folder, a year out of range, missing --dept/--year, a department without usages,
the repo locked; 1 a blocking check stopped publishing, nothing committed)."""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from pipelines import rebuild
from pipelines.cli import main
from pipelines.evaluate import release as eval_release
from pipelines.evaluate.release import CheckOutcome
from pipelines.store.lock import LOCK_FILE
from tests.git_env import git, isolate_git, small_inbox
from tests.test_evaluate_e2e import YEAR, _submissions


@pytest.fixture(autouse=True)
def isolated_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_git(tmp_path / "home", monkeypatch)


def _evaluate(repo: Path, subs: Path, *extra: str) -> list[str]:
    return ["evaluate", "--year", str(YEAR), "--submissions", str(subs), "--repo", str(repo), *extra]


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "subs").mkdir()
    assert main(_evaluate(tmp_path / "nothing", tmp_path / "subs")) == 2
    assert "还没有发布的指标库" in capsys.readouterr().err
    assert main(["evaluate", "--year", "2099", "--submissions", str(tmp_path), "--repo", str(tmp_path)]) == 2
    assert "超出可重建的年度范围" in capsys.readouterr().err
    assert main(["template", "--self-eval", "--dept", "201", "--repo", str(tmp_path)]) == 2
    assert "--self-eval 需要 --dept" in capsys.readouterr().err
    assert main(_evaluate(tmp_path, tmp_path / "subs", "--wait", "-1")) == 2


def test_template_and_evaluate_against_a_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    rebuild.run(YEAR, small_inbox(tmp_path / "inbox", YEAR), repo, finance_dept="101")
    capsys.readouterr()
    assert main(["template", "--self-eval", "--dept", "999", "--year", str(YEAR), "--repo", str(repo)]) == 2
    assert "没有入库的项目或部门整体指标" in capsys.readouterr().err
    assert main(_evaluate(repo, tmp_path / "missing")) == 2
    assert "找不到自评表所在的文件夹" in capsys.readouterr().err

    subs = _submissions(repo, tmp_path / "subs")
    head = git(repo, "rev-parse", "HEAD")
    other = subprocess.Popen(["sleep", "60"])  # another live process on this host holds the lock
    try:
        token = {"pid": other.pid, "host": socket.gethostname(), "token": "other"}
        (repo / LOCK_FILE).write_text(json.dumps(token), encoding="utf-8")
        assert main(_evaluate(repo, subs)) == 2
        assert "另一个重建正在进行" in capsys.readouterr().err
    finally:
        other.kill()
        other.wait()
        (repo / LOCK_FILE).unlink()

    def blocked(*_: object) -> list[CheckOutcome]:
        return [
            CheckOutcome(
                "evaluation_points", False, ["部门 201 项目“教育局项目” 指标分值合计 80.00 分，应为 90 分"]
            )
        ]

    monkeypatch.setattr(eval_release, "blocking_checks", blocked)
    assert main(_evaluate(repo, subs)) == 1
    lines = capsys.readouterr().out.rstrip().splitlines()
    assert lines[-1].startswith("未发布：自评结果未通过检查") and "应为 90 分" in lines[-1]
    assert git(repo, "rev-parse", "HEAD") == head and git(repo, "tag", "--list", "*-eval*") == ""
    assert not (repo / "library" / "evaluations").exists()
