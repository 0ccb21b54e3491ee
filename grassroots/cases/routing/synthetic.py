"""A generated case history for tests and ``benchmarks/routing.py``: what residents write, not what duty lists say.

Each seeded category has objects and problems in residents' words (synonyms, colloquial
phrasing, words shared with neighbouring categories), wrapped in hotline boilerplate, places and
complaints, with typos and dropped characters. Departments depend on the category, on the
subdistrict (each has its own 城管中队, 环卫所, 物业办 …) and sometimes on the text (a sewer
manhole cover goes to 水务, a telecom one to the operator). A share of the labels is wrong, as
dispatchers err. Deterministic for a seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from grassroots.cases.routing.engine import Sample

DAY = 86_400.0

# code → (objects, problems); either side may hold "{place}"-free fragments.
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "environment.exposed_garbage": (
        ("垃圾", "生活垃圾", "厨余", "垃圾桶", "果皮纸屑", "剩饭剩菜", "塑料袋", "垃圾房", "分类桶", "外卖盒"),
        ("好几天没人清运", "满了溢出来", "堆在路边发臭", "苍蝇蚊子很多", "没人收", "臭气熏天", "散落一地", "招老鼠"),
    ),
    "environment.piled_materials": (
        ("旧家具", "杂物", "纸箱", "建材", "装修材料", "破沙发", "泡沫板", "花盆", "废品", "黄沙水泥"),
        ("堆在楼道里", "占了半条过道", "长期堆放", "在门口堆成小山", "挡住了路", "堆在绿化带", "一直不搬走"),
    ),
    "environment.illegal_posting": (
        ("小广告", "牛皮癣", "开锁广告", "办证电话", "贷款传单", "喷涂的号码", "宣传单"),
        ("贴满了墙", "到处都是", "撕了又贴", "贴在电梯里", "刷在楼道墙上", "影响美观", "塞满门缝"),
    ),
    "facilities.streetlight_out": (
        ("路灯", "灯杆", "小区道路的灯", "照明灯", "庭院灯", "景观灯", "街灯"),
        ("晚上不亮", "坏了一排", "黑漆漆的", "一闪一闪", "不亮好几天", "天黑了走路看不见", "白天亮晚上灭"),
    ),
    "facilities.manhole_cover_missing": (
        ("井盖", "窨井盖", "下水道盖子", "雨水井盖", "污水井盖", "电信井盖", "检查井"),
        ("不见了", "被偷了", "缺了一个", "翘起来", "碎了露出大洞", "晚上有人差点掉下去", "松动响个不停"),
    ),
    "facilities.road_damage": (
        ("路面", "人行道", "道路", "地砖", "柏油路", "盲道", "路基"),
        ("坑坑洼洼", "塌陷了", "裂开大口子", "下雨积水", "翘起来绊倒老人", "破了个大坑", "坏了很久"),
    ),
    "street_order.street_vending": (
        ("小摊", "流动摊贩", "卖菜的", "早点摊", "烧烤摊", "水果车", "夜市摊位"),
        ("占了人行道", "每天早上堵在门口", "油烟很大", "占道摆卖", "把路都堵了", "赶走了又来", "摆到马路中间"),
    ),
    "street_order.illegal_parking": (
        ("汽车", "私家车", "货车", "面包车", "共享单车", "僵尸车", "外来车辆"),
        ("停在人行道上", "乱停乱放", "堵住小区门口", "占了盲道", "长期停着不开走", "停在路口转弯处", "压着绿化"),
    ),
    "community.neighbour_dispute": (
        ("楼上邻居", "对门", "隔壁", "楼下住户", "邻居家", "同楼层的人"),
        ("因为漏水吵起来", "占用公共走廊还骂人", "养狗不拴绳起了冲突", "双方闹得很僵", "多次协商不成", "吵架差点动手"),
    ),
    "community.property_service": (
        ("物业", "物业公司", "保安", "电梯", "小区大门", "门禁", "保洁"),
        ("不管事", "电梯坏了一周没人修", "乱收费", "服务太差", "门禁坏了没人理", "打电话也不来", "绿化没人打理"),
    ),
    "community.noise": (
        ("装修", "广场舞", "工地", "楼上", "酒吧", "空调外机", "商铺喇叭"),
        ("噪音太大", "半夜施工", "吵得睡不着", "声音震天响", "一大早就开始", "扰民严重", "音响开到很晚"),
    ),
    "safety.fire_lane_blocked": (
        ("消防通道", "消防车道", "安全出口", "疏散通道", "楼梯间", "消防栓"),
        ("被车堵死了", "堆满杂物", "被锁住了", "停满了车", "被占用", "前面放了东西"),
    ),
    "safety.ebike_indoor_charging": (
        ("电动车", "电瓶车", "电动自行车", "电瓶", "充电线", "飞线"),
        ("推进楼道里充电", "从窗户拉线下来充", "停在楼梯口充电", "半夜在家里充", "飞线充电很危险", "放在电梯里"),
    ),
}

OPENERS = (
    "",
    "",
    "",
    "你好，",
    "市民来电反映：",
    "12345转办：",
    "我要反映一个问题，",
    "网格员巡查发现，",
    "居民投诉：",
)
CLOSERS = (
    "",
    "",
    "希望尽快处理。",
    "多次反映无人管。",
    "请相关部门解决，谢谢！",
    "存在安全隐患。",
    "影响居民生活。",
    "麻烦派人来看看。",
)
WHEN = ("", "", "最近", "这几天", "每天晚上", "一个多月了", "今天早上", "周末")
PLACES = ("{c}小区{n}栋", "{c}小区门口", "{c}路{n}号", "{c}新村{n}幢楼下", "{c}花园东门", "{c}路和{c2}路交叉口")
ROADS = ("人民", "长江", "黄河", "前进", "朝阳", "青年", "建设", "和平", "幸福", "花园", "新华", "同心")
# Homophones and look-alikes a hurried typist swaps.
TYPOS = {"垃": "拉", "圾": "级", "噪": "燥", "灯": "登", "堆": "推", "盖": "概", "停": "亭", "摊": "滩", "物": "务"}


@dataclass(frozen=True)
class History:
    samples: list[Sample]
    departments: dict[str, str]  # label → name
    duty: dict[tuple[str, str], tuple[str, ...]]  # (category, subdistrict path) → departments on the duty list
    subdistricts: list[str]

    def duty_for(self, category: str, place: str) -> tuple[str, ...]:
        return self.duty.get((category, ".".join(place.split(".")[:2])), ())


def _departments(subdistricts: Sequence[str]) -> tuple[dict[str, str], dict[tuple[str, str], tuple[str, ...]]]:
    names = {
        "szj": "区市政局",
        "ldz": "区路灯所",
        "swj": "区水务局",
        "dx": "通信公司",
        "jj": "区交警大队",
        "xf": "消防救援站",
    }
    local = {"cg": "城管中队", "hw": "环卫所", "wy": "物业办", "sf": "司法所", "pcs": "派出所"}
    duty: dict[tuple[str, str], tuple[str, ...]] = {}
    for i, sub in enumerate(subdistricts):
        for key, name in local.items():
            names[f"{key}{i}"] = f"第{i + 1}街道{name}"
        cg, hw, wy, sf, pcs = (f"{k}{i}" for k in local)
        table = {
            "environment.exposed_garbage": (hw,),
            "environment.piled_materials": (cg,) if i % 2 == 0 else (hw,),
            "environment.illegal_posting": (cg,),
            "facilities.streetlight_out": ("ldz",),
            "facilities.manhole_cover_missing": ("szj",),
            "facilities.road_damage": ("szj",),
            "street_order.street_vending": (cg,),
            "street_order.illegal_parking": ("jj",) if i % 2 == 0 else (cg,),
            "community.neighbour_dispute": (sf,),
            "community.property_service": (wy,),
            "community.noise": (pcs,),
            "safety.fire_lane_blocked": ("xf", wy),
            "safety.ebike_indoor_charging": ("xf",),
        }
        for code, departments in table.items():
            duty[(code, sub)] = departments
    return names, duty


def _actual_departments(code: str, text: str, listed: tuple[str, ...], sub_index: int) -> tuple[str, ...]:
    """Where the case really went: mostly the duty list, but the text decides some of it."""
    if code == "facilities.manhole_cover_missing":
        if "污水" in text or "雨水" in text or "下水道" in text:
            return ("swj",)
        if "电信" in text:
            return ("dx",)
    if code == "community.noise" and any(w in text for w in ("装修", "工地", "施工", "商铺")):
        return (f"cg{sub_index}",)
    if code == "safety.fire_lane_blocked" and "车" in text:
        return ("jj", f"wy{sub_index}")
    return listed


def _noisy(text: str, rng: random.Random) -> str:
    chars = list(text)
    for i, ch in enumerate(chars):
        if ch in TYPOS and rng.random() < 0.08:
            chars[i] = TYPOS[ch]
        elif rng.random() < 0.01:
            chars[i] = ""
    return "".join(chars)


def generate(
    categories: Sequence[tuple[str, str]],
    *,
    cases: int = 6000,
    days: int = 730,
    subdistricts: int = 3,
    communities: int = 4,
    label_noise: float = 0.04,
    seed: int = 2026,
) -> History:
    """``cases`` past cases over ``days`` for the given (code, name) leaf categories.

    Categories without phrases here get their name as the object and generic problems.
    """
    rng = random.Random(seed)
    subs = [f"320583.{i + 1:03d}" for i in range(subdistricts)]
    names, duty = _departments(subs)
    codes = [code for code, _ in categories]
    for code in codes:
        if code not in PHRASES:
            for sub in subs:
                duty.setdefault((code, sub), ("szj",))
    # Popularity: a few categories make most of the load, as on every hotline.
    weights = [1.0 / (1 + (i % 7)) + 0.15 for i in range(len(codes))]
    rng.shuffle(weights)
    samples: list[Sample] = []
    for n in range(cases):
        code = rng.choices(codes, weights)[0]
        name = dict(categories)[code]
        objects, problems = PHRASES.get(code, ((name,), ("需要处理", "有问题", "请尽快解决")))
        s_index = rng.randrange(subdistricts)
        sub = subs[s_index]
        place = f"{sub}.{rng.randrange(communities) + 1:03d}.{rng.randrange(5) + 1:03d}"
        where = rng.choice(PLACES).format(c=rng.choice(ROADS), c2=rng.choice(ROADS), n=rng.randrange(1, 40))
        obj, problem = rng.choice(objects), rng.choice(problems)
        body = rng.choice(
            (f"{where}{obj}{problem}", f"{rng.choice(WHEN)}{where}的{obj}{problem}", f"{obj}{problem}，在{where}")
        )
        if rng.random() < 0.15:  # a second, lesser complaint from another category in the same call
            other = PHRASES.get(rng.choice(codes))
            if other:
                body += f"，另外{rng.choice(other[0])}也{rng.choice(other[1])}"
        text = _noisy(f"{rng.choice(OPENERS)}{body}。{rng.choice(CLOSERS)}", rng)
        label = code if rng.random() >= label_noise else rng.choice(codes)
        departments = _actual_departments(code, text, duty[(code, sub)], s_index)
        at = (n + rng.random()) * days * DAY / cases
        samples.append(Sample(text=text, place=place, category=label, departments=departments, at=at))
    return History(samples, names, duty, subs)
