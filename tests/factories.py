"""Builders shared by tests in several domains; conftest.py makes them fixtures everywhere."""

import pytest

from matchmaker.core.extensions import db
from matchmaker.pairs.models import Suggestion


@pytest.fixture
def make_pair(make_need, make_achievement):
    """Build a stored pair; need and achievement default to a welding need and its achievement."""

    def build(need=None, achievement=None, **overrides):
        need = need or make_need(title="焊接机器人视觉引导需求")
        achievement = achievement or make_achievement(title="基于视觉的机器人焊缝跟踪技术")
        values = {"score": 0.8, "terms": [["焊缝", 0.5], ["机器人", 0.3]], "same_field": True}
        values.update(overrides)
        pair = Suggestion(need=need, achievement=achievement, **values)
        db.session.add(pair)
        db.session.commit()
        return pair

    return build
