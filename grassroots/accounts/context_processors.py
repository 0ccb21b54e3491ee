"""Navigation and the top bar's user details, by role.

Each navigation entry shows only for roles holding its capability, so a page never
offers a link its user would be refused.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from grassroots.accounts.models import Role
from grassroots.accounts.scopes import CAPABILITIES, can
from grassroots.notify.selectors import unread_count

Entry = tuple[str, str, str | tuple[str, ...] | None, str]

# Sections of the navigation, each a list of (label, url name, capability — or any of several — or
# None for everyone signed in, what the home page says of it). Other apps' pages are named by URL
# only: accounts sits below them and may not import them.
SECTIONS: list[tuple[str, list[Entry]]] = [
    (
        "案件",
        [
            ("随手拍", "cases:h5_report", "cases.h5", "拍照反映身边的问题，限时办理"),
            ("我的反映", "cases:h5_mine", "cases.h5", "查看办理进度，评价办理结果"),
            (
                "受理队列",
                "cases:queue",
                ("cases.handle", "cases.dispatch"),
                "待受理、退单、仲裁、超期和升级的案件，按紧急程度排列",
            ),
            ("部门待办", "cases:inbox", "cases.department", "派给本部门的案件：报到、处置、退单，按时限着色"),
            ("巡查上报", "cases:patrol", "cases.report", "巡查中发现问题，拍照定位后上报"),
            ("待核实", "cases:verify_list", "cases.report", "部门已办结、等待网格员现场核实的案件"),
            (
                "全部案件",
                "cases:list",
                ("cases.view", "cases.department"),
                "辖区内的案件，可按状态、事项、来源、日期筛选",
            ),
            (
                "案件指标",
                "cases:measures",
                ("cases.view", "cases.dispatch", "cases.handle", "cases.department"),
                "响应率、解决率、满意率和按时办结率，按下级区域和承办部门",
            ),
            (
                "12345工单",
                "cases:hotline_import",
                ("cases.handle", "cases.dispatch"),
                "导入12345热线工单，按工单编号去重，逐行定位到网格",
            ),
        ],
    ),
    (
        "研判",
        [
            ("研判看板", "insights:dashboard", "insights.view", "本辖区各项指标、趋势与下级区域对比"),
            ("指挥大屏", "insights:bigscreen", "insights.view", "网格地图按任一指标着色，办理中案件聚合显示"),
            (
                "热点研判",
                "insights:hotspots",
                "insights.view",
                "同一地点、小区、楼栋反复发生和数量上升的问题，一键转为未诉先办案件",
            ),
            ("部门考核", "insights:assessment", "insights.view", "职能部门和共建单位的月度得分与排名，计分公式可查"),
            ("社区评分", "insights:assessment_rate", "insights.rate", "每月给服务本社区的部门和共建单位打分"),
            ("月度报告", "insights:monthly_report", "insights.view", "街道、社区的月度治理报告，可下载Excel和PDF"),
            ("网格规划", "insights:planning", "insights.view", "按300–500户标准自动划分网格，与现有网格对比"),
            ("合规报告", "insights:compliance", "insights.view", "不达标的网格和社区、社工配备、服务中心面积"),
        ],
    ),
    (
        "党建",
        [
            # Unit reports and pairings are reached from 年度目标 and 党建联盟.
            ("党员报到", "party:checkin_start", "cases.h5", "在职党员到居住地社区报到"),
            ("党组织", "party:tree", "party.view", "组织树和一网格一组织覆盖情况，未建组织的网格"),
            ("党员", "party:members", "party.view", "党员名册：类别、组织、工作单位、报到情况"),
            ("报到确认", "party:checkins", "party.view", "在职党员报到申请的确认与退回，社区报到二维码"),
            ("服务记录", "party:services", "party.view", "记录并确认党员的志愿服务和解决实际问题"),
            ("年度目标", "party:targets", "party.view", "各社区、各单位在职党员报到率和年度目标完成率，单位报告"),
            ("党建联盟", "party:alliances", "party.view", "成员单位、轮值安排、五张清单和挂钩结对"),
        ],
    ),
    (
        "议事",
        [
            ("议事厅", "engage:h5_topics", "cases.h5", "本社区居民提出的议题：附议、评论、评议办理结果"),
            ("我要提议", "engage:h5_propose", "cases.h5", "提出需要大家一起商量的事，附议达到门槛后上会讨论"),
            ("社区公告", "engage:h5_notices", "cases.h5", "停水停电、政策、安全和活动通知"),
            (
                "议题",
                "engage:topics",
                "engage.view",
                "居民提事→网格议事→会议定事→联动办事→网格评事，按附议人数排列",
            ),
            (
                "议事会议",
                "engage:meetings",
                "engage.view",
                "民生会客厅、圆桌会议、周五说事日：议程、到会、纪要、表决",
            ),
            (
                "公告管理",
                "engage:notices",
                "engage.view",
                "按区域和对象发布公告，置顶、有效期、阅读人数",
            ),
            ("议事设置", "engage:settings", "engage.manage", "各社区、网格的附议门槛和评议期"),
        ],
    ),
    (
        "服务",
        [
            ("办事指南", "engage:h5_guides", "cases.h5", "查询办事流程、条件、所需材料、地点和时间"),
            (
                "社区能不能办",
                "engage:h5_admission",
                "cases.h5",
                "按准入清单查询社区能否开具某项证明、挂牌或承担某项工作",
            ),
            ("我的个人信息", "cases:h5_data_requests", "cases.h5", "查阅、复制、更正或删除平台保存的我的个人信息"),
            ("办事指南维护", "engage:guides", "engage.view", "按类别维护政务服务事项，可从表格导入"),
            (
                "社区工作准入",
                "engage:admission",
                "engage.view",
                "工作事项、协助事项、挂牌、证明事项的准入清单，区定街道可调整",
            ),
            (
                "党群服务中心",
                "engage:centres",
                "engage.view",
                "面积达标（每百户30㎡，村600㎡）、到访和满意度、人气指数、功能室预约",
            ),
        ],
    ),
    (
        "物业",
        [
            ("满意度测评", "estates:h5_surveys", "cases.h5", "给小区物业服务打分"),
            ("业委会", "estates:committees", "estates.view", "各小区业主委员会党员占比（须过半），未成立业委会的小区"),
            ("红色业委会", "estates:red_committees", "estates.view", "业委会与小区党组织交叉任职、党员委员过半情况"),
            ("物业公司", "estates:companies", "estates.view", "物业公司及服务小区，无物业管理的小区（按社区）"),
            ("红黑榜", "estates:red_black", "estates.view", "按季度收缴率和满意度评分，连续两季度黑榜提请清退"),
            ("事前报告", "estates:reports", "estates.view", "更换物业、使用公共收益的事前报告，未报告的更换"),
            (
                "集宿区",
                "estates:dormitories",
                "estates.view",
                "楼栋长、楼层长、寝室长，超过3000人须配齐管理人员并成立联合管委会",
            ),
        ],
    ),
    (
        "力量",
        [
            (
                "一键动员",
                "volunteers:mobilisation_index",
                "mobilise",
                "按区域和对象一键发起动员，实时查看到岗名册和演练对比",
            ),
            ("楼栋力量", "volunteers:roles", "volunteers.view", "各网格的楼栋长、单元长、中心户及空缺"),
            (
                "志愿者与能人",
                "volunteers:volunteers",
                "volunteers.view",
                "按技能、网格查找志愿者和社区能人，登记新志愿者",
            ),
            ("志愿队伍", "volunteers:teams", "volunteers.view", "志愿服务队、先锋队、行动支部及队员"),
            ("志愿活动", "volunteers:activities", "volunteers.view", "发布活动、报名、签到和服务时长"),
            ("需求与资源", "volunteers:needs", "volunteers.view", "需求清单、资源清单，一键推荐最优对接，服务项目"),
        ],
    ),
    (
        "人口",
        [
            ("人口查询", "registry:search", "registry.view", "按身份证号、手机号、姓名、拼音或地址查找辖区人员"),
            ("批量查询", "registry:batch", "registry.view", "上传身份证号清单，查出辖区内的人员并下载结果"),
            ("人户分离", "registry:separation", "registry.view", "各网格人在户不在、户在人不在的人员"),
            ("数据导入", "imports:list", "registry.import", "上传各部门的人员名单并导入实有人口"),
            ("比对核查", "review:queue", "registry.review", "自动比对拿不准的记录由人工判断是否同一人，拆分错误合并"),
            ("地址核对", "addresses:list", "registry.review", "导入时未能对应到房屋的地址，指定房屋后自动记住"),
            ("数据质量", "quality:quality", "registry.quality", "去重率、信息完整率随时间的变化，按来源部门和网格"),
            (
                "个人信息请求",
                "registry:subject_requests",
                "registry.subject_requests",
                "居民查阅复制、更正、删除个人信息的请求，15个工作日内答复，超期标红",
            ),
        ],
    ),
    (
        "地点",
        [
            ("地点浏览", "places:browser", "places.browse", "逐级浏览辖区内的社区、网格、楼栋和房屋"),
            ("网格地图", "places:map", "places.browse", "在地图上查看网格边界、类型和户数"),
        ],
    ),
    (
        "设置",
        [
            ("标签管理", "registry:tags", "accounts.manage", "配置重点人群标签"),
            ("事项清单", "cases:duty", "accounts.manage", "事项分类、各区域的责任部门、哨类和办理时限"),
            ("节假日", "cases:calendar", "accounts.manage", "录入和导入国务院节假日安排，办理时限按工作日计算"),
        ],
    ),
]
HOME: Entry = ("首页", "home", None, "")
# Phone pages about one's own community: offered only to accounts that have one (not the administrator).
NEEDS_HOME_COMMUNITY = frozenset(
    {
        "party:checkin_start",
        "engage:h5_topics",
        "engage:h5_propose",
        "engage:h5_notices",
        "engage:h5_guides",
        "engage:h5_admission",
        "estates:h5_surveys",
        "cases:h5_data_requests",
    }
)
# Up to this many links fit on one bar (a phone scrolls it); more are grouped by section.
FLAT_LIMIT = 9


def _allowed(user: Any, capability: str | tuple[str, ...] | None) -> bool:
    if capability is None:
        return True
    wanted = (capability,) if isinstance(capability, str) else capability
    return any(can(user, c) for c in wanted)


def scope_label(user: Any) -> str:
    """The user's scope as words: an area ("城北社区"), a department, or everything.

    Reads ``user.area``/``user.department``, which ``scope_for`` loads anyway, so the
    related object is cached on the request's user and costs at most one query.
    """
    if user.role == Role.ADMIN:
        return "全部区域"
    if user.role == Role.DEPARTMENT_OFFICER:
        return user.department.name if user.department_id else "未分配部门"
    if user.area_id:
        return str(user.area.name)
    return "未分配区域"


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}

    def item(entry: Entry, section: str) -> dict[str, Any]:
        label, name, _, hint = entry
        return {"label": label, "url": reverse(name), "active": False, "hint": hint, "section": section}

    home = item(HOME, "")
    items = [
        item(e, section)
        for section, entries in SECTIONS
        for e in entries
        if _allowed(user, e[2]) and (e[1] not in NEEDS_HOME_COMMUNITY or user.area_id is not None)
    ]
    # A page stays highlighted on its sub-pages: the longest matching prefix wins,
    # so /places/map/ lights 网格地图, not 地点浏览; "/" matches only itself.
    every = [home, *items]
    matches = [i for i in every if request.path == i["url"] or (i["url"] != "/" and request.path.startswith(i["url"]))]
    if matches:
        max(matches, key=lambda i: len(i["url"]))["active"] = True
    sections = []
    for label, _ in SECTIONS:
        inside = [i for i in items if i["section"] == label]
        if inside:
            sections.append(
                {"label": label, "url": inside[0]["url"], "items": inside, "active": any(i["active"] for i in inside)}
            )
    return {
        "nav": every,
        "nav_sections": sections if len(items) > FLAT_LIMIT else [],
        "nav_section": next((section for section in sections if section["active"]), None),
        "role_label": user.get_role_display(),
        "user_display_name": user.display_name or user.get_username(),
        "scope_label": scope_label(user),
        "capabilities": CAPABILITIES.get(user.role, frozenset()),
        # Staff may enrol in two-factor login (/accounts/2fa/); residents are never asked.
        "two_factor_offered": user.role != Role.RESIDENT,
        # Lazy: one COUNT only on pages whose template shows the badge.
        "unread_messages": SimpleLazyObject(lambda: unread_count(user_id=user.pk)),
    }
