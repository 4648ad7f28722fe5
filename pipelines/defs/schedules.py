"""The annual rebuild: 1 December, after the 11-30 submission deadline, for the current year."""

import dagster as dg

from pipelines.defs.jobs import annual_rebuild


@dg.schedule(
    job=annual_rebuild,
    cron_schedule="0 6 1 12 *",
    execution_timezone="Asia/Shanghai",
    name="annual_rebuild_schedule",
)
def annual_rebuild_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    year = context.scheduled_execution_time.year
    return dg.RunRequest(partition_key=str(year), run_key=f"scheduled-{year}", tags={"trigger": "schedule"})
