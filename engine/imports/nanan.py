"""Nan'an city (南安市, Fujian): a deterministic grid hierarchy, departments and demo users, as plain rows."""
import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path

CITY, CITY_NAME = "350583", "南安市"
LUNCANG, HUIHUANG, SHUITOU = "350583106", "350583106201", "350583103"
BOX = (118.10, 24.75, 118.60, 25.20)  # west, south, east, north (lng/lat)
VILLAGES, GRIDS = 424, 2480  # level 2 alone; levels 2-4 together
LUNCANG_LEVEL2, LUNCANG_UNITS, HUIHUANG_LEVEL2, HUIHUANG_UNITS = 75, 238, 7, 29
OTHER_LEVEL2 = 615  # level-2 grids in the 410 villages outside Luncang
OTHER_UNITS = GRIDS - VILLAGES - LUNCANG_LEVEL2 - LUNCANG_UNITS - OTHER_LEVEL2  # 1,128 unit grids

TOWNS = (  # code, name, villages (or communities)
    ("350583001", "溪美街道", 16), ("350583002", "柳城街道", 16), ("350583003", "美林街道", 17),
    ("350583101", "石井镇", 20), ("350583102", "官桥镇", 22), ("350583103", "水头镇", 22),
    ("350583104", "省新镇", 14), ("350583105", "东田镇", 16), ("350583106", "仑苍镇", 14),
    ("350583107", "英都镇", 19), ("350583108", "翔云镇", 12), ("350583109", "金淘镇", 22),
    ("350583110", "诗山镇", 20), ("350583111", "蓬华镇", 12), ("350583112", "码头镇", 19),
    ("350583113", "九都镇", 8), ("350583114", "乐峰镇", 13), ("350583115", "罗东镇", 16),
    ("350583116", "梅山镇", 21), ("350583117", "洪濑镇", 20), ("350583118", "洪梅镇", 16),
    ("350583119", "康美镇", 20), ("350583120", "丰州镇", 18), ("350583121", "霞美镇", 14),
    ("350583201", "眉山乡", 10), ("350583202", "向阳乡", 7),
)
LAYOUT = (  # rows of towns, north to south, west to east: roughly where they lie
    ("向阳乡", "眉山乡", "蓬华镇", "码头镇", "九都镇"),
    ("翔云镇", "金淘镇", "诗山镇", "乐峰镇", "罗东镇"),
    ("英都镇", "梅山镇", "洪濑镇", "洪梅镇", "康美镇"),
    ("东田镇", "仑苍镇", "柳城街道", "溪美街道", "美林街道", "霞美镇", "丰州镇"),
    ("水头镇", "官桥镇", "省新镇", "石井镇"),
)
KNOWN_VILLAGES = {  # first villages of some towns; the rest are generated
    LUNCANG: ("辉煌村", "仑苍村"),
    SHUITOU: ("水头村", "星辉村", "劳光村", "仁福村", "朴山村", "下店村", "大盈村", "龙凤村", "上林村",
              "曾岭村", "邦吟村", "肖厝村", "康店村", "呈美村", "文斗村", "曾庄村"),
    "350583109": ("金淘村", "玉园村", "亭川村", "毓南村"),
}
PREFIXES = "东西南北前后上下新大高林黄陈金石溪美丰福安龙凤桃梧竹"  # generated names: prefix + suffix + 村
SUFFIXES = "山林田坑头厝美溪洋坂埔兜岭湖口峰亭园庄垵内"
TOWN_DEPARTMENTS = (  # kind, name pattern ({short}: 仑苍, {town}: 仑苍镇)
    ("police", "{short}派出所"), ("market", "{short}市场监管所"), ("judicial", "{town}司法所"),
    ("health", "{town}卫生院"), ("natural_resources", "{short}自然资源所"),
    ("urban_management", "{town}综合执法队"), ("environment", "{town}生态环境站"),
    ("work_safety", "{town}应急管理站"), ("petitions", "{town}信访办"),
)
CITY_DEPARTMENTS = (
    ("police", "南安市公安局"), ("market", "南安市市场监督管理局"), ("judicial", "南安市司法局"),
    ("health", "南安市卫健局"), ("cdc", "南安市疾控中心"), ("natural_resources", "南安市自然资源局"),
    ("urban_management", "南安市城市管理局"), ("environment", "泉州市南安生态环境局"),
    ("work_safety", "南安市应急管理局"), ("petitions", "南安市信访局"),
)
NAMED = (  # username, display name, role, grid, department, where (for the README)
    ("worker", "李网格员", "grid_worker", "350583106201-06-01", "", "仑苍镇辉煌村第六网格第一单元"),
    ("leader", "王网格长", "grid_leader", "350583106201-06", "", "仑苍镇辉煌村第六网格"),
    ("village", "陈村调委会主任", "grid_leader", HUIHUANG, "", "仑苍镇辉煌村"),
    ("judicial", "林司法所调解员", "liaison", "", "350583106-judicial", "仑苍镇司法所"),
    ("supervisor", "黄督查员", "supervisor", LUNCANG, "", "仑苍镇"),
    ("admin", "系统管理员", "admin", "", "", "全市（系统管理）"),
    ("shuitou_worker", "张网格员", "grid_worker", "350583103201-01-01", "", "水头镇水头村第一网格第一单元"),
    ("city_supervisor", "郑督查员", "supervisor", CITY, "", "南安市"),
)
DEMO_USERS = tuple((username, role, where) for username, _, role, _, _, where in NAMED)
LEADERS = {"leader", "village"}
SURNAMES, GIVEN_NAMES = "陈林黄张李王吴刘蔡洪郑许苏叶傅施庄", (
    "志强", "丽华", "建国", "秀英", "文杰", "明辉", "美玲", "国庆", "淑珍", "伟东", "雅婷", "少华", "振宇", "晓燕",
    "金水", "清泉")
PHONE_PREFIXES = ("135", "136", "137", "138", "139", "150", "158", "159", "189")
USER_FIELDS = ("username", "display_name", "role", "grid_code", "department_code", "password", "phone", "leader")
DEPARTMENT_FIELDS = ("code", "name", "kind", "grid_code")


@dataclass(frozen=True)
class NanAn:
    grids: list[dict]
    departments: list[dict]
    users: list[dict]


def generate(password: str = "gridflow-demo") -> "NanAn":
    """Nan'an's grids (parents first), departments and users, the same on every call."""
    grids = _grids()
    departments = _departments()
    return NanAn(grids, departments, _users(grids, departments, password))


def write(folder, password: str = "gridflow-demo") -> tuple[Path, Path, Path]:
    """Write grids.geojson, departments.csv and users.csv into `folder`; return their paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    city = generate(password)
    grids_path, departments_path, users_path = (folder / name for name in
                                                ("grids.geojson", "departments.csv", "users.csv"))
    features = [{"type": "Feature", "geometry": g["polygon"],
                 "properties": {key: g[key] for key in ("code", "name", "level", "parent_code")}}
                for g in city.grids]
    grids_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                          encoding="utf-8")
    for path, fields, rows in ((departments_path, DEPARTMENT_FIELDS, city.departments),
                               (users_path, USER_FIELDS, city.users)):
        with path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.DictWriter(out, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
    return grids_path, departments_path, users_path


def _spread(total: int, n: int) -> list[int]:
    """Split `total` into `n` near-equal whole parts, the larger ones spread evenly."""
    return [(i + 1) * total // n - i * total // n for i in range(n)]


def _cuts(start: float, end: float, n: int) -> list[float]:
    """n+1 cut lines from start to end, rounded once to 6 decimals and shared by both neighbours."""
    return [start] + [round(start + (end - start) * i / n, 6) for i in range(1, n)] + [end]


def _tile(box: tuple, n: int) -> list[tuple]:
    """Split a box into n boxes: near-square columns west to east, each cut north to south."""
    west, south, east, north = box
    columns = min(n, max(1, round(math.sqrt(n * (east - west) / (north - south)))))
    xs = _cuts(west, east, columns)
    tiles = []
    for column, count in enumerate(_spread(n, columns)):
        ys = _cuts(north, south, count)
        tiles += [(xs[column], ys[row + 1], xs[column + 1], ys[row]) for row in range(count)]
    return tiles


def _polygon(box: tuple) -> dict:
    """A GeoJSON polygon for a box, exterior ring counter-clockwise and closed."""
    w, s, e, n = box
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _plan() -> dict[str, list[list[int]]]:
    """Per town: for each village, the number of unit grids in each of its level-2 grids."""
    others = [(code, villages) for code, _, villages in TOWNS if code != LUNCANG]
    level2 = iter(_spread(OTHER_LEVEL2, sum(villages for _, villages in others)))
    units = iter(_spread(OTHER_UNITS, OTHER_LEVEL2))
    plan = {code: [[next(units) for _ in range(next(level2))] for _ in range(villages)] for code, villages in others}
    plan[LUNCANG] = _plan_luncang()
    return plan


def _plan_luncang() -> list[list[int]]:
    """Luncang: Huihuang first (7 level-2, 29 unit grids), the rest spread over 13 more villages."""
    villages = next(n for code, _, n in TOWNS if code == LUNCANG)
    level2 = [HUIHUANG_LEVEL2] + _spread(LUNCANG_LEVEL2 - HUIHUANG_LEVEL2, villages - 1)
    units = iter(_spread(HUIHUANG_UNITS, HUIHUANG_LEVEL2)
                 + _spread(LUNCANG_UNITS - HUIHUANG_UNITS, LUNCANG_LEVEL2 - HUIHUANG_LEVEL2))
    return [[next(units) for _ in range(n)] for n in level2]


def _short(town: str) -> str:
    """仑苍镇 → 仑苍, 溪美街道 → 溪美."""
    return town[:-2] if town.endswith("街道") else town[:-1]


def _village_names(index: int, code: str, town: str, n: int) -> list[str]:
    """n village names, unique in the town: known ones or the seat (石井村), then generated (东山村, 后林村)."""
    ending = "社区" if town.endswith("街道") else "村"
    names = list(KNOWN_VILLAGES.get(code, (_short(town) + ending,)))[:n]
    size, k = len(PREFIXES) * len(SUFFIXES), 0
    while len(names) < n:
        p, s = divmod((index * 37 + k * 101) % size, len(SUFFIXES))
        name = PREFIXES[p] + SUFFIXES[s] + ending
        if PREFIXES[p] != SUFFIXES[s] and name not in names:
            names.append(name)
        k += 1
    return names


def _cn(n: int) -> str:
    """Chinese numeral for 1..99 (六, 十二, 二十)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return (digits[tens] if tens > 1 else "") + "十" + (digits[ones] if ones else "")


def _grids() -> list[dict]:
    """The whole hierarchy, depth first under each town, towns in code order."""
    rows = [{"code": CITY, "name": CITY_NAME, "level": 0, "parent_code": None, "polygon": _polygon(BOX)}]
    town_boxes, ys = {}, _cuts(BOX[3], BOX[1], len(LAYOUT))
    for r, row in enumerate(LAYOUT):
        xs = _cuts(BOX[0], BOX[2], len(row))
        town_boxes.update({town: (xs[i], ys[r + 1], xs[i + 1], ys[r]) for i, town in enumerate(row)})

    def add(code, name, level, parent, box):
        rows.append({"code": code, "name": name, "level": level, "parent_code": parent, "polygon": _polygon(box)})

    plan = _plan()
    for index, (town_code, town, _) in enumerate(TOWNS):
        add(town_code, town, 1, CITY, town_boxes[town])
        villages = plan[town_code]
        names = _village_names(index, town_code, town, len(villages))
        for v, (level2, name, v_box) in enumerate(zip(villages, names, _tile(town_boxes[town], len(villages)),
                                                      strict=True)):
            v_code = f"{town_code}{201 + v}"
            add(v_code, name, 2, town_code, v_box)
            for g, (units, g_box) in enumerate(zip(level2, _tile(v_box, len(level2)), strict=True), 1):
                g_code, g_name = f"{v_code}-{g:02d}", f"{name}第{_cn(g)}网格"
                add(g_code, g_name, 3, v_code, g_box)
                for u, u_box in enumerate(_tile(g_box, units), 1):
                    add(f"{g_code}-{u:02d}", f"{g_name}第{_cn(u)}单元", 4, g_code, u_box)
    return rows


def _departments() -> list[dict]:
    """The city's departments, then nine in every town; code = grid code + kind."""
    rows = [{"code": f"{CITY}-{kind}", "name": name, "kind": kind, "grid_code": CITY}
            for kind, name in CITY_DEPARTMENTS]
    for code, town, _ in TOWNS:
        rows += [{"code": f"{code}-{kind}", "name": pattern.format(short=_short(town), town=town), "kind": kind,
                  "grid_code": code} for kind, pattern in TOWN_DEPARTMENTS]
    return rows


def _users(grids: list[dict], departments: list[dict], password: str) -> list[dict]:
    """Named demo users, then a supervisor per town, a liaison per department, Luncang leaders, Huihuang workers."""
    specs = [(username, name, role, grid, dept, "true" if username in LEADERS else "")
             for username, name, role, grid, dept, _ in NAMED]
    specs += [(f"sup_{code}", "", "supervisor", code, "", "") for code, _, _ in TOWNS]
    specs += [(d["code"].replace("-", "_"), "", "liaison", "", d["code"], "") for d in departments]
    specs += [("gl_" + g["code"].replace("-", "_"), "", "grid_leader", g["code"], "", "true") for g in grids
              if g["level"] == 3 and g["code"].startswith(LUNCANG) and g["code"] != "350583106201-06"]
    specs += [("gw_" + g["code"].replace("-", "_"), "", "grid_worker", g["code"], "", "") for g in grids
              if g["level"] == 4 and g["code"].startswith(HUIHUANG) and g["code"] != "350583106201-06-01"]
    return [dict(zip(USER_FIELDS, (username, name or SURNAMES[i % len(SURNAMES)] + GIVEN_NAMES[i % len(GIVEN_NAMES)],
                                   role, grid, dept, password,
                                   f"{PHONE_PREFIXES[i % len(PHONE_PREFIXES)]}{(59512345 + i * 7919) % 10**8:08d}",
                                   leader), strict=True))
            for i, (username, name, role, grid, dept, leader) in enumerate(specs)]
