"""One partition per annual rebuild. Dagster has no yearly class: a time window with a yearly cron."""

import dagster as dg

from pipelines.common.errors import UsageError

FIRST_YEAR = 2018  # the MoF framework the library follows dates from 2018; older years are not rebuilt

# end_offset=1 keeps the current year's partition available before the year is over: the rebuild
# runs on 1 December, after the 11-30 deadline, inside the year it concerns.
yearly_partitions = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 0 1 1 *", fmt="%Y", start=str(FIRST_YEAR), end_offset=1, timezone="Asia/Shanghai"
)


def check_year(year: int) -> None:
    """UsageError (exit 2, Chinese) for a year with no partition.

    Years after the current one (Asia/Shanghai) are refused rather than added: year Y's rebuild runs
    after Y's 11-30 deadline, inside year Y, and a release tagged for a year that has not started would
    become the base every later rebuild of the current year is compared with.
    """
    keys = yearly_partitions.get_partition_keys()
    if str(year) in keys:
        return
    first, last = keys[0], keys[-1]
    if int(year) > int(last):
        why = (
            f"{year} 年度还没有到：某年度的重建在该年 11 月 30 日填报截止之后进行，"
            f"目前最晚可以重建 {last} 年度"
        )
    else:
        why = f"指标库按 2018 年起施行的绩效指标框架建设，最早可以重建 {first} 年度"
    raise UsageError(f"--year {year} 超出可重建的年度范围（{first}–{last}）：{why}。请检查 --year")
