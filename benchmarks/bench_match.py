"""Scaling of normalize + key + candidate generation on generated indicator rows.

    python benchmarks/bench_match.py [--rows 100000 1000000] [--seed 7]

Names are generated combinatorially (subject × action × measure, with qualifiers) and rows drawn from a pool
of distinct indicators with a Zipf-like skew, as real libraries repeat the same names across departments and
years: the pool holds rows/10 distinct indicators. 15% of the rows carry surface noise (Traditional
characters, full-width brackets, a unit in the name, 参训/按期 wording, spaces) that normalization must undo.
Each size runs in its own process so that peak RSS (ru_maxrss, including the generated frame) is its own.
Targets on the 2-core machine: 1M rows under 60 s and 2 GiB, and time(1M) / time(100k) ≤ 12.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipelines.dedupe.candidates import find_candidates  # noqa: E402
from pipelines.normalize.canonical import default_rules  # noqa: E402
from pipelines.normalize.keys import normalize_rows  # noqa: E402

SUBJECTS = [
    "培训",
    "会议",
    "档案",
    "道路",
    "垃圾",
    "补助资金",
    "设备",
    "信息系统",
    "网站",
    "公厕",
    "路灯",
    "河道",
    "高标准农田",
    "森林",
    "学生资助",
    "患者",
    "企业",
    "群众",
    "工程",
    "项目",
    "公务车辆",
    "图书馆",
    "文化场馆",
    "体育场馆",
    "养老服务",
    "救助资金",
    "低保资金",
    "就业",
    "医保",
    "疫苗",
    "食品",
    "药品",
    "消防",
    "安全生产",
    "信访事项",
    "热线工单",
    "执法案件",
    "法律援助",
    "人民调解",
    "政务服务",
    "数据",
    "网络安全",
    "监控设备",
    "办公楼",
    "公交车辆",
    "污水",
    "空气质量",
    "湿地",
    "耕地",
    "绿化",
    "农作物",
    "动物防疫",
    "学校食堂",
    "义务教育",
    "学前教育",
    "家庭医生",
    "健康档案",
    "残疾人",
    "退役军人",
    "农村公路",
    "桥梁",
    "水库",
    "供水管网",
    "燃气管道",
    "老旧小区",
    "背街小巷",
]
ACTIONS = [
    "整理",
    "清运",
    "养护",
    "发放",
    "维修",
    "检查",
    "抽检",
    "验收",
    "建设",
    "改造",
    "采购",
    "更新",
    "运行",
    "处置",
    "办结",
    "宣传",
    "监测",
    "巡查",
    "保洁",
    "开放",
    "接待",
    "登记",
    "审核",
    "拨付",
    "执行",
    "整改",
    "排查",
    "评估",
    "数字化",
    "备份",
    "签约",
    "接种",
    "救助",
    "安置",
    "调解",
    "培训",
    "服务",
    "治理",
    "修复",
    "巡护",
]
MEASURES = (
    ("完成率", "%"),
    ("合格率", "%"),
    ("覆盖率", "%"),
    ("及时率", "%"),
    ("达标率", "%"),
    ("到位率", "%"),
    ("准确率", "%"),
    ("按时完成率", "%"),
    ("满意度", "%"),
    ("知晓率", "%"),
    ("人次", "人次"),
    ("人数", "人"),
    ("次数", "次"),
    ("场次", "场"),
    ("天数", "天"),
    ("数量", "个"),
    ("户数", "户"),
    ("件数", "件"),
    ("批次", "批"),
    ("面积", "平方米"),
    ("里程", "公里"),
    ("金额", "万元"),
    ("成本", "万元"),
    ("时间", "天"),
)
QUALIFIERS = (
    "",
    "",
    "",
    "",
    "新增",
    "年度",
    "农村",
    "城市",
    "重点",
    "全市",
    "一次性",
    "全年",
    "第一季度",
    "第二季度",
    "市级",
)
LEVEL2 = (
    "数量指标",
    "质量指标",
    "时效指标",
    "经济成本指标",
    "社会效益指标",
    "生态效益指标",
    "可持续影响指标",
    "服务对象满意度指标",
)
FUNCTION_CODES = tuple(
    f"{c}{k:02d}"
    for c in (201, 204, 205, 206, 207, 208, 210, 211, 212, 213, 214, 215, 216, 220, 221, 224)
    for k in (1, 2)
)
TRADITIONAL = str.maketrans(
    {"训": "訓", "档": "檔", "满": "滿", "项": "項", "检": "檢", "维": "維", "运": "運", "资": "資"}
)


def generate(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = max(rows // 10, 100)
    s = rng.integers(0, len(SUBJECTS), pool)
    a = rng.integers(0, len(ACTIONS), pool)
    m = rng.integers(0, len(MEASURES), pool)
    q = rng.integers(0, len(QUALIFIERS), pool)
    names = np.array(
        [
            QUALIFIERS[qi] + SUBJECTS[si] + ACTIONS[ai] + MEASURES[mi][0]
            for qi, si, ai, mi in zip(q, s, a, m, strict=True)
        ],
        dtype=object,
    )
    units = np.array([MEASURES[mi][1] for mi in m], dtype=object)
    scope = rng.choice(np.array(["项目", "部门整体", "共性"], dtype=object), pool, p=[0.72, 0.26, 0.02])
    level2 = rng.choice(np.array(LEVEL2, dtype=object), pool)
    fcode = np.where(scope == "项目", rng.choice(np.array(FUNCTION_CODES, dtype=object), pool), "")

    # Zipf-like reuse: a few indicators are used by many departments, most by one or two.
    weights = 1.0 / np.arange(1, pool + 1) ** 0.8
    pick = rng.choice(pool, rows, p=weights / weights.sum())
    name = names[pick].copy()
    unit = units[pick].copy()
    noise = rng.random(rows)
    kind = rng.integers(0, 5, rows)
    for k, noisy in enumerate(np.where(noise < 0.15)[0]):
        choice = kind[noisy]
        if choice == 0:
            name[noisy] = name[noisy].translate(TRADITIONAL)
        elif choice == 1:
            name[noisy] = f"{name[noisy]}（{unit[noisy]}）"
            unit[noisy] = ""
        elif choice == 2:
            name[noisy] = name[noisy].replace("培训", "参训").replace("按时", "按期")
        elif choice == 3:
            name[noisy] = " ".join(name[noisy]) if k % 2 else f"{name[noisy]} "
        else:
            unit[noisy] = {"%": "百分比", "平方米": "㎡", "公里": "km", "天": "日"}.get(
                unit[noisy], unit[noisy]
            )
    definition = np.where(
        rng.random(rows) < 0.5, np.char.add(np.char.add("反映", names[pick].astype(str)), "情况"), ""
    )
    return pd.DataFrame(
        {
            "scope": scope[pick].astype(str),
            "level1": "",
            "level2": level2[pick].astype(str),
            "name": name.astype(str),
            "definition": definition.astype(str),
            "unit": unit.astype(str),
            "function_code": fcode[pick].astype(str),
        }
    )


def key_clusters(normalized: pd.DataFrame, by: object) -> pd.DataFrame:
    """One record per automatic-merge cluster (rows grouped by `by`, a key column or key codes), in the
    shape find_candidates reads; usage_count = rows in the cluster."""
    return normalized.groupby(by, sort=True).agg(
        name=("name_norm", "first"),
        match_name=("match_name", "first"),
        definition=("definition", "first"),
        unit_norm=("unit_norm", "first"),
        scope=("scope", "first"),
        level1=("level1", "first"),
        level2=("level2", "first"),
        function_class=("function_class", "first"),
        usage_count=("name", "size"),
    )


def run_one(rows: int, seed: int) -> dict[str, float]:
    frame = generate(rows, seed)
    rules = default_rules()
    t0 = time.perf_counter()
    normalized = normalize_rows(frame, rules)
    t1 = time.perf_counter()
    clusters = key_clusters(normalized, "key").reset_index(drop=True)
    clusters["id"] = [f"N{i:07d}" for i in range(len(clusters))]
    t2 = time.perf_counter()
    cpu = time.process_time()
    candidates = find_candidates(clusters, None, rules)
    cpu = time.process_time() - cpu
    t3 = time.perf_counter()
    return {
        "rows": rows,
        "distinct_raw_names": int(frame["name"].nunique()),
        "clusters": len(clusters),
        "candidates": len(candidates),
        "normalize_s": t1 - t0,
        "cluster_s": t2 - t1,
        "candidates_s": t3 - t2,
        "candidates_cpu_s": cpu,  # CPU seconds of find_candidates alone (wall time varies with the load)
        "wall_s": t3 - t0,
        "rows_per_s": rows / (t3 - t0),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # child process: one size
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.rows[0], args.seed)))
        return 0
    results = []
    for rows in args.rows:
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--rows", str(rows), "--seed", str(args.seed)],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(
            f"rows={result['rows']:>9,d} distinct_raw={result['distinct_raw_names']:>8,d} clusters={result['clusters']:>8,d} "
            f"candidates={result['candidates']:>7,d} | normalize {result['normalize_s']:6.2f}s cluster {result['cluster_s']:5.2f}s "
            f"candidates {result['candidates_s']:6.2f}s (CPU {result['candidates_cpu_s']:.2f}s, "
            f"{result['candidates'] / max(result['clusters'], 1):.2f} per cluster) | wall {result['wall_s']:6.2f}s {result['rows_per_s']:>9,.0f} rows/s "
            f"peak RSS {result['peak_rss_mib']:,.0f} MiB"
        )
    if len(results) >= 2:
        ratio = results[-1]["wall_s"] / results[0]["wall_s"]
        print(f"time ratio {results[-1]['rows']:,d} / {results[0]['rows']:,d} rows = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
