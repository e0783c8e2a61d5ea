"""GPS to grid: which grid contains a point, with a spatial index built once per set of grids."""
import json
import threading

import shapely
from shapely.geometry import shape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.store.model import Grid


class GridIndex:
    """An STRtree over grid polygons; answers with the deepest grid covering a point."""

    def __init__(self, key: tuple, codes: list[str], levels: list[int], geometries: list):
        self.key = key
        self.codes = codes
        self._rank = [(-level, code) for code, level in zip(codes, levels, strict=True)]
        self._tree = shapely.STRtree(geometries)

    def locate(self, lat: float, lng: float) -> str | None:
        """The deepest grid covering the point; on a border shared by two grids, the lower code."""
        hits = self._tree.query(shapely.Point(lng, lat), predicate="covered_by")
        if len(hits) == 0:
            return None
        return self.codes[min(hits, key=self._rank.__getitem__)]


class GridLocator:
    """Keeps a GridIndex per process and rebuilds it when the grids in the database change."""

    def __init__(self):
        self._index: GridIndex | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the index; the next lookup rebuilds it."""
        with self._lock:
            self._index = None

    def index(self, session: Session) -> GridIndex:
        """The index for the grids as they are now (one cheap aggregate query to check)."""
        key = tuple(session.execute(
            select(func.count(Grid.id), func.max(Grid.id), func.sum(func.length(Grid.polygon)))
            .where(Grid.polygon.is_not(None))).one())
        with self._lock:
            if self._index is None or self._index.key != key:
                self._index = _build(session, key)
            return self._index


def _build(session: Session, key: tuple) -> GridIndex:
    rows = session.execute(select(Grid.code, Grid.level, Grid.polygon).where(Grid.polygon.is_not(None))).all()
    return GridIndex(key, [r.code for r in rows], [r.level for r in rows],
                     [shape(json.loads(r.polygon)) for r in rows])
