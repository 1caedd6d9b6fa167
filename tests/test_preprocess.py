"""pipeline.reading.preprocess: each preparation step on rendered pages, no OCR engine."""

import numpy as np
import pytest

from pipeline.reading import preprocess
from tests.conftest import RenderPage

BODY = tuple(
    line
    for _ in range(3)
    for line in (
        "市老龄委各成员单位，各县（市、区）民政局、老龄办要把学习",
        "贯彻习近平总书记给银龄行动老年志愿者代表回信精神作为当前",
        "和今后一个时期的一项重要政治任务，作为第一议题来学习。",
        "要与学习贯彻党的二十届三中全会精神结合起来，落实责任。",
    )
)


@pytest.fixture(scope="module")
def page(render_page: RenderPage) -> np.ndarray:
    return render_page(BODY, width=1300, size=40)


@pytest.mark.parametrize("angle", [-3.0, -1.3, 0.7, 2.4])
def test_deskew_recovers_a_known_angle(page: np.ndarray, angle: float) -> None:
    tilted = preprocess.deskew(page, angle)
    estimate = preprocess.estimate_skew(preprocess.to_grey(tilted))
    assert estimate == pytest.approx(-angle, abs=0.2)


def test_deskew_fills_corners_with_white(page: np.ndarray) -> None:
    tilted = preprocess.deskew(page, 3.0)
    assert tilted.shape == page.shape
    assert tilted[0, 0].tolist() == [255, 255, 255] and tilted[-1, -1].tolist() == [255, 255, 255]


def test_straight_page_needs_no_deskew(page: np.ndarray) -> None:
    assert preprocess.estimate_skew(preprocess.to_grey(page)) == pytest.approx(0, abs=0.1)


def test_blank_page_has_no_skew() -> None:
    assert preprocess.estimate_skew(np.full((400, 300), 255, np.uint8)) == 0.0


@pytest.mark.parametrize(("turned_by", "first"), [(0, 0), (180, 0), (90, 90), (270, 90)])
def test_orientation_tries_the_line_direction_first(page: np.ndarray, turned_by: int, first: int) -> None:
    """The line direction, measured without OCR, puts the right pair of turns first; which of
    the two is upright only reading tells (pipeline.reading.read)."""
    turns = preprocess.likely_turns(preprocess.rotate_quadrant(page, turned_by))
    assert sorted(turns) == [0, 90, 180, 270]
    assert turns[0] == first and turns[1] == first + 180
    assert (360 - turned_by) % 360 in turns[:2]  # the turn that undoes it is among the first two


def test_orientation_of_a_blank_page_tries_nothing() -> None:
    assert preprocess.likely_turns(np.full((800, 600, 3), 255, np.uint8)) == (0,)


def test_lines_run_vertically_on_a_page_on_its_side(page: np.ndarray) -> None:
    grey = preprocess.to_grey(page)
    assert not preprocess.lines_run_vertically(grey)
    assert preprocess.lines_run_vertically(np.ascontiguousarray(np.rot90(grey)))


def test_rotate_quadrant_is_clockwise() -> None:
    image = np.zeros((2, 3), np.uint8)
    image[0, 0] = 255  # top left
    assert preprocess.rotate_quadrant(image, 90)[0, -1] == 255  # goes top right
    assert preprocess.rotate_quadrant(image, 270)[-1, 0] == 255
    assert preprocess.rotate_quadrant(image, 180)[-1, -1] == 255
    assert preprocess.rotate_quadrant(image, 360) is image


def test_flatten_removes_a_shadow_and_keeps_the_text(page: np.ndarray) -> None:
    height, width = page.shape[:2]
    shade = np.linspace(0.45, 1.0, width, dtype=np.float32)[None, :, None]  # a phone's shadow from the left
    shadowed = (page.astype(np.float32) * shade).astype(np.uint8)
    flat = preprocess.flatten_background(shadowed)
    paper = preprocess.to_grey(page) == 255
    ink = preprocess.to_grey(page) < 60
    flat_grey = preprocess.to_grey(flat)
    assert preprocess.to_grey(shadowed)[paper].min() < 130  # the shadow was deep
    assert np.percentile(flat_grey[paper], 5) > 225  # paper is white again across the page
    assert np.median(flat_grey[ink]) < 80  # strokes stay dark


def coloured_swatches() -> np.ndarray:
    image = np.full((30, 120, 3), 255, np.uint8)
    image[:, 0:30] = (255, 0, 0)  # pure red (seal)
    image[:, 30:60] = (0, 0, 0)  # black text
    image[:, 60:90] = (200, 60, 60)  # faded red header on a phone scan
    image[:, 90:120] = (120, 120, 120)  # grey text
    return image


def test_remove_red_whitens_red_and_keeps_black() -> None:
    grey = preprocess.remove_red(coloured_swatches())
    assert grey.ndim == 2
    assert grey[15, 15] == 255 and grey[15, 75] >= 200  # red → white (or nearly)
    assert grey[15, 45] == 0 and grey[15, 105] == 120  # black and grey unchanged


def test_red_layer_keeps_only_red() -> None:
    layer = preprocess.red_layer(coloured_swatches())
    assert layer[15, 15] == 0 and layer[15, 75] == 0  # red ink → dark
    assert layer[15, 45] == 255 and layer[15, 105] == 255  # black and grey → paper
    assert preprocess.red_share(coloured_swatches()) == pytest.approx(0.5)


def test_red_steps_on_grey_pages_are_harmless() -> None:
    grey = np.full((10, 10), 100, np.uint8)
    assert preprocess.remove_red(grey) is grey
    assert (preprocess.red_layer(grey) == 255).all() and preprocess.red_share(grey) == 0.0
