"""One partition per annual rebuild. Dagster has no yearly class: a time window with a yearly cron."""

import dagster as dg

FIRST_YEAR = 2018  # the MoF framework the library follows dates from 2018; older years are not rebuilt

# end_offset=1 keeps the current year's partition available before the year is over: the rebuild
# runs on 1 December, after the 11-30 deadline, inside the year it concerns.
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_YEAR), end_offset=1, timezone="Asia/Shanghai"
)
