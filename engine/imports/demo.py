"""A small demo: Nan'an city, Luncang town with Huihuang village, a second town, one user per role."""
from functools import lru_cache

from sqlalchemy import select

from engine.deps import Deps
from engine.imports import importer, nanan
from engine.people.auth import hash_password
from engine.places import grid as grids
from engine.store.model import Department, Grid, User

DEMO_PASSWORD = "gridflow-demo"

GRIDS = [  # code, name, parent code
    ("350583", "南安市", None),
    ("350583106", "仑苍镇", "350583"),
    ("350583106201", "辉煌村", "350583106"),
    ("350583106201-06", "辉煌村第六网格", "350583106201"),
    ("350583106201-06-01", "辉煌村第六网格第一单元", "350583106201-06"),
    ("350583106201-06-02", "辉煌村第六网格第二单元", "350583106201-06"),
    ("350583106201-07", "辉煌村第七网格", "350583106201"),
    ("350583106201-07-01", "辉煌村第七网格第一单元", "350583106201-07"),
    ("350583103", "水头镇", "350583"),
    ("350583103201", "水头村", "350583103"),
    ("350583103201-01", "水头村第一网格", "350583103201"),
    ("350583103201-01-01", "水头村第一网格第一单元", "350583103201-01"),
]

LUNCANG_KINDS = {  # kind -> name of Luncang's department ("grid + N")
    "police": "仑苍派出所", "market": "仑苍市场监管所", "judicial": "仑苍镇司法所", "health": "仑苍镇卫生院",
    "natural_resources": "仑苍自然资源所", "urban_management": "仑苍镇综合执法队",
    "environment": "仑苍镇生态环境站", "work_safety": "仑苍镇应急管理站", "petitions": "仑苍镇信访办",
}

DEPARTMENTS = [  # code, name, kind, jurisdiction grid
    *((f"350583106-{kind}", name, kind, "350583106") for kind, name in LUNCANG_KINDS.items()),
    ("350583-cdc", "南安市疾控中心", "cdc", "350583"),
    ("350583103-judicial", "水头镇司法所", "judicial", "350583103"),
]

USERS = [  # username, name, role, grid, department
    ("worker", "李网格员", "grid_worker", "350583106201-06-01", None),
    ("leader", "王网格长", "grid_leader", "350583106201-06", None),
    ("village", "陈村调委会主任", "grid_leader", "350583106201", None),
    ("judicial", "林司法所调解员", "liaison", None, "350583106-judicial"),
    ("supervisor", "黄督查员", "supervisor", "350583106", None),
    ("admin", "系统管理员", "admin", None, None),
    ("shuitou_worker", "张网格员", "grid_worker", "350583103201-01-01", None),
    ("shuitou_leader", "赵网格长", "grid_leader", "350583103201-01", None),
    ("shuitou_judicial", "吴司法所调解员", "liaison", None, "350583103-judicial"),
    ("shuitou_supervisor", "郑督查员", "supervisor", "350583103", None),
    ("city_supervisor", "市督查员", "supervisor", "350583", None),
    *((code.replace("-", "_"), f"{name}联络员", "liaison", None, code)  # as in the Nan'an demo
      for code, name, _kind, _grid in DEPARTMENTS),
]


def load(deps: Deps, password: str = DEMO_PASSWORD) -> bool:
    """Create the demo grids, departments and users unless they exist. True when it created them."""
    with deps.uow() as uow:
        session = uow.session
        if session.scalar(select(Grid.id).where(Grid.code == GRIDS[0][0])):
            return False
        by_code = {}
        for code, name, parent in GRIDS:
            by_code[code] = grids.add_grid(session, code, name, by_code.get(parent))
        departments = {}
        for code, name, kind, grid_code in DEPARTMENTS:
            departments[code] = Department(code=code, name=name, kind=kind, grid_id=by_code[grid_code].id)
            session.add(departments[code])
        session.flush()
        hashed = _hashed(password)
        for username, name, role, grid_code, dept in USERS:
            session.add(User(username=username, display_name=name, role=role, password_hash=hashed,
                             grid_id=by_code[grid_code].id if grid_code else None,
                             department_id=departments[dept].id if dept else None))
        uow.commit()
        return True


@lru_cache(maxsize=4)
def _hashed(password: str) -> str:
    return hash_password(password)


def load_nanan(deps: Deps, password: str = DEMO_PASSWORD) -> dict:
    """Import the whole Nan'an demo (grids with polygons, departments, users) through the importer."""
    data = nanan.generate(password)
    return {kind: importer.import_rows(deps, kind, rows)
            for kind, rows in (("grids", data.grids), ("departments", data.departments), ("users", data.users))}
