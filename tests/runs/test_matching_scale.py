"""Behaviour of the engine's fast paths: tokenizer cache, bulk and one-pass ranking, workers."""

import numpy as np
import pytest
import scipy.sparse as sp

from matchmaker.matching import Listing, MatchConfig, Matcher, ranking
from matchmaker.matching import tokenizer as tokenizer_module
from matchmaker.matching.sparse_ops import top_per_row as _top_per_row

TOPICS = [
    ("协作机器人力控制", "机械臂轨迹规划与人机协作安全控制", "工学"),
    ("氮化硅薄膜沉积", "PECVD在晶圆上沉积钝化薄膜", "工学"),
    ("水稻抗病育种", "分子标记辅助选择培育抗稻瘟病水稻", "农学"),
    ("动力电池热管理", "电动汽车电池组液冷热管理系统", "工学"),
    ("肿瘤免疫治疗", "免疫检查点抑制剂联合化疗治疗肺癌", "医学"),
    ("土壤重金属修复", "植物修复与钝化剂治理镉污染农田", "农学"),
]


def corpus(n_achievements=60, n_needs=24):
    achievements = [
        Listing(
            id=f"A{i:02d}",
            title=TOPICS[i % 6][0],
            description=TOPICS[(i * 5) % 6][1] + TOPICS[i % 6][1],
            field=TOPICS[i % 6][2],
            org=f"inst-{i % 7}",
        )
        for i in range(n_achievements)
    ]
    needs = [
        Listing(
            id=f"N{i:02d}",
            title=TOPICS[i % 6][0] + TOPICS[(i + 1) % 6][0][:2],
            field=TOPICS[i % 6][2],
            org=f"inst-{i % 3}" if i % 4 == 0 else f"firm-{i}",
        )
        for i in range(n_needs)
    ]
    return achievements, needs


@pytest.fixture
def fresh_tokenizer(tmp_path, monkeypatch):
    """Build the tokenizer again against a cache folder of its own; restore the real one after."""
    monkeypatch.setenv("MATCHMAKER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(tokenizer_module, "_tokenizer", None)
    tokenizer_module.load_dictionary.cache_clear()
    yield tmp_path / "cache"
    tokenizer_module.load_dictionary.cache_clear()


def test_tokenizer_cache_is_written_once_reused_and_replaced_when_corrupt(
    fresh_tokenizer, monkeypatch
):
    first = tokenizer_module.get_tokenizer()
    files = list(fresh_tokenizer.glob("jieba-*.bin"))
    assert len(files) == 1
    monkeypatch.setattr(tokenizer_module, "_tokenizer", None)
    second = tokenizer_module.get_tokenizer()
    assert second is not first
    assert second.FREQ == first.FREQ and second.total == first.total
    assert list(fresh_tokenizer.glob("jieba-*.bin")) == files
    files[0].write_bytes(b"not a cache")
    monkeypatch.setattr(tokenizer_module, "_tokenizer", None)
    assert "协作机器人" in tokenizer_module.tokenize("寻求协作机器人技术")
    assert files[0].read_bytes() != b"not a cache"


def test_tokenizer_cache_is_rebuilt_when_the_dictionary_version_changes(
    fresh_tokenizer, tmp_path, monkeypatch
):
    tokenizer_module.get_tokenizer()
    old = set(fresh_tokenizer.glob("jieba-*.bin"))
    changed = tmp_path / "domain_dict.txt"
    text = tokenizer_module.DICT_PATH.read_text(encoding="utf-8").replace(
        "# version: 1", "# version: 2"
    )
    changed.write_text(text + "\n量子磁力计阵列\n", encoding="utf-8")
    monkeypatch.setattr(tokenizer_module, "DICT_PATH", changed)
    tokenizer_module.load_dictionary.cache_clear()
    monkeypatch.setattr(tokenizer_module, "_tokenizer", None)
    rebuilt = tokenizer_module.get_tokenizer()
    new = set(fresh_tokenizer.glob("jieba-*.bin")) - old
    assert len(new) == 1
    assert next(iter(old)).name.startswith("jieba-1.") and next(iter(new)).name.startswith(
        "jieba-2."
    )
    assert "量子磁力计阵列" in rebuilt.FREQ


def test_bulk_path_gives_the_same_top_k_as_the_explained_path():
    achievements, needs = corpus()
    matcher = Matcher().fit(achievements, needs)
    tops = matcher.rank_bulk(top_k=5)
    by_need = {}
    for match in matcher.rank_needs(top_k=5):
        by_need.setdefault(match.need_id, []).append(match.achievement_id)
    for i, need_id in enumerate(matcher.need_ids_):
        bulk = [matcher.achievement_ids_[j] for j in tops["need"].index[i] if j >= 0]
        assert bulk == by_need.get(need_id, [])
    by_achievement = {}
    for match in matcher.rank_achievements(top_k=5):
        by_achievement.setdefault(match.achievement_id, []).append(match.need_id)
    for i, achievement_id in enumerate(matcher.achievement_ids_):
        bulk = [matcher.need_ids_[j] for j in tops["achievement"].index[i] if j >= 0]
        assert bulk == by_achievement.get(achievement_id, [])


def test_one_pass_ranking_keeps_one_score_per_pair_in_both_directions():
    achievements, needs = corpus()
    matcher = Matcher().fit(achievements, needs)
    merged = {(m.need_id, m.achievement_id): m for m in matcher.rank(top_k=3)}
    for match in matcher.rank_achievements(top_k=3):
        pair = merged[(match.need_id, match.achievement_id)]
        assert pair.achievement_rank == match.achievement_rank
        assert pair.score == pytest.approx(match.score)
    assert all(m.need_rank or m.achievement_rank for m in merged.values())


def test_cross_field_pairs_are_never_suggested_with_the_bulk_config():
    # Issue 11 made the field a prior on the platform; national batch runs keep the wall.
    achievements, needs = corpus()
    matches = Matcher(MatchConfig.bulk()).fit(achievements, needs).rank(top_k=10)
    assert matches and all(m.same_field for m in matches)


def test_bulk_config_ranks_same_topic_first():
    achievements, needs = corpus()
    matcher = Matcher(MatchConfig.bulk()).fit(achievements, needs)
    tops = matcher.rank_bulk(top_k=1)
    best = matcher.achievement_ids_[tops["need"].index[1, 0]]
    assert int(best[1:]) % 6 == 1


def _bits(codes):
    """Field bit sets from one field code per row (-1: no field)."""
    codes = np.asarray(codes)
    bits = np.where(codes >= 0, np.left_shift(1, np.maximum(codes, 0)), 0)
    return bits.astype(np.uint64).reshape(-1, 1)


def test_forked_workers_give_the_same_result_as_one_process(monkeypatch):
    rng = np.random.default_rng(3)
    rows = ranking.Side(
        sp.random(300, 50, density=0.2, format="csr", dtype=np.float32, random_state=rng),
        _bits(rng.integers(-1, 3, 300)),
        rng.integers(-1, 20, 300),
        rng.permutation(300),
    )
    cols = ranking.Side(
        sp.random(80, 50, density=0.2, format="csr", dtype=np.float32, random_state=rng),
        _bits(rng.integers(-1, 3, 80)),
        rng.integers(-1, 20, 80),
        rng.permutation(80),
    )
    single = ranking.top_k_both(rows, cols, 4, 6, 0.0, 0.0, chunk_cells=2000, n_jobs=1)
    monkeypatch.setattr(ranking, "PARALLEL_MIN_CELLS", 0)
    forked = ranking.top_k_both(rows, cols, 4, 6, 0.0, 0.0, chunk_cells=2000, n_jobs=2)
    for one, two in zip(single, forked, strict=True):
        assert np.array_equal(one.index, two.index)
        assert np.array_equal(one.score, two.score)


def test_top_k_matches_a_dense_reference_with_ties_broken_by_order():
    rng = np.random.default_rng(5)
    dense = np.round(rng.random((40, 30)), 1).astype(np.float32)
    dense[dense < 0.4] = 0
    zeros = np.zeros(40, dtype=np.int64)
    rows = ranking.Side(sp.csr_matrix(dense), _bits(zeros), zeros - 1, np.arange(40))
    cols = ranking.Side(
        sp.identity(30, format="csr", dtype=np.float32),
        _bits(zeros[:30]),
        zeros[:30] - 1,
        np.arange(30),
    )
    row_top, col_top = ranking.top_k_both(rows, cols, 3, 2, 0.0, 1.0, chunk_cells=100)
    for i in range(40):
        expected = sorted(
            (j for j in range(30) if dense[i, j] > 0), key=lambda j: (-dense[i, j], j)
        )[:3]
        assert [j for j in row_top.index[i] if j >= 0] == expected
    for j in range(30):
        expected = sorted(
            (i for i in range(40) if dense[i, j] > 0), key=lambda i: (-dense[i, j], i)
        )[:2]
        assert [i for i in col_top.index[j] if i >= 0] == expected


def test_top_k_of_long_rows_and_columns_matches_a_dense_reference():
    # Rows and columns far longer than k take the pre-filtered path; rising rows put their best
    # entries last, where a sample of each row's first entries does not see them.
    rng = np.random.default_rng(11)
    n_rows, n_cols = 300, 400
    dense = np.round(rng.random((n_rows, n_cols)), 1).astype(np.float32)
    dense[dense < 0.2] = 0
    dense[::7] = np.linspace(0.01, 1.0, n_cols, dtype=np.float32)
    zeros = np.zeros(n_rows, dtype=np.int64)
    rows = ranking.Side(sp.csr_matrix(dense), _bits(zeros), zeros - 1, np.arange(n_rows))
    cols = ranking.Side(
        sp.identity(n_cols, format="csr", dtype=np.float32),
        _bits(np.zeros(n_cols, dtype=np.int64)),
        np.full(n_cols, -1),
        np.arange(n_cols),
    )
    row_top, col_top = ranking.top_k_both(rows, cols, 3, 2, 0.0, 1.0, chunk_cells=10**6)
    for i in range(n_rows):
        expected = sorted(np.flatnonzero(dense[i]), key=lambda j: (-dense[i, j], j))[:3]
        assert row_top.index[i].tolist() == expected
    for j in range(n_cols):
        expected = sorted(np.flatnonzero(dense[:, j]), key=lambda i: (-dense[i, j], i))[:2]
        assert col_top.index[j].tolist() == expected


def test_feature_cap_keeps_each_rows_heaviest_entries():
    matrix = sp.csr_matrix(np.array([[0.1, 0.5, 0.3, 0.0], [0.2, 0.0, 0.0, 0.0]], dtype=np.float32))
    capped = _top_per_row(matrix, 2).toarray()
    assert np.allclose(capped, [[0.0, 0.5, 0.3, 0.0], [0.2, 0.0, 0.0, 0.0]])


def test_saved_model_carries_its_feedback_expansion(tmp_path):
    achievements, needs = corpus()
    matcher = Matcher().fit(achievements, needs)
    matcher.save(tmp_path / "model.joblib")
    loaded = Matcher.load(tmp_path / "model.joblib")
    assert loaded._expanded is not None
    assert [(m.need_id, m.achievement_id) for m in loaded.rank(top_k=3)] == [
        (m.need_id, m.achievement_id) for m in matcher.rank(top_k=3)
    ]


@pytest.mark.parametrize("min_df,max_df", [(1, 1.0), (2, 0.8), (1, 3)])
def test_vectorizers_fitted_from_word_counts_equal_fitting_on_the_documents(min_df, max_df):
    from sklearn.feature_extraction.text import TfidfVectorizer

    from matchmaker.matching.features import char_analyzer, word_analyzer
    from matchmaker.matching.vectorize import fit_vectorizers

    docs = [
        ["机器人", "协作", "机器人", "5G", "AI芯片"],
        ["哈哈哈", "电池", "热管理", "电池"],
        ["协作", "机械臂", "安全", "5G"],
        ["电池", "正极", "材料", "锂"],
        ["锂", "材料", "machine", "learning"],
    ]
    options = dict(
        token_pattern=None,
        lowercase=False,
        sublinear_tf=True,
        min_df=min_df,
        max_df=max_df,
        dtype=np.float32,
    )
    fitted = fit_vectorizers(docs, options, with_chars=True)
    new_docs = [["机器人", "电池", "锂", "未见过"], ["材料", "5G"]]
    for (vectorizer, matrix), analyzer in zip(fitted, (word_analyzer, char_analyzer), strict=True):
        reference = TfidfVectorizer(analyzer=analyzer, **options)
        expected = reference.fit_transform(docs)
        assert list(vectorizer.get_feature_names_out()) == list(reference.get_feature_names_out())
        assert np.allclose(matrix.toarray(), expected.toarray(), atol=1e-6)
        assert np.allclose(
            vectorizer.transform(new_docs).toarray(),
            reference.transform(new_docs).toarray(),
            atol=1e-6,
        )


def test_listings_without_chinese_words_fit_on_words_alone():
    achievements = [Listing("A1", "machine learning", "deep learning model"), Listing("A2", "5G")]
    needs = [Listing("N1", "learning systems")]
    matcher = Matcher().fit(achievements, needs)
    assert matcher.char_vectorizer_ is None
    assert [m.achievement_id for m in matcher.rank_needs(top_k=1)] == ["A1"]


def test_same_field_bests_and_reused_blocks_match_a_dense_reference():
    # The prior's references come from one pass: each row's best among pairs that do not cross
    # fields; a second pass over the same blocks from a Reuse ranks exactly as a fresh one.
    rng = np.random.default_rng(7)
    row_codes, col_codes = rng.integers(-1, 3, 120), rng.integers(-1, 3, 90)
    rows = ranking.Side(
        sp.random(120, 40, density=0.3, format="csr", dtype=np.float32, random_state=rng),
        _bits(row_codes),
        rng.integers(-1, 15, 120),
        np.arange(120),
    )
    cols = ranking.Side(
        sp.random(90, 40, density=0.3, format="csr", dtype=np.float32, random_state=rng),
        _bits(col_codes),
        rng.integers(-1, 15, 90),
        np.arange(90),
    )
    dense = (rows.vectors @ cols.vectors.T).toarray()
    # The same organization never pairs with itself (-1: unknown, pairs with anyone).
    dense[(rows.orgs[:, None] == cols.orgs[None, :]) & (rows.orgs >= 0)[:, None]] = 0
    crossing = (row_codes[:, None] >= 0) & (col_codes[None, :] >= 0)
    crossing &= row_codes[:, None] != col_codes[None, :]
    within = np.where(crossing, 0, dense)
    reuse = ranking.Reuse()
    row_top, col_top = ranking.top_k_both(
        rows, cols, 3, 3, 0.0, 1.0, chunk_cells=1000, same_field=True, reuse=reuse
    )
    assert np.allclose(row_top.same, within.max(axis=1), atol=1e-6)
    assert np.allclose(col_top.same, within.max(axis=0), atol=1e-6)
    prior = ranking.Scoring(1.0, 10.0)
    fresh = ranking.top_k_both(rows, cols, 4, 4, 0.0, prior, chunk_cells=1000)
    again = ranking.top_k_both(rows, cols, 4, 4, 0.0, prior, chunk_cells=1000, reuse=reuse)
    for one, two in zip(fresh, again, strict=True):
        assert np.array_equal(one.index, two.index)
        assert np.array_equal(one.score, two.score)


def test_dense_blocks_of_a_latent_component_rank_as_a_dense_reference():
    # With a latent component every pair scores: blocks are dense grids, ranked by partitions
    # (sampled candidates first); ties, organizations, fields and the prior as on sparse blocks.
    rng = np.random.default_rng(13)
    n_rows, n_cols, dims = 150, 400, 8

    def side(n, codes, orgs):
        latent = rng.normal(size=(n, dims)).astype(np.float32)
        latent /= np.linalg.norm(latent, axis=1, keepdims=True)
        vectors = sp.random(n, 30, density=0.2, format="csr", dtype=np.float32, random_state=rng)
        best = rng.uniform(0.3, 0.9, n).astype(np.float32)
        return ranking.Side(vectors, _bits(codes), orgs, rng.permutation(n), latent, best)

    rows = side(n_rows, rng.integers(-1, 3, n_rows), rng.integers(-1, 10, n_rows))
    cols = side(n_cols, rng.integers(-1, 3, n_cols), rng.integers(-1, 10, n_cols))
    rule = ranking.Scoring(1.0, 10.0, 0.4, 3.0)
    text = (rows.vectors @ cols.vectors.T).toarray()
    scores = 0.6 * text + 0.4 * np.maximum(rows.latent @ cols.latent.T, 0)
    row_bits, col_bits = rows.fields[:, 0], cols.fields[:, 0]
    cross = (row_bits[:, None] != 0) & (col_bits[None, :] != 0)
    cross &= (row_bits[:, None] & col_bits[None, :]) == 0
    reference = np.maximum(rows.best[:, None], cols.best[None, :])
    scores = np.where(cross, rule.cross(scores.astype(np.float32), reference), scores)
    scores[(rows.orgs[:, None] == cols.orgs[None, :]) & (rows.orgs >= 0)[:, None]] = 0
    row_top, col_top = ranking.top_k_both(rows, cols, 5, 4, 0.05, rule, chunk_cells=20_000)
    for i in range(n_rows):
        found = [j for j in range(n_cols) if scores[i, j] >= 0.05]
        expected = sorted(found, key=lambda j: (-scores[i, j], cols.order[j]))[:5]
        assert row_top.index[i].tolist()[: len(expected)] == expected
    for j in range(n_cols):
        found = [i for i in range(n_rows) if scores[i, j] >= 0.05]
        expected = sorted(found, key=lambda i: (-scores[i, j], rows.order[i]))[:4]
        assert col_top.index[j].tolist()[: len(expected)] == expected
