"""Behaviour of the matching engine: tokenizer, ranking, explanation, persistence, CLI, purity."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from matchmaker.matching import Listing, MatchConfig, Matcher, ModelVersionError, persist, tokenize
from matchmaker.matching.tokenizer import DictionaryError, _read_lines, split_dictionary_terms

ROOT = Path(__file__).resolve().parents[1]


def make_achievement(id, **overrides):
    base = dict(id=id, title="", description="", keywords=(), field="工学")
    return Listing(**{**base, **overrides})


ACHIEVEMENTS = [
    make_achievement(
        "A1",
        title="六轴协作机器人及柔顺控制技术",
        description="协作机器人关节力矩传感与人机协作安全控制，机械臂轨迹规划。",
        keywords=("协作机器人", "力控制"),
        org="institute-1",
    ),
    make_achievement(
        "A2",
        title="PECVD制备氮化硅薄膜工艺",
        description="采用PECVD在12英寸晶圆上沉积氮化硅钝化薄膜。",
        keywords=("PECVD", "薄膜"),
        org="institute-2",
    ),
    make_achievement(
        "A3",
        title="水稻抗病分子育种",
        description="利用分子标记辅助选择培育抗稻瘟病水稻新品种。",
        keywords=("水稻", "育种"),
        field="农学",
        org="institute-1",
    ),
    make_achievement(
        "A4",
        title="磷酸铁锂动力电池热管理系统",
        description="电动汽车动力电池组液冷热管理与电池管理系统。",
        keywords=("动力电池",),
        org="institute-3",
    ),
]
NEEDS = [
    make_achievement("N1", title="寻求协作机器人力控制与机械臂轨迹规划技术", org="factory-1"),
    make_achievement("N2", title="晶圆PECVD薄膜沉积工艺优化", org="fab-1"),
    make_achievement("N3", title="抗稻瘟病水稻品种", field="农学", org="institute-1"),
    make_achievement("N4", title="电动汽车电池热管理方案", org="car-1"),
]


@pytest.fixture(scope="module")
def fitted():
    return Matcher().fit(ACHIEVEMENTS, NEEDS)


def test_tokenizer_keeps_latin_and_number_terms_whole():
    tokens = tokenize("采用PECVD工艺的5G基站芯片，3D打印外壳，12英寸晶圆")
    for term in ("pecvd", "5g", "3d打印", "12英寸"):
        assert term in tokens


def test_tokenizer_normalizes_full_width_and_case():
    assert tokenize("ＰＥＣＶＤ与５Ｇ") == tokenize("PECVD与5G") == ["pecvd", "5g"]


def test_tokenizer_drops_boilerplate_stop_words_and_punctuation():
    tokens = tokenize("本项目研究一种机器人！公司需求：")
    assert tokens == ["机器人"]


def test_traditional_chinese_tokenizes_like_simplified():
    assert tokenize("協作機器人的雷射焊接與數據分析") == tokenize("协作机器人的雷射焊接与数据分析")


def test_traditional_need_finds_the_simplified_achievement(fitted):
    need = make_achievement("T1", title="尋求協作機器人力控制與機械臂軌跡規劃技術")
    assert fitted.match_listing(need, "need")[0].achievement_id == "A1"


def test_domain_dictionary_loads_without_split_terms():
    assert split_dictionary_terms() == []


def test_dictionary_with_bom_is_refused(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_bytes(b"\xef\xbb\xbf# version: 1\n\xe6\x9c\xba\xe5\x99\xa8\xe4\xba\xba\n")
    with pytest.raises(DictionaryError, match="BOM"):
        _read_lines(path)


def test_robotics_need_ranks_robotics_achievement_first(fitted):
    best = {m.need_id: m.achievement_id for m in fitted.rank_needs(top_k=1)}
    assert best["N1"] == "A1"
    assert best["N2"] == "A2"
    assert best["N4"] == "A4"


def test_same_organization_is_never_paired(fitted):
    pairs = {(m.need_id, m.achievement_id) for m in fitted.rank()}
    assert ("N3", "A3") not in pairs
    assert ("N3", "A1") not in pairs


def test_matches_carry_terms_whose_shares_sum_to_at_most_one(fitted):
    match = fitted.rank_needs(need_ids=["N1"], top_k=1)[0]
    terms = dict(match.terms)
    assert "协作机器人" in terms
    assert 0 < sum(terms.values()) <= 1
    assert match.same_field is True
    assert 0 <= match.score <= 1 and match.need_rank == 1


def test_rank_merges_both_directions_per_pair(fitted):
    pairs = fitted.rank(top_k=2)
    keys = [(m.need_id, m.achievement_id) for m in pairs]
    assert len(keys) == len(set(keys))
    assert any(m.need_rank and m.achievement_rank for m in pairs)


def test_rank_achievements_lists_needs_for_an_achievement(fitted):
    matches = fitted.rank_achievements(achievement_ids=["A2"], top_k=2)
    assert matches[0].need_id == "N2" and matches[0].achievement_rank == 1


def test_incremental_match_equals_fitted_ranking(fitted):
    fitted_matches = fitted.rank_needs(need_ids=["N1"], top_k=3)
    incremental = fitted.match_listing(NEEDS[0], "need", top_k=3)
    assert [(m.achievement_id, round(m.score, 6)) for m in incremental] == [
        (m.achievement_id, round(m.score, 6)) for m in fitted_matches
    ]


def test_ranking_is_deterministic_with_ties_broken_by_id():
    twins = [make_achievement(i, title="工业机器人视觉检测") for i in ("B2", "B1", "B3")]
    matcher = Matcher().fit(twins, [make_achievement("N", title="工业机器人视觉检测")])
    assert [m.achievement_id for m in matcher.rank_needs()] == ["B1", "B2", "B3"]


def test_field_filter_limits_candidates(fitted):
    matches = fitted.rank_needs(need_ids=["N1"], top_k=5, field="农学", min_score=0)
    assert {m.achievement_id for m in matches} <= {"A3"}


def test_save_and_load_round_trip(fitted, tmp_path):
    path = tmp_path / "model.joblib"
    fitted.save(path)
    loaded = Matcher.load(path)
    assert loaded.version == fitted.version
    assert [(m.need_id, m.achievement_id) for m in loaded.rank()] == [
        (m.need_id, m.achievement_id) for m in fitted.rank()
    ]


def test_load_refuses_a_model_of_another_version(fitted, tmp_path, monkeypatch):
    path = tmp_path / "model.joblib"
    fitted.save(path)
    monkeypatch.setattr(persist, "MODEL_VERSION", "0-old")
    with pytest.raises(ModelVersionError, match="model"):
        Matcher.load(path)


def _write_jsonl(path, rows):
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "matchmaker.matching", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _as_rows(listings):
    return [
        {
            "id": x.id,
            "title": x.title,
            "description": x.description,
            "keywords": list(x.keywords),
            "field": x.field,
            "org": x.org,
        }
        for x in listings
    ]


def test_cli_rank_writes_one_line_per_need(tmp_path):
    _write_jsonl(tmp_path / "a.jsonl", _as_rows(ACHIEVEMENTS))
    _write_jsonl(tmp_path / "n.jsonl", _as_rows(NEEDS))
    result = _cli(
        "rank",
        "--achievements",
        str(tmp_path / "a.jsonl"),
        "--needs",
        str(tmp_path / "n.jsonl"),
        "--top",
        "2",
        "--out",
        str(tmp_path / "m.jsonl"),
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(x) for x in (tmp_path / "m.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["need_id"] for x in lines] == ["N1", "N2", "N3", "N4"]
    first = lines[0]["matches"][0]
    assert first["achievement_id"] == "A1" and set(first) == {"achievement_id", "score", "terms"}
    assert all(len(x["matches"]) <= 2 for x in lines)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": "N1", "title": "机器人"}\n{"title": "没有编号"}\n', 'n.jsonl:2: missing "id"'),
        ('{"id": "N1"}\n\n{"id": "N3", \n', "n.jsonl:3: invalid JSON"),
        (None, "n.jsonl:1: not valid UTF-8"),
    ],
)
def test_cli_rejects_bad_input_naming_the_line(tmp_path, content, message):
    _write_jsonl(tmp_path / "a.jsonl", _as_rows(ACHIEVEMENTS))
    if content is None:
        (tmp_path / "n.jsonl").write_bytes('{"id": "N1", "title": "机器人"}\n'.encode("gbk"))
    else:
        (tmp_path / "n.jsonl").write_text(content, encoding="utf-8")
    result = _cli(
        "rank",
        "--achievements",
        str(tmp_path / "a.jsonl"),
        "--needs",
        str(tmp_path / "n.jsonl"),
        "--out",
        str(tmp_path / "m.jsonl"),
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_engine_imports_no_web_or_queue_framework():
    code = (
        "import matchmaker.matching, sys; from matchmaker.matching import Matcher, tokenize;"
        " print([m for m in ('flask', 'celery', 'sqlalchemy') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stderr


def _shared_eval() -> Path:
    base = Path(os.environ.get("MATCHMAKER_SHARED_DATA", ROOT / ".." / "shared" / "data"))
    return base / "eval" / "csl-title-dev"


@pytest.mark.skipif(
    not _shared_eval().is_dir(), reason="shared eval data (../shared/data/eval) not present"
)
def test_quality_smoke_on_shared_eval_subset():
    from matchmaker.matching.evaluate import read_qrels, score_rankings
    from matchmaker.matching.io import read_listings

    task = _shared_eval()
    needs = read_listings(task / "needs.jsonl")[:150]
    qrels = read_qrels(task / "qrels.tsv")
    wanted = {a for n in needs for a in qrels.get(str(n.id), {})}
    achievements = [
        a
        for a in read_listings(task / "achievements.jsonl")
        if a.id in wanted or int(str(a.id)[1:]) % 4 == 0
    ]
    matcher = Matcher(MatchConfig()).fit(achievements, needs)
    rankings: dict = {}
    for match in matcher.rank_needs():
        rankings.setdefault(match.need_id, []).append(match.achievement_id)
    scores = score_rankings(rankings, {n.id: qrels[n.id] for n in needs})
    assert scores["r@10"] >= 0.9
    assert scores["ndcg@10"] >= 0.6


def test_explanations_show_no_lone_characters():
    from matchmaker.matching import Listing

    achievements = [
        Listing("A1", title="薄膜厚度均匀性控制技术", keywords=("薄膜",), field="IC装备"),
        Listing("A2", title="晶圆传输机械手", field="IC装备"),
    ]
    needs = [Listing("N1", title="薄膜均匀性提升", field="IC装备")]
    match = Matcher().fit(achievements, needs).rank_needs(top_k=1)[0]
    assert match.achievement_id == "A1"
    names = [term for term, _ in match.terms]
    assert "薄膜" in names
    assert all(len(term) > 1 or term.isascii() for term in names), names


def test_saved_model_explains_after_loading(fitted, tmp_path):
    before = fitted.rank_needs(need_ids=["N1"], top_k=1)[0].terms
    fitted.save(tmp_path / "m.joblib")
    after = Matcher.load(tmp_path / "m.joblib").rank_needs(need_ids=["N1"], top_k=1)[0].terms
    assert after == before


# -- issue 11: fields as a prior, incremental = full, synonyms, explaining terms ---------------
TOPIC_TEXTS = [
    ("工业机器人焊接", "焊缝跟踪 激光视觉传感 弧焊机器人 焊接路径规划", "机器人与智能制造"),
    ("锂离子电池热管理", "电池包液冷 热失控预警 电芯温度均衡 电池管理系统", "新能源汽车"),
    ("水稻抗病育种", "稻瘟病抗性基因 分子标记辅助选择 杂交水稻 品种选育", "现代农业"),
    ("碳纤维复合材料成型", "预浸料 热压罐固化 树脂传递模塑 层合板力学性能", "新材料"),
    ("污水生化处理", "活性污泥 脱氮除磷 膜生物反应器 出水水质提标", "生态环保"),
    ("肿瘤靶向药物递送", "纳米载体 脂质体 靶向释放 抗肿瘤药效评价", "生物医药"),
    ("晶圆薄膜沉积设备", "化学气相沉积 原子层沉积 薄膜均匀性 腔室温控", "IC装备"),
    ("无人机巡检系统", "航迹规划 图像识别 输电线路缺陷 自主起降", "航空装备"),
]


def topic_corpus(n_per_topic=6):
    """Achievements and needs over eight topics, each listing a different mix of its phrases."""
    achievements, needs = [], []
    for t, (title, phrases, field) in enumerate(TOPIC_TEXTS):
        words = phrases.split()
        for i in range(n_per_topic):
            picked = "，".join(words[j % 4] for j in range(i, i + 3))
            achievements.append(
                Listing(
                    f"A{t}{i}",
                    title=f"{title}{words[i % 4]}",
                    description=picked,
                    fields=(field,),
                    org=f"inst-{t}",
                )
            )
            needs.append(
                Listing(
                    f"N{t}{i}",
                    title=f"寻求{words[(i + 1) % 4]}技术",
                    description=picked,
                    fields=(field,),
                    org=f"firm-{t}-{i}",
                )
            )
    return achievements, needs


def test_listing_keeps_declared_fields_in_the_posters_order():
    assert Listing("x", fields=["新材料", "生态环保"]).fields == ("新材料", "生态环保")
    assert Listing("x", fields=["新材料", "生态环保"]).field == "新材料"
    assert Listing("x", field="新材料").fields == ("新材料",)
    assert Listing("x", field="IC装备", fields=("新材料",)).fields == ("新材料",)
    assert Listing("x").fields == () and Listing("x").field is None


def test_a_need_in_two_fields_shares_the_second_with_an_achievement():
    achievements, needs = topic_corpus()
    need = Listing("NX", title="碳纤维复合材料热压罐固化", fields=("新一代人工智能", "新材料"))
    matches = Matcher().fit(achievements, [*needs, need]).rank_needs(["NX"], top_k=3)
    best = matches[0]
    assert best.achievement_id.startswith("A3")
    assert best.shared_fields == ("新材料",) and best.same_field and not best.cross_field


def test_a_clearly_closest_partner_in_another_field_is_suggested_and_marked():
    achievements, needs = topic_corpus()
    # Filed under 现代农业, but its text is the welding robot topic's.
    need = Listing("NX", title="弧焊机器人焊缝跟踪激光视觉传感", fields=("现代农业",))
    matcher = Matcher().fit(achievements, [*needs, need])
    matches = matcher.rank_needs(["NX"], top_k=5)
    assert matches[0].achievement_id.startswith("A0")
    assert matches[0].cross_field and matches[0].shared_fields == ()
    # The same rule from the achievement's side and in the merged run.
    back = matcher.rank_achievements([matches[0].achievement_id], top_k=10)
    assert "NX" in [m.need_id for m in back]
    assert any(m.need_id == "NX" and m.cross_field for m in matcher.rank(top_k=5))


def _refit_scores(achievements, needs, kind, listing_id):
    full = Matcher().fit(achievements, needs)
    ranked = (
        full.rank_needs([listing_id], top_k=10)
        if kind == "need"
        else full.rank_achievements([listing_id], top_k=10)
    )
    return {(m.need_id, m.achievement_id): m.score for m in ranked}


def test_incremental_scores_match_a_full_refit_and_its_pairs_survive_it():
    achievements, needs = topic_corpus()
    new_achievement = Listing(
        "A-new",
        title="大型铸件内部缺陷的相控阵超声无损检测",
        description="相控阵超声 缺陷成像",
        fields=("高端装备",),
        org="inst-new",
    )
    new_need = Listing(
        "N-new",
        title="大型铸件内部缺陷的无损检测",
        description="铸件 探伤 缺陷 超声",
        fields=("高端装备",),
        org="firm-new",
    )
    fitted = Matcher().fit(achievements, needs)
    for listing, kind, extras in (
        (new_need, "need", [new_achievement]),
        (new_achievement, "achievement", [new_need]),
    ):
        incremental = fitted.match_listing(listing, kind, top_k=10, extra_candidates=extras)
        pairs = {(m.need_id, m.achievement_id): m.score for m in incremental}
        # The two new listings find each other without a refit.
        assert ("N-new", "A-new") in pairs
        refit = _refit_scores(
            [*achievements, new_achievement], [*needs, new_need], kind, listing.id
        )
        assert set(pairs) <= set(refit)
        for pair, score in pairs.items():
            assert score == pytest.approx(refit[pair], abs=0.02)


def test_incremental_match_of_a_need_updates_fitted_feedback_like_a_refit():
    achievements, needs = topic_corpus()
    fitted = Matcher().fit(achievements, needs)
    new = Listing(
        "A-new",
        title="锂离子电池包液冷热管理",
        description="电池包液冷 热失控预警",
        fields=("新能源汽车",),
        org="inst-x",
    )
    incremental = fitted.match_listing(new, "achievement", top_k=10)
    refit = _refit_scores([*achievements, new], needs, "achievement", "A-new")
    assert [m.need_id for m in incremental][:3] == [n for n, _ in list(refit)][:3]
    for m in incremental:
        assert m.score == pytest.approx(refit[(m.need_id, m.achievement_id)], abs=0.02)


def test_shipped_synonyms_load_and_bad_groups_are_refused():
    from matchmaker.matching.synonyms import load_synonyms, parse_synonyms

    version, groups = load_synonyms()
    assert version and any({"探伤", "无损检测"} <= set(g) for g in groups)
    with pytest.raises(DictionaryError, match=":3: a group needs at least two"):
        parse_synonyms([(3, "探伤")], "staff")
    with pytest.raises(DictionaryError, match="already in the group on line 1"):
        parse_synonyms([(1, "探伤 无损检测"), (2, "探伤、超声探伤")], "staff")
    assert parse_synonyms([(1, "光伏、太阳能电池 光伏电池")], "staff") == (
        ("光伏", "太阳能电池", "光伏电池"),
    )


def test_synonyms_make_different_words_match_and_change_the_model_version():
    achievements, needs = topic_corpus()
    achievement = Listing("A-x", title="铸件探伤设备", fields=("高端装备",))
    need = Listing("N-x", title="无损检测服务", fields=("高端装备",))
    matches = Matcher().fit([*achievements, achievement], [*needs, need]).rank_needs(["N-x"])
    assert matches and matches[0].achievement_id == "A-x"
    staff = MatchConfig(synonyms=(("焊缝跟踪", "焊缝追踪"),))
    assert Matcher(staff).version != Matcher().version


def test_explaining_terms_are_words_a_person_recognises():
    from matchmaker.matching.explain import shown_term

    achievements = [
        Listing(
            "A1",
            title="协作机器人研制",
            description="一套六轴机器人，重复定位精度0.02毫米，负载00公斤",
            fields=("机器人与智能制造",),
        ),
        Listing("A2", title="水稻育种", fields=("现代农业",)),
    ]
    needs = [
        Listing(
            "N1", title="研制一套协作机器人 精度0.02毫米 负载00公斤", fields=("机器人与智能制造",)
        )
    ]
    match = Matcher().fit(achievements, needs).rank_needs(top_k=1)[0]
    shown = [t for t, _ in match.terms]
    assert "协作机器人" in shown
    for junk in ("器人", "机器", "0毫", "00", "0.02", "一套", "研制", "人"):
        assert junk not in shown
    assert not shown_term("一套") and not shown_term("00") and shown_term("光伏")


def test_listing_files_accept_fields_lists(tmp_path):
    from matchmaker.matching.io import ListingFileError, read_listings

    path = tmp_path / "a.jsonl"
    _write_jsonl(
        path,
        [
            {"id": 1, "title": "t", "fields": ["新材料", "生态环保"], "field": "IC装备"},
            {"id": 2, "title": "t", "field": "IC装备"},
        ],
    )
    first, second = read_listings(path)
    assert first.fields == ("新材料", "生态环保") and second.fields == ("IC装备",)
    _write_jsonl(path, [{"id": 1, "fields": "新材料"}])
    with pytest.raises(ListingFileError, match=r":1: \"fields\" must be a list of strings"):
        read_listings(path)


def test_a_cross_field_winner_that_does_not_stand_out_falls_but_still_ranks_first():
    achievements, needs = topic_corpus()
    need = Listing("NX", title="弧焊机器人焊缝跟踪激光视觉传感", fields=("现代农业",))
    prior = Matcher().fit(achievements, [*needs, need]).rank_needs(["NX"], top_k=20)
    plain = Matcher(MatchConfig(cross_field_power=1.0)).fit(achievements, [*needs, need])
    text = {m.achievement_id: m.score for m in plain.rank_needs(["NX"], top_k=48)}
    winner = prior[0]
    assert winner.cross_field and winner.achievement_id.startswith("A0")
    # The topic's welding achievements are alike, so the closest is no outlier among its
    # runners-up (prior.level): the prior lowers it, yet it stays the need's first match.
    assert winner.achievement_id == max(text, key=text.get)
    assert winner.score < text[winner.achievement_id] - 0.05
    # Clearly weaker cross-field candidates (not the closest of their own side either) fall.
    closest = text[winner.achievement_id]
    weaker = [m for m in prior if m.cross_field and text[m.achievement_id] < 0.8 * closest]
    assert weaker and all(m.score < 0.8 * text[m.achievement_id] for m in weaker)


def test_incremental_cross_field_winner_scores_like_a_refit():
    achievements, needs = topic_corpus()
    fitted = Matcher().fit(achievements, needs)
    need = Listing("N-new", title="弧焊机器人焊缝跟踪激光视觉传感", fields=("现代农业",), org="f")
    incremental = fitted.match_listing(need, "need", top_k=10)
    refit = _refit_scores(achievements, [*needs, need], "need", "N-new")
    assert incremental[0].cross_field
    assert [m.achievement_id for m in incremental][:3] == [a for _, a in list(refit)][:3]
    for m in incremental:
        assert m.score == pytest.approx(refit[(m.need_id, m.achievement_id)], abs=0.02)


def test_searchable_words_hold_each_token_and_the_dictionary_words_inside_it():
    from matchmaker.matching import searchable_words

    words = searchable_words("本项目研制协作机器人，提高3D打印精度")
    # Each token comes before the words found inside it.
    assert words.index("协作机器人") < words.index("机器人")
    assert {"协作机器人", "机器人", "3d打印", "打印", "精度"} <= set(words)
    # Stop words and single characters are not search words.
    assert "本项目" not in words and all(len(w) > 1 for w in words)
    assert searchable_words("") == []


def test_a_cross_field_partner_twice_as_close_as_the_own_fields_keeps_its_score():
    import numpy as np

    from matchmaker.matching.prior import Scoring, reference

    rule = Scoring(1.0, 5.0, 0.0, 8.0)
    best, same = np.float32([0.8, 0.8]), np.float32([0.3, 0.6])
    refs = reference(best, same, clear_factor=2.0)
    # Row 0: nothing in its own fields comes near 0.6, so 0.6 across fields is clearly closer.
    # Row 1: a same-field listing scores 0.6 too, so the cross-field 0.6 falls steeply.
    kept, fallen = rule.cross(np.float32([0.6, 0.6]), refs)
    assert kept == pytest.approx(0.6)
    assert fallen < 0.1
    # The listing's own closest partner always keeps its score.
    assert rule.cross(np.float32([0.8]), refs[1:])[0] == pytest.approx(0.8)


def test_a_cross_field_winner_keeps_its_score_only_when_it_stands_out_from_the_runners_up():
    import numpy as np

    from matchmaker.matching.prior import Scoring, level, merge_top, reference

    rule = Scoring(1.0, 5.0, 0.0, 8.0)
    # Row 0: its best (0.6) towers over ten runners-up near 0.1; row 1: runners-up from 0.55
    # down to 0.1 are spread so widely that 0.6 is no outlier.
    top = np.float32([[0.6] + [0.1] * 10, [0.6] + list(np.linspace(0.55, 0.1, 10))])
    same = np.float32([0.4, 0.4])
    levels = level(top, outlier_sd=3.0)
    assert levels[0] == pytest.approx(0.6) and levels[1] > 0.7
    kept, fallen = rule.cross(np.float32([0.6, 0.6]), reference(levels, same, clear_factor=2.0))
    assert kept == pytest.approx(0.6)
    assert fallen < 0.6 * 0.5
    # A new score enters a row's top in its place, keeping the width.
    merged = merge_top(top[:1], np.float32([0.3]))
    assert merged.shape == (1, 11) and merged[0, 1] == pytest.approx(0.3)


def test_length_normalised_scores_above_one_are_never_raised_by_the_field_prior():
    import numpy as np

    from matchmaker.matching.prior import Scoring

    values = np.float32([1.1, 0.5])
    assert (Scoring(1.0, 5.0).cross(values) <= values).all()


def test_field_prior_weakens_only_where_text_partners_often_cross_declared_fields():
    import numpy as np

    from matchmaker.matching.fields import field_bits
    from matchmaker.matching.trust import fit_trust

    # Eight needs and eight achievements; each pair (i, i) towers over its runners-up.
    n = 8
    clear_top = np.float32([[0.8] + [0.1] * 10] * n)
    pairs = (np.arange(n), np.arange(n))
    index = {"x": 0, "y": 1}
    agree = field_bits([("x",)] * 4 + [("y",)] * 4, index)
    flipped = field_bits([("y",)] * 2 + [("x",)] * 2 + [("y",)] * 4, index)
    reliable = fit_trust(clear_top, clear_top, pairs, agree, agree, 3.0)
    noisy = fit_trust(clear_top, clear_top, pairs, flipped, agree, 3.0)
    # Text pairs every listing off; where half the partners of field x are filed under y the
    # fields are trusted less, so a cross-field partner loses far less of its score.
    assert reliable.clear == noisy.clear == pytest.approx(0.9)
    assert noisy.winner_power(1.0) < reliable.winner_power(1.0) / 2
    # When each need's best is one of a crowd, a "winner" is chance: the prior stays strong.
    crowd_top = np.float32([[0.6] + list(np.linspace(0.55, 0.1, 10))] * n)
    crowd = fit_trust(crowd_top, crowd_top, pairs, flipped, agree, 3.0)
    assert crowd.clear == pytest.approx(0.1)
    assert crowd.winner_power(1.0) > 10 * noisy.winner_power(1.0)
    assert crowd.reference_scale == pytest.approx(10)
