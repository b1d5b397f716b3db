"""The states and choices of the cadre workflows (capability retest, removal case), apart
from their models so that the glossary can name them without importing the workflows."""

from __future__ import annotations

from enum import StrEnum


class RetestStatus(StrEnum):
    SELF_STUDY = "self_study"  # 自学中
    AWAITING_RETEST = "awaiting_retest"  # 待补测
    AWAITING_HANDLING = "awaiting_handling"  # 待组织处理
    PASSED = "passed"  # 补测合格
    HANDLED = "handled"  # 已组织处理


class RemovalMeasure(StrEnum):
    """What the standing committee is asked to decide for a proposed leader (降免职)."""

    DEMOTION = "demotion"  # 降职
    REMOVAL = "removal"  # 免职


class RemovalStatus(StrEnum):
    AWAITING_VOTE = "awaiting_vote"  # 待常委会票决
    DEFERRED = "deferred"  # 暂缓表决, to be voted again
    DECIDED = "decided"  # 表决通过：降职或免职
    REJECTED = "rejected"  # 表决未通过：不予降免职


class MoveStatus(StrEnum):
    """Where one move of a rotation batch (交流批次) stands."""

    AWAITING_DOCUMENT = "awaiting_document"  # 待印发交流文件
    AWAITING_ARRIVAL = "awaiting_arrival"  # 待到岗报到
    ARRIVED = "arrived"  # 已到岗
    CANCELLED = "cancelled"  # 已撤销
