"""Notice a workbook appearing in, or changing in, the inbox and rebuild that year.

The cursor is a digest of (name, size, mtime) of every file per year folder; a changed digest yields one
run for that year. The parse cache then re-reads only the workbooks whose bytes changed.
"""

import hashlib
import json
from collections.abc import Sequence

import dagster as dg

from pipelines.defs.jobs import annual_rebuild
from pipelines.defs.partitions import yearly_partitions
from pipelines.defs.resources import InboxResource


def inbox_state(inbox: InboxResource, years: Sequence[str]) -> dict[str, str]:
    """year → digest of that year's inbox listing (only years whose folder exists)."""
    state = {}
    for year in years:
        folder = inbox.folder() / year
        if not folder.is_dir():
            continue
        listing = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in inbox.files_for(year))
        state[year] = hashlib.sha256(json.dumps(listing).encode()).hexdigest()[:16]
    return state


@dg.sensor(job=annual_rebuild, minimum_interval_seconds=60, name="inbox_sensor")
def inbox_sensor(context: dg.SensorEvaluationContext, inbox: InboxResource) -> dg.SensorResult:
    years = yearly_partitions.get_partition_keys()[-3:]  # this year and the two before (late corrections)
    state = inbox_state(inbox, years)
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = [
        dg.RunRequest(partition_key=year, run_key=f"inbox-{year}-{digest}", tags={"trigger": "inbox"})
        for year, digest in sorted(state.items())
        if seen.get(year) != digest
    ]
    if not requests:
        return dg.SensorResult(
            skip_reason="收件箱没有新的或改动的工作簿", cursor=json.dumps(state, sort_keys=True)
        )
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(state, sort_keys=True))
