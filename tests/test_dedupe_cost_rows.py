"""Cost rows and 共性 names that share few characters with their duplicates (issue 11, round 6).

fresh6's 项目总成本 (元) / 预算控制数 (萬元) / 市民中心运行维护费 (万元) are one project's whole cost in other words and
were never generated: their names share no character that the similarity passes could find. The cost near-synonyms
(pair_model.COST_SYNONYMS: 控制数, 概算 and kinds of expense written as 成本) make them one measure head for the
exact and head passes and give the model their likeness. Two more passes (blocking.BlockingConfig.top_k_common,
top_k_cost) were measured and are off by default (benchmarks/cv_match.py, round 6)."""

from __future__ import annotations

from pipelines.dedupe import pair_model as pm
from pipelines.dedupe.blocking import BlockingConfig, generate_pairs, prepare_rows
from pipelines.dedupe.candidates import find_candidates
from pipelines.dedupe.model import load_model
from pipelines.dedupe.vocabulary import COST_MARK, NearSynonymForm, cost_text, measure_synonyms
from pipelines.normalize.canonical import default_rules
from tests.test_match import clusters, pair_set

COST = dict(level1="产出指标", level2="成本指标")
FILLERS = (
    "培训人次",
    "会议场次",
    "档案数字化率",
    "道路养护里程",
    "路灯维修数量",
    "设备购置数量",
    "群众满意度",
)


def _cost_frame():
    return clusters(
        {"name": "项目总成本", "unit": "元", "id": "C1", **COST},
        {"name": "预算控制数", "unit": "萬元", "id": "C2", **COST},
        {"name": "市民中心运行维护费", "unit": "万元", "id": "C3", **COST},
        *({"name": n, "unit": "个"} for n in FILLERS),
    )


def _generated(frame, near_synonyms, config: BlockingConfig | None = None) -> set[frozenset[str]]:
    rows = prepare_rows(frame, "new", default_rules())
    pairs = generate_pairs(rows, config or BlockingConfig(), near_synonyms)
    ids = rows["id"].to_numpy()
    return {frozenset((ids[i], ids[j])) for i, j in zip(pairs["i"], pairs["j"], strict=True)}


def test_cost_near_synonyms_write_a_projects_cost_as_one_measure() -> None:
    canon = NearSynonymForm(pm.WORDS.near_synonyms)
    assert canon("培训费") == canon("培训费用") == canon("培训成本") == "培训成本"
    assert canon("会议费用") == "会议成本"  # the longer variant wins: not 会议成本 + 用
    assert canon("预算控制数") == canon("成本控制数") == "成本" and canon("项目成本概算") == "项目成本"
    assert canon("群众中心运维费") == "群众中心运维成本"  # 运行维护 is 运维 in a matching form
    assert canon("收费率") == "收费率" and canon("缴费人数") == "缴费人数"  # a fee paid, not an expense
    assert set(pm.COST_SYNONYMS) <= set(pm.WORDS.near_synonyms) <= set(load_model().words.near_synonyms)


def test_cost_rows_are_generated_and_listed_with_the_cost_words() -> None:
    frame = _cost_frame()
    wanted = {frozenset(("C1", "C2")), frozenset(("C1", "C3")), frozenset(("C2", "C3"))}
    assert not wanted & _generated(frame, measure_synonyms())  # round 5's words: never generated
    assert wanted <= _generated(frame, pm.WORDS.near_synonyms)
    listed = pair_set(find_candidates(frame, None, default_rules()))
    assert frozenset(("C1", "C2")) in listed and frozenset(("C2", "C3")) in listed


def test_cost_text_marks_cost_words_of_money_rows() -> None:
    assert cost_text("项目总成本", "元", "成本指标") == f"项目总{COST_MARK}"
    assert cost_text("预算控制数", "万元", "成本指标") == COST_MARK * 2
    assert cost_text("15万元。", "万元", "成本指标") == cost_text("15万元", "", "") == COST_MARK  # value only
    assert cost_text("人均补助标准", "元/生", "成本指标") == "人均补助标准"  # a 成本 二级 in money
    assert cost_text("人均补助标准", "元/生", "数量指标") == ""
    assert cost_text("项目总成本", "%", "成本指标") == "" and cost_text("培训人数", "人", "成本指标") == ""


def test_the_cost_pass_pairs_cost_rows_only_when_asked() -> None:
    frame = _cost_frame()
    words = measure_synonyms()  # without the cost near-synonyms: only the pass can find them
    off = _generated(frame, words)
    on = _generated(frame, words, BlockingConfig(top_k_cost=4))
    assert frozenset(("C1", "C2")) in on - off and frozenset(("C2", "C3")) in on - off
    costs = {"C1", "C2", "C3"}
    assert all(p <= costs for p in on - off)  # the pass pairs cost rows with cost rows


def test_the_common_pass_pairs_new_names_with_the_common_names() -> None:
    frame = clusters(
        {"name": "培训参会人次", "unit": "人次", "scope": "共性", "function_code": "", "id": "G1"},
        {"name": "完成护工培训任务", "unit": "名", "level2": "产出数量", "id": "P1"},
        *(
            {"name": n, "unit": "个", "level2": "产出数量"}
            for n in (
                "完成护工招聘任务",
                "完成护工体检任务",
                "完成护工考核任务",
                "完成护工登记任务",
                "完成培训任务数",
            )
        ),
        *(
            {"name": f"{n}培训{m}", "unit": "个"}
            for n in ("教师", "医生", "农民", "干部")
            for m in ("任务", "次数")
        ),
    )
    words = pm.WORDS.near_synonyms
    off = _generated(frame, words)
    on = _generated(frame, words, BlockingConfig(top_k_common=2))
    assert frozenset(("G1", "P1")) in on - off
    assert all("G1" in p for p in on - off)  # every pair it adds has a 共性 side
