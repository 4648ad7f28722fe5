"""Publishing a year's self-evaluation (SPEC §4 `indicators evaluate`, §7): the evaluation tables into
library/evaluations/<Y>/ (pipelines/store/evaluations.py), the report into reports/<Y>/, both listed in
manifest.json, committed on their own and tagged vY-eval (vY-eval.1, … when a corrected run changes them).

Under the deployment's run lock (pipelines/store/lock.py), on a clean library/ and reports/: the blocking
checks run on the tables first (every evaluated usage of the year appears exactly once, scored or listed
missing; every project's points add up), then the files are written, the whole release verified and
committed. Same tables and report → same bytes → no commit. Anything failing before the commit puts
library/ and reports/ back exactly as the last commit has them (they were clean when the run started).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import git
import pandas as pd

from pipelines.common.errors import first_problems
from pipelines.common.xlsx_out import atomic_write_bytes
from pipelines.evaluate.bands import scoring_bands
from pipelines.evaluate.tables import EvaluationTables
from pipelines.evaluate.workbook import DEPT_WIDE, EVALUATED_SCOPES
from pipelines.store import publish
from pipelines.store.evaluations import (
    add_to_manifest,
    evaluation_files,
    evaluation_problems,
)
from pipelines.store.lock import rebuild_lock
from pipelines.store.release import ConcurrentReleaseError
from pipelines.store.repo import RELEASE_PATHS, _identity, ensure_clean, open_repo
from pipelines.store.verify import verify_library, verify_reports

COVERAGE = "evaluation_coverage"
POINTS = "evaluation_points"
CHECKS: dict[str, str] = {
    COVERAGE: "本年度每条项目和部门整体指标在自评结果中恰好出现一次（已评分，或列为未提交/缺失按 0 分）",
    POINTS: "每个项目的指标分值合计 90 分（±0.01），加预算执行率不超过 100 分，得分不超过分值",
}
POINT_TOLERANCE = 0.01
KEY = ["dept_code", "indicator_id", "project"]
_EVAL_TAG = re.compile(r"^v(\d{4})-eval(?:\.(\d+))?$")


class EvaluationBlocked(RuntimeError):
    """A blocking check failed: nothing was written, the published release is as it was."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(f"自评结果未通过检查，未发布，已发布的指标库保持不变：{first_problems(problems)}")


@dataclass
class CheckOutcome:
    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class EvaluationRelease:
    year: int
    committed: bool
    sha: str
    tag: str | None  # the new tag, or the year's last evaluation tag when nothing changed
    files: tuple[str, ...]  # written, relative to the repo


# --- the blocking checks ------------------------------------------------------------------------------


def _label(key: tuple[str, str, str]) -> str:
    return f"部门 {key[0]} 项目“{key[2] or DEPT_WIDE}”指标 {key[1]}"


def coverage_problems(usages: pd.DataFrame, year: int, tables: EvaluationTables) -> list[str]:
    """Every 项目 / 部门整体 usage of `year` appears exactly once in the usage table; nothing else does."""
    of_year = usages[(usages["year"] == year) & usages["scope"].isin(EVALUATED_SCOPES)]
    expected = set(of_year[KEY].itertuples(index=False, name=None))
    rows = list(tables.usages[KEY].itertuples(index=False, name=None))
    seen: dict[tuple[str, str, str], int] = {}
    for key in rows:
        seen[key] = seen.get(key, 0) + 1
    problems = [f"{_label(k)} 未出现在自评结果中" for k in sorted(expected - set(seen))]
    problems += [f"{_label(k)} 在自评结果中出现 {n} 次" for k, n in sorted(seen.items()) if n > 1]
    problems += [f"{_label(k)} 不是 {year} 年度的指标" for k in sorted(set(seen) - expected)]
    depts = set(of_year["dept_code"])
    listed = list(tables.departments["dept_code"])
    if sorted(listed) != sorted(depts):
        problems.append(f"部门自评结果列出的部门 {sorted(listed)} 与本年度有指标的部门 {sorted(depts)} 不符")
    return problems


def points_problems(tables: EvaluationTables) -> list[str]:
    """Per project: the indicators' points add up to 90, awarded ≤ points, total = indicators + 预算执行率 ≤ 100."""
    bands = scoring_bands()
    indicator_total = bands.project_points - bands.budget_points
    problems = []
    sums = tables.usages.groupby(["dept_code", "project"], sort=True)[["points", "awarded"]].sum()
    for p in tables.projects.itertuples(index=False):
        where = f"部门 {p.dept_code} 项目“{p.project or DEPT_WIDE}”"
        points, awarded = (
            sums.loc[(p.dept_code, p.project)] if (p.dept_code, p.project) in sums.index else (0.0, 0.0)
        )
        if (
            abs(float(points) - indicator_total) > POINT_TOLERANCE
            or abs(p.indicator_max - points) > POINT_TOLERANCE
        ):
            problems.append(f"{where} 指标分值合计 {float(points):.2f} 分，应为 {indicator_total:g} 分")
        if (
            abs(float(awarded) - p.indicator_points) > POINT_TOLERANCE
            or p.indicator_points > p.indicator_max + POINT_TOLERANCE
        ):
            problems.append(
                f"{where} 指标得分 {p.indicator_points:.2f} 与各指标得分之和 {float(awarded):.2f} 不符或超过分值"
            )
        total = p.indicator_points + p.budget_points
        if abs(total - p.total) > POINT_TOLERANCE or p.total > bands.project_points + POINT_TOLERANCE:
            problems.append(
                f"{where} 总分 {p.total:.2f} 不等于指标得分加预算执行率或超过 {bands.project_points:g} 分"
            )
    over = tables.usages[tables.usages["awarded"] > tables.usages["points"] + 1e-9]
    problems += [
        f"{_label((r.dept_code, r.indicator_id, r.project))} 得分超过分值" for r in over.itertuples()
    ]
    return problems


def blocking_checks(usages: pd.DataFrame, year: int, tables: EvaluationTables) -> list[CheckOutcome]:
    """The checks that must pass before the evaluation is published, in the order of CHECKS."""
    found = {COVERAGE: coverage_problems(usages, year, tables), POINTS: points_problems(tables)}
    return [CheckOutcome(name, not found[name], found[name]) for name in CHECKS]


# --- publishing ---------------------------------------------------------------------------------------


def eval_tags(repo: git.Repo, year: int) -> list[str]:
    """The year's evaluation tags in order: vY-eval, vY-eval.1, …"""
    found = [
        (int(m.group(2) or 0), t.name)
        for t in repo.tags
        if (m := _EVAL_TAG.match(t.name)) and int(m.group(1)) == year
    ]
    return [name for _, name in sorted(found)]


def next_eval_tag(repo: git.Repo, year: int) -> str:
    tags = eval_tags(repo, year)
    if not tags:
        return f"v{year}-eval"
    m = _EVAL_TAG.match(tags[-1])
    return f"v{year}-eval.{int(m.group(2) or 0) + 1}" if m else f"v{year}-eval.1"


def commit_message(year: int, tables: EvaluationTables) -> str:
    depts = tables.departments
    grades = "、".join(f"{g} {int((depts['grade'] == g).sum())}" for g in ("优", "良", "中", "差"))
    subject = (
        f"{year}年度绩效自评结果：{len(depts)} 个部门（提交自评表 {int(depts['submitted'].sum())} 个），"
        f"{len(tables.projects)} 个项目，{len(tables.usages)} 条指标；部门等级 {grades}"
    )
    body = [f"{d.dept_code} {d.dept_name}：{d.total:.2f} 分（{d.grade}）" for d in depts.itertuples()]
    return subject + "\n\n" + "\n".join(body) + "\n"


def _verify(root: Path) -> list[str]:
    library = root / publish.LIBRARY_DIR
    problems = [p.message for p in verify_library(library)] + evaluation_problems(library)
    return problems + verify_reports(root / publish.REPORTS_DIR, publish.read_manifest(library) or {})


def _write(root: Path, year: int, tables: EvaluationTables, reports: dict[str, bytes]) -> list[str]:
    """The year's evaluation files and reports written, manifest.json updated; the paths written."""
    library = root / publish.LIBRARY_DIR
    manifest = publish.read_manifest(library)
    if manifest is None:
        raise EvaluationBlocked([f"{root} 中还没有发布的指标库，无法发布自评结果"])
    files = evaluation_files(
        year, {"usages": tables.usages, "projects": tables.projects, "departments": tables.departments}
    )
    written = []
    for rel, (data, _) in files.items():
        atomic_write_bytes(library / rel, data)
        written.append(f"{publish.LIBRARY_DIR}/{rel}")
    for name, data in sorted(reports.items()):
        atomic_write_bytes(root / publish.REPORTS_DIR / str(year) / name, data)
        written.append(f"{publish.REPORTS_DIR}/{year}/{name}")
    manifest = add_to_manifest(manifest, year, files)
    listed = manifest.get(publish.REPORTS_KEY)
    present = publish.files_under(root / publish.REPORTS_DIR)
    mine = {f"{year}/{name}": present[f"{year}/{name}"] for name in reports}
    # an older release lists no reports: list them all now, so verify_reports covers every file
    entries = publish.file_entries(mine if isinstance(listed, dict) else present)
    manifest[publish.REPORTS_KEY] = dict(
        sorted({**(listed if isinstance(listed, dict) else {}), **entries}.items())
    )
    atomic_write_bytes(library / publish.MANIFEST, publish.manifest_text(manifest).encode("utf-8"))
    return written


def _commit(repo: git.Repo, year: int, tables: EvaluationTables) -> tuple[bool, str, str | None]:
    repo.git.add("-A", "--", *RELEASE_PATHS)
    try:
        repo.git.diff("--cached", "--quiet", "HEAD", "--", *RELEASE_PATHS)
        tags = eval_tags(repo, year)
        return False, repo.head.commit.hexsha, (tags[-1] if tags else None)
    except git.GitCommandError as exc:
        if exc.status != 1:
            raise
    tag = next_eval_tag(repo, year)
    message = commit_message(year, tables)
    with _identity(repo):
        repo.git.commit("-m", message, "--only", "--", *RELEASE_PATHS)
        sha = repo.head.commit.hexsha
        repo.git.tag("-a", tag, "-m", f"{year}年度绩效自评结果 {tag}\n\n{message}", sha)
    return True, sha, tag


def _restore(repo: git.Repo, before: str, tag: str | None) -> None:
    """library/ and reports/ (and the branch, and a tag this run made) back as they were at `before`.
    Each step on its own: what one cannot undo, the next run's clean check names."""
    with contextlib.suppress(git.GitCommandError, ValueError):
        if tag and tag in {t.name for t in repo.tags} and repo.git.rev_parse(f"{tag}^{{commit}}") != before:
            repo.git.tag("-d", tag)
    with contextlib.suppress(git.GitCommandError, ValueError):
        if repo.head.commit.hexsha != before:
            repo.git.update_ref("HEAD", before)
    with contextlib.suppress(git.GitCommandError, ValueError):
        known = [p for p in RELEASE_PATHS if repo.git.ls_tree("--name-only", before, "--", p)]
        if known:
            repo.git.reset("-q", before, "--", *known)
            repo.git.checkout(before, "--", *known)
    with contextlib.suppress(git.GitCommandError, ValueError):
        repo.git.clean("-fdq", "--", *RELEASE_PATHS)


def publish_evaluation(
    repo_root: Path,
    year: int,
    tables: EvaluationTables,
    reports: dict[str, bytes],
    usages: pd.DataFrame,
    *,
    wait: float = 0.0,
    base_sha: str | None = None,
) -> EvaluationRelease:
    """Check, write, verify, commit and tag the year's evaluation (module docstring). `reports`: file name
    → bytes under reports/<Y>/; `usages`: the release's usages the tables were scored from; `base_sha`: the
    commit they were read at (ConcurrentReleaseError when another run committed since).
    EvaluationBlocked when a blocking check fails (nothing written); PublishError when the written release
    does not verify (restored); LockBusyError when another run holds the lock."""
    root = Path(repo_root)
    repo = open_repo(root, create=False)
    with rebuild_lock(root, wait=wait, join=True):
        publish.recover_interrupted(root)
        ensure_clean(repo)
        if base_sha is not None and repo.head.commit.hexsha != base_sha:
            raise ConcurrentReleaseError(
                "指标库在本次自评读取之后已被另一次运行更新，本次未发布，已发布的指标库保持不变；请重新运行自评"
            )
        failed = [p for c in blocking_checks(usages, year, tables) for p in c.problems]
        if failed:
            raise EvaluationBlocked(failed)
        before, tag = repo.head.commit.hexsha, None
        try:
            written = _write(root, year, tables, reports)
            problems = _verify(root)
            if problems:
                raise publish.PublishError(problems)
            committed, sha, tag = _commit(repo, year, tables)
        except BaseException:
            _restore(repo, before, next_eval_tag(repo, year) if tag is None else tag)
            raise
    return EvaluationRelease(year, committed, sha, tag, tuple(written))
