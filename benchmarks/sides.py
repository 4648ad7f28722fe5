"""Old and new code side by side: a worker process on either, and the memory of its whole process tree.

The new code is this checkout; the old one a git worktree of another commit (`benchmarks.run --compare
REV`) in the benchmark's work folder, removed at the end. Both run benchmarks/workers.py of this checkout
(the measurement itself stays the same) with PYTHONPATH at their own root, so `pipelines` and `schemas`
are the code measured.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().with_name("workers.py")
PRODUCT = ("pipelines", "schemas")  # what --compare measures; the benchmarks are this checkout's


@dataclass(frozen=True)
class Code:
    """One side of a comparison: "new" (this checkout) or "old" (a worktree of rev)."""

    side: str
    root: Path
    rev: str = ""  # short commit ("" for this checkout)
    label: str = ""  # how tables name it, e.g. "7f76f01"


NEW = Code("new", ROOT, "", "this code")


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True).stdout.strip()


def default_compare() -> str | None:
    """The previous commit: HEAD when the product files have uncommitted changes (they are the new
    side), else HEAD~1; None in a repository without one."""
    dirty = git("status", "--porcelain", "--", *PRODUCT)
    rev = "HEAD" if dirty else "HEAD~1"
    return rev if git("rev-parse", "--verify", "--quiet", rev) else None


def old_code(spec: str | None, work: Path) -> Code | None:
    """A worktree of `spec` (a commit, tag or "none"; None: default_compare) in work, or None."""
    rev = default_compare() if spec is None else None if spec.lower() == "none" else spec
    if rev is None:
        return None
    sha = git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if not sha:
        raise SystemExit(f"--compare {rev}：找不到这个提交")
    path = work / f"compare-{sha[:10]}"
    if not (path / ".git").exists() or git("rev-parse", "HEAD", cwd=path) != sha:
        remove_worktree(path)
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(path), sha], check=True
        )
    short = sha[:7]
    return Code("old", path, short, f"{short} ({rev})" if rev != short else short)


def remove_worktree(path: Path) -> None:
    if path.exists():
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], capture_output=True
        )
        shutil.rmtree(path, ignore_errors=True)
    subprocess.run(["git", "-C", str(ROOT), "worktree", "prune"], capture_output=True)


# --- the process tree's memory -----------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                out += [int(c) for c in fh.read().split()]
    except OSError:
        pass
    return out


def _memory_kib(pid: int) -> int:
    """Proportional set size (shared pages split between the processes sharing them: a forked pool's
    workers are not counted twice); resident set where smaps_rollup is missing."""
    for name, key in (("smaps_rollup", "Pss:"), ("status", "VmRSS:")):
        try:
            with open(f"/proc/{pid}/{name}", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def tree_kib(root: int) -> tuple[int, int]:
    """(memory of root and all its descendants, how many processes)."""
    pids, seen = [root], 0
    total = 0
    while pids:
        pid = pids.pop()
        seen += 1
        total += _memory_kib(pid)
        pids += _children(pid)
    return total, seen


class TreeSampler(threading.Thread):
    """Samples a process tree's memory every `interval` s until stopped: its peak, and the most
    processes seen at once (a pool's workers, Dagster's step processes)."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib, self.processes = 0, 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            kib, count = tree_kib(self.pid)
            self.peak_kib, self.processes = max(self.peak_kib, kib), max(self.processes, count)
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def run_worker(
    args: list[str], env: dict[str, str] | None = None, timeout: float | None = None, code: Code = NEW
) -> dict:
    """benchmarks/workers.py in a fresh interpreter on `code`; its last stdout line is JSON. Adds the
    process time (start and imports included) and the peak memory of the whole process tree."""
    cmd = [sys.executable, str(WORKER), *args]
    started = time.perf_counter()
    environment = {**os.environ, **(env or {}), "PYTHONPATH": str(code.root)}
    with subprocess.Popen(cmd, cwd=code.root, stdout=subprocess.PIPE, text=True, env=environment) as proc:
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            stdout, _ = proc.communicate()
        finally:
            sampler.stop()
    if proc.returncode != 0:
        return {"error": f"exit {proc.returncode}", "cmd": shlex.join(cmd), "code": code.label}
    out = json.loads(stdout.strip().splitlines()[-1])
    out["process_s"] = time.perf_counter() - started
    out["tree_peak_mib"] = sampler.peak_kib / 1024
    out["tree_processes"] = sampler.processes
    return out
