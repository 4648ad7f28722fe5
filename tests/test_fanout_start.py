"""The batch workers' forkserver started early (pipelines.fanout.pool.start_forkserver): by plan_shards when
the shard's pool will run in the same process, so its imports overlap the planning instead of delaying the
first batch."""

# No `from __future__ import annotations`: Dagster reads the ops' context annotation.
import subprocess
import sys
from pathlib import Path

import dagster as dg

from pipelines.defs.fanout_ops import _in_process

ROOT = Path(__file__).resolve().parents[1]


def test_start_forkserver_starts_the_pools_forkserver_without_waiting_for_its_imports() -> None:
    code = (
        "import time\n"
        "from multiprocessing import forkserver\n"
        "from pipelines.fanout.pool import start_forkserver\n"
        "started = time.perf_counter()\n"
        "start_forkserver()\n"
        "took = time.perf_counter() - started\n"
        "pid = forkserver._forkserver._forkserver_pid\n"
        "print(took)\n"
        "for _ in range(100):  # the server execs a moment after it is spawned\n"
        "    cmdline = open(f'/proc/{pid}/cmdline', 'rb').read().decode().replace(chr(0), ' ')\n"
        "    if 'forkserver' in cmdline:\n"
        "        break\n"
        "    time.sleep(0.1)\n"
        "print(cmdline)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    took, cmdline = out.stdout.splitlines()
    # The server imports the batch workers' modules (the pool's preload), so the pool's workers start warm.
    assert "pipelines.fanout.preload" in cmdline and "pipelines.intake.parse_preload" in cmdline
    # Not waited for: the imports take ≈ 1 s of CPU; starting the server is a spawn.
    assert float(took) < 0.5


def test_stop_forkserver_ends_the_server_and_a_later_pool_gets_a_new_one() -> None:
    code = (
        "import os\n"
        "from multiprocessing import forkserver\n"
        "from pipelines.fanout.pool import start_forkserver, stop_forkserver\n"
        "start_forkserver()\n"
        "first = forkserver._forkserver._forkserver_pid\n"
        "stop_forkserver()\n"
        "print(first, os.path.exists(f'/proc/{first}'), forkserver._forkserver._forkserver_pid)\n"
        "stop_forkserver()  # twice, or with none running: nothing\n"
        "start_forkserver()\n"
        "second = forkserver._forkserver._forkserver_pid\n"
        "print(second, os.path.exists(f'/proc/{second}'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    (first, first_alive, after), (second, second_alive) = (line.split() for line in out.stdout.splitlines())
    assert first != "None" and first_alive == "False" and after == "None"  # reaped, not a zombie
    assert second not in ("None", first) and second_alive == "True"


@dg.op(config_schema={"out": str})
def probe(context: dg.OpExecutionContext) -> None:
    Path(context.op_config["out"]).write_text(str(_in_process(context)), encoding="utf-8")


@dg.job
def probed() -> None:
    probe()


def test_the_early_start_only_where_the_steps_share_the_process(tmp_path: Path) -> None:
    out = tmp_path / "seen"
    config = {"ops": {"probe": {"config": {"out": str(out)}}}}
    assert probed.execute_in_process(run_config=config).success
    assert out.read_text(encoding="utf-8") == "True"
    # Each step its own process: the pool would not be this process's.
    with dg.instance_for_test() as instance:
        multiprocess = {**config, "execution": {"config": {"multiprocess": {}}}}
        result = dg.execute_job(dg.reconstructable(probed), instance=instance, run_config=multiprocess)
        assert result.success
    assert out.read_text(encoding="utf-8") == "False"
