"""The library browser page at province scale: size, open time and search time in headless Chromium.

    .venv/bin/python -m benchmarks.bench_library_page [--n 30000] [--out /tmp/library_page_bench]

Builds a synthetic library of N indicators (names and definitions made of the demo's wording, about 200
departments, three years of usages with targets, a change history), writes reports/<Y>/library.html with
write_library_page, opens it in Debian's Chromium (Playwright, executable_path=/usr/bin/chromium, no
network) and prints: page size; open time (navigation start → list rendered, the page's script done);
search time (typing a Traditional query → result count shown) for a few queries; card open time.
The issue's budget: under 10 MB, opens and answers a search in under 1 s.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.report.library_page import write_library_page
from pipelines.report.library_page.events import EVENT_COLUMNS
from schemas.library import LibraryTables
from schemas.vocab import function_codes, reference

CHROMIUM = "/usr/bin/chromium"
YEAR = 2026
YEARS = (2024, 2025, 2026)
# Wording pieces of real indicators (the demo's and the MoF guide's), combined into distinct names.
SUBJECTS = (
    "病床",
    "门诊",
    "道路",
    "桥梁",
    "学校",
    "幼儿园",
    "供水管网",
    "污水处理",
    "垃圾清运",
    "绿化",
    "农田",
    "林地",
    "河道",
    "养老机构",
    "社区",
    "培训",
    "就业",
    "补贴",
    "资助",
    "疫苗",
    "监测站点",
    "执法检查",
    "图书馆",
    "文化设施",
    "体育场馆",
    "公交车",
    "充电桩",
    "消防站",
    "应急物资",
    "档案",
    "信息系统",
    "数据中心",
    "窗口服务",
)
MEASURES = (
    "使用率",
    "覆盖率",
    "完成率",
    "达标率",
    "数量",
    "面积",
    "长度",
    "人次",
    "满意度",
    "及时率",
    "合格率",
    "到位率",
    "维修数量",
    "建设数量",
    "运维时长",
    "响应时间",
    "投诉率",
    "发放金额",
    "受益人数",
    "准确率",
)
QUALIFIERS = ("", "新增", "年度", "重点", "农村", "城区", "公共", "示范", "标准化", "智慧")
UNITS = ("%", "个", "人次", "公里", "平方米", "万元", "所", "台", "小时", "分")


def _names(n: int, rng: np.random.Generator) -> list[str]:
    """n distinct names: qualifier + subject + measure, numbered past the combinations."""
    out = []
    for i in range(n):
        q = QUALIFIERS[i % len(QUALIFIERS)]
        s = SUBJECTS[(i // len(QUALIFIERS)) % len(SUBJECTS)]
        m = MEASURES[(i // (len(QUALIFIERS) * len(SUBJECTS))) % len(MEASURES)]
        lot = i // (len(QUALIFIERS) * len(SUBJECTS) * len(MEASURES))
        out.append(f"{q}{s}{m}" + (f"（{lot + 1}期）" if lot else ""))
    rng.shuffle(out)
    return out


def _frames(n: int, rng: np.random.Generator) -> tuple[pd.DataFrame, list[str]]:
    framework = reference().framework
    codes = sorted(c for c, f in function_codes().items() if f.level == "项") or ["2010101"]
    names = _names(n, rng)
    scope = rng.choice(["共性", "部门整体", "项目"], size=n, p=[0.05, 0.15, 0.8])
    letter = {"共性": "G", "部门整体": "B", "项目": "X"}
    ids = [f"ZB-{letter[s]}{i + 1:06d}" for i, s in enumerate(scope)]
    levels = [framework[k] for k in rng.integers(0, len(framework), size=n)]
    fcode = [
        codes[k] if s == "项目" else ""
        for k, s in zip(rng.integers(0, len(codes), size=n), scope, strict=True)
    ]
    status = rng.choice(["active", "retired", "merged"], size=n, p=[0.9, 0.07, 0.03])
    ind = pd.DataFrame(
        {
            "indicator_id": ids,
            "scope": scope,
            "level1": [a for a, _ in levels],
            "level2": [b for _, b in levels],
            "name": names,
            "definition": [f"反映本年度{nm}的情况，按主管部门统计口径于年末核定的{nm}。" for nm in names],
            "formula": ["实际完成数/计划数×100%" if nm.endswith("率") else "" for nm in names],
            "symbol": rng.choice(["≥", "≤", "="], size=n),
            "unit": rng.choice(UNITS, size=n),
            "nature": "定量",
            "function_code": fcode,
            "function_class": [c[:3] for c in fcode],
            "keywords": [nm[:2] + "、" + nm[-3:] for nm in names],
            "national_standard": ["GB/T 50000-2020 规定值" if k % 13 == 0 else "" for k in range(n)],
            "industry_standard": ["行业标准值 95%" if k % 17 == 0 else "" for k in range(n)],
            "standard_source": ["国家卫生健康委 2023 年文件" if k % 13 == 0 else "" for k in range(n)],
            "indicator_source": "部门填报",
            "aliases": [[nm + "（原）"] if k % 20 == 0 else [] for k, nm in enumerate(names)],
            "first_year": rng.choice(YEARS, size=n),
            "last_year": YEAR,
            "status": status,
            "retired_year": pd.array([YEAR if s == "retired" else None for s in status], dtype="Int64"),
            "retire_reason": ["本年度无部门使用" if s == "retired" else "" for s in status],
            "merged_into": ["ZB-X000001" if s == "merged" else "" for s in status],
            "last_change_year": YEAR,
            "last_change_type": "沿用",
            "last_change_reason": "",
            "origin": "本级",
        }
    )
    return ind, ids


def synthetic_tables(n: int, seed: int = 7) -> tuple[LibraryTables, pd.DataFrame]:
    """A library of n indicators with ~2.5 departments each over three years, and its change events."""
    rng = np.random.default_rng(seed)
    ind, ids = _frames(n, rng)
    depts = pd.DataFrame({"dept_code": [f"{100 + k}" for k in range(200)]})
    depts["dept_name"] = [f"示例市第{k + 1}局" for k in range(200)]
    per = rng.integers(1, 5, size=n)
    owner = np.repeat(np.arange(n), per)
    dept = rng.integers(0, 200, size=len(owner))
    rows = pd.DataFrame({"i": np.tile(owner, len(YEARS)), "d": np.tile(dept, len(YEARS))})
    rows["year"] = np.repeat(YEARS, len(owner))
    base = rng.uniform(10, 1000, size=n)
    value = np.round(base[rows["i"]] * rng.uniform(0.8, 1.2, size=len(rows)), 1)
    usages = pd.DataFrame(
        {
            "indicator_id": np.asarray(ids)[rows["i"]],
            "year": rows["year"].to_numpy(),
            "dept_code": depts["dept_code"].to_numpy()[rows["d"]],
            "dept_name": depts["dept_name"].to_numpy()[rows["d"]],
            "project": "示例项目",
            "symbol": ind["symbol"].to_numpy()[rows["i"]],
            "target": [f"{v:g}" for v in value],
            "target_value": value,
            "unit": ind["unit"].to_numpy()[rows["i"]],
        }
    ).drop_duplicates(["indicator_id", "year", "dept_code"])
    users = usages[usages["year"] == YEAR].groupby("indicator_id")["dept_code"].agg(lambda d: sorted(d))
    ind["departments"] = [users.get(i, []) for i in ids]
    events = pd.DataFrame({"indicator_id": ids, "year": ind["first_year"], "type": "新增", "reason": ""})
    events["tag"] = "v" + events["year"].astype(str)
    events["detail"] = ""
    changed = events.iloc[::10].assign(
        year=YEAR, tag=f"v{YEAR}", type="修改", reason="按行业标准统一口径", detail="计量单位：个 → 人次"
    )
    events = pd.concat([events, changed], ignore_index=True)[EVENT_COLUMNS]
    tables = LibraryTables(ind, usages.reset_index(drop=True), depts, pd.DataFrame())
    return tables, events


def measure(
    page: Path, queries: tuple[str, ...] = ("農村培訓合格率", "滿意度", "ｚｂ－ｘ００００１", "道路")
) -> dict[str, float]:
    """Open the page in headless Chromium and time it: open, each search, one card."""
    from playwright.sync_api import sync_playwright

    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1400, "height": 900})
        start = time.perf_counter()
        tab.goto(page.resolve().as_uri())
        tab.wait_for_selector("body[data-ready='1']", timeout=60_000)
        out["open_s"] = time.perf_counter() - start
        out["open_in_page_s"] = float(tab.get_attribute("body", "data-ready-at") or "nan") / 1000
        phases = [float(x) / 1000 for x in (tab.get_attribute("body", "data-phases") or "").split()]
        out |= dict(zip(("script_start_s", "data_inflated_s", "list_drawn_s"), phases, strict=False))
        for q in queries:
            start = time.perf_counter()
            tab.fill("#q", q)
            tab.wait_for_function("q => document.getElementById('count').dataset.query === q", arg=q)
            out[f"search_s[{q}]"] = time.perf_counter() - start
            out[f"search_in_page_s[{q}]"] = float(tab.get_attribute("#count", "data-ms") or "nan") / 1000
            out[f"hits[{q}]"] = float(tab.inner_text("#count").split(" ")[1])
        tab.fill("#q", "")
        start = time.perf_counter()
        tab.click(".row >> nth=0")
        tab.wait_for_selector("#card h2")
        out["card_s"] = time.perf_counter() - start
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/library_page_bench"))
    args = parser.parse_args()
    start = time.perf_counter()
    tables, events = synthetic_tables(args.n)
    built = time.perf_counter()
    page = write_library_page(args.out / "reports" / str(YEAR), tables, events, YEAR)
    written = time.perf_counter()
    print(f"indicators: {args.n}  usages: {len(tables.usages)}  events: {len(events)}")
    print(f"synthetic tables: {built - start:.2f} s   write_library_page: {written - built:.2f} s")
    print(f"page: {page}  size: {page.stat().st_size / 1e6:.2f} MB")
    for key, value in measure(page).items():
        print(f"{key}: {value:.0f}" if key.startswith("hits") else f"{key}: {value:.3f}")


if __name__ == "__main__":
    main()
