"""GPS to grid on a small tiling: inside, outside, on shared borders and corners, deepest level wins."""
import pytest
from shapely.geometry import box

from engine.places.geo import GridIndex

# A town split into two villages, the west one split into two unit grids along lng 118.2.
GRIDS = [
    ("T", 1, box(118.0, 24.0, 118.4, 24.2)),
    ("V-west", 2, box(118.0, 24.0, 118.2 + 0.1, 24.2)),
    ("V-east", 2, box(118.3, 24.0, 118.4, 24.2)),
    ("U-a", 4, box(118.0, 24.0, 118.2, 24.2)),
    ("U-b", 4, box(118.2, 24.0, 118.3, 24.2)),
]


@pytest.fixture(scope="module")
def index():
    return GridIndex(("k",), [g[0] for g in GRIDS], [g[1] for g in GRIDS], [g[2] for g in GRIDS])


@pytest.mark.parametrize("lat, lng, code", [
    (24.1, 118.1, "U-a"),
    (24.1, 118.25, "U-b"),
    (24.1, 118.35, "V-east"),   # no unit grid there: the deepest grid that covers it
    (24.1, 118.2, "U-a"),       # on the border between U-a and U-b: the lower code, every time
    (24.1, 118.3, "U-b"),       # on the border between U-b and V-east: the deeper grid
    (24.0, 118.0, "U-a"),       # the outer corner belongs to the grid
    (24.2, 118.4, "V-east"),   # the far corner: V-east covers it too, and is deeper than the town
])
def test_a_point_lands_in_the_deepest_grid_covering_it(index, lat, lng, code):
    assert index.locate(lat, lng) == code


@pytest.mark.parametrize("lat, lng", [(23.9, 118.1), (24.1, 119.0), (0, 0), (-90, -180)])
def test_a_point_outside_every_grid_finds_nothing(index, lat, lng):
    assert index.locate(lat, lng) is None
