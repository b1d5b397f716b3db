"""The rules' stable codes and, for each, its source in Chinese (依据) as a clerk reads it.

A refusal (``RuleViolation``) carries its rule's code (``vote.quorum``): that is what the
API's ``code``, the logs and the tests rely on, and it never changes. The source beside it is
presentation: the regulation, and the provision in words. Article numbers are not given here
until they are checked against the official text (``shared/domain/RULES.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

REGULATION = "《党政领导干部选拔任用工作条例》"


def _cited(provision: str) -> str:
    return f"{REGULATION}{provision}"


SOURCES: Mapping[str, str] = MappingProxyType(
    {
        # the national regulation
        "vote.quorum": _cited("关于讨论决定的规定：应到会成员三分之二以上到会"),
        "vote.pass": _cited("关于讨论决定的规定：以超过应到会成员半数同意形成决定"),
        "vote.tally": _cited("关于讨论决定的规定：逐一表决，到会成员逐一表示同意、不同意或者缓议"),
        "vote.subject": _cited("关于讨论决定的规定：表决经考察提交会议的人选"),
        "vote.deferral": _cited(
            "关于讨论决定的规定：意见分歧较大或者有重大问题不清楚的，暂缓表决，查清后再行表决"
        ),
        "vote.reconsider": _cited("关于讨论决定的规定：复议须超过应到会成员半数同意"),
        "recommendation.required": _cited("关于民主推荐的规定：选拔任用应当经过民主推荐"),
        "recommendation.validity": _cited("关于民主推荐的规定：民主推荐结果一年内有效"),
        "eligibility.impact": _cited("关于任职资格的规定：处分影响期内不得提拔"),
        "exceptional.limits": _cited("关于破格提拔的规定：破格提拔的限制"),
        "exceptional.approval": _cited("关于破格提拔的规定：事先征得上级组织部门同意"),
        "inspection.team": _cited("关于考察的规定：考察组由两名以上成员组成"),
        "inspection.competition": _cited("关于考察的规定：实行差额考察，考察对象多于拟任职数"),
        "inspection.evaluation": _cited("关于考察的规定：民主测评"),
        "inspection.four_musts": _cited("关于考察的规定：“凡提四必”"),
        "inspection.report": _cited("关于考察的规定：形成考察材料"),
        "notice.period": _cited("关于任前公示的规定：公示期不少于五个工作日"),
        "notice.procedure": _cited("关于任前公示的规定"),
        "notice.objection": _cited("关于任前公示的规定：公示期间反映的问题应当核查"),
        "notice.suspension": _cited("关于任前公示的规定：暂缓任用不超过三个月"),
        "notice.objection_recorded": "办理程序：每件反映只登记一次",
        "appointment.after_notice": _cited("关于任职的规定：公示期满后办理任职手续"),
        "appointment.subject": _cited("关于任职的规定：对决定任用的人选办理任职"),
        "probation.review": _cited("关于试用期的规定：试用期满进行考核"),
        "probation.end_early": _cited("关于试用期的规定：试用期内出现严重问题的，提前结束试用期"),
        # recusal (回避): the kinships are those of the regulation's recusal provisions and of
        # the civil servants' recusal rules alike
        "recusal.inspection": _cited(
            "关于回避的规定：干部考察组成员在干部考察工作中涉及其亲属的，本人必须回避"
            "（夫妻关系、直系血亲关系、三代以内旁系血亲以及近姻亲关系）"
        ),
        "recusal.vote": _cited(
            "关于回避的规定：讨论干部任免，涉及与会人员本人及其亲属的，本人必须回避"
            "（夫妻关系、直系血亲关系、三代以内旁系血亲以及近姻亲关系）"
        ),
        "recusal.handling": "《中华人民共和国公务员法》关于公务回避的规定：执行公务涉及与本人有"
        "夫妻关系、直系血亲关系、三代以内旁系血亲以及近姻亲关系人员的利害关系的，应当回避",
        # the procedure and the case file
        "dates.not_future": "办理程序：尚未发生的事项不能登记",
        "dates.order": "办理程序：各环节依先后顺序进行",
        "case.file": "案件材料：人选编号唯一，按选拔方式列明人选",
        "case.method": "选拔方式：公开选拔、竞争上岗的人选由考试产生",
        "case.state": "案件办理：只能办理本案件进行中的事项",
        "case.stage_order": "办理程序：各环节依先后顺序进行",
        "exam.order": "考试程序：依次登记报名与资格审查、笔试、面试",
        "exam.registration": "考试程序：报名期内报名，每人一次",
        "exam.qualification": "资格审查：审查未通过的须记录理由",
        "exam.scores": "考试程序：每名考生一个成绩",
        "inspection.order": "考察程序：组建考察组后逐一考察考察对象",
        "recusal.declaration": "办理程序：亲属关系据实申报，同一关系只登记一次",
        # local policy and the calendar
        "inspection.timing": "本地政策：考察各环节的时间要求",
        "deadline.extension": "本地政策：延期须说明理由，由规定的审批人批准，次数与天数有限",
        "deadline.extension.request": "本部门分工：延期由办理该事项的人员申请，由另一位审批人批准",
        "calendar.year": "工作日：国务院办公厅每年发布的部分节假日安排通知",
        "step.assignment": "本部门分工：本角色人员认领或放弃，科长、部长指派",
        # the county's own cadre management (本地规定, the seed's county), figures in the policy
        "capability.score": "本地规定：行政管理能力测试按合格线评定，成绩在满分以内",
        "capability.retest": "本地规定：能力测试不合格者自学后补测，补测不合格者组织处理"
        "（逆向交流、降职、改任非领导职务）",
        "rotation.posts": "本地规定：在同一乡镇连续工作满规定年限的一般干部应当交流",
        "rotation.batch.members": "本地规定：交流批次只列入排查列为应交流、经组织部决定交流的"
        "一般干部，每人只列入一次",
        "rotation.batch.dates": "本地规定：交流文件印发后到岗报到，各环节日期依次登记",
        "double_evaluation.tally": "本地规定：双重考核民主测评的票数不能多于参加测评人数",
        "double_evaluation.leaders": "本地规定：双重考核对县直单位党政正职逐人统一测评，"
        "并在本单位测评",
    }
)


def source(code: str) -> str:
    """The source of the rule ``code`` in Chinese; an unknown code (a refusal from before
    the codes) as it is."""
    return SOURCES.get(code, code)
