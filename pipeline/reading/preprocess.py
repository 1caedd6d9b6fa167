"""Page preparation before OCR: small pure functions over numpy images.

Images are H x W x 3 RGB uint8 (as `pipeline.reading.load` gives them) or H x W grey uint8.
Each step is measured in `bench/ocr_quality.py`; which steps run for which engine
is decided in `pipeline.reading.read.PREPARATION`, from those measurements.

    likely_turns(rgb) -> (0, 180, 90, 270) | (90, 270, 0, 180) | (0,)   clockwise turns to try, likeliest first
    rotate_quadrant(img, degrees)                         apply that turn
    estimate_skew(grey) -> degrees                        small counter-clockwise correction
    deskew(img, degrees)                                  apply it, white border
    flatten_background(img)                               divide out shadows and paper tint
    remove_red(rgb) -> grey                               seal, red rule and red header fade to white
    red_layer(rgb) -> grey                                the red ink alone, dark on white
"""


import cv2
import numpy as np

Image = np.ndarray

# --- shared helpers ---------------------------------------------------------------------------


def to_grey(image: Image) -> Image:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


INK_LEVEL = 160  # on a flattened page paper is ~255 and strokes below ~120


def ink_mask(grey: Image) -> Image:
    """Text strokes as a bool mask: pixels much darker than their surrounding paper.

    Thresholding the flattened page rather than the page itself keeps shadows and the
    dark table around a phone-photographed sheet out of the mask: they are their own
    background. The mask only feeds estimates (skew, line direction, blankness).
    """
    return flatten_background(grey) < INK_LEVEL


def downscale(image: Image, max_side: int) -> tuple[Image, float]:
    """The image shrunk so its longer side is at most max_side, and the factor used."""
    factor = min(1.0, max_side / max(image.shape[:2]))
    if factor >= 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), factor


def white_like(image: Image) -> int | tuple[int, int, int]:
    return 255 if image.ndim == 2 else (255, 255, 255)


MAX_SKEW = 5.0  # phone scans are 0.6–3° off; a page on its side is orientation's job
SKEW_POINTS = 200_000  # ink pixels sampled: plenty for a profile, fast at any resolution

# --- orientation ------------------------------------------------------------------------------

ORIENTATION_MAX_SIDE = 1600  # line direction and skew are measured at ~130 dpi: the angles do not need more
MIN_INK_SHARE = 0.002  # below this the page is blank: nothing to orient


def rotate_quadrant(image: Image, degrees: int) -> Image:
    """Turn the image clockwise by 0, 90, 180 or 270 degrees (lossless)."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    degrees %= 360
    return cv2.rotate(image, codes[degrees]) if degrees else image


def line_axis_banding(grey: Image) -> tuple[float, float]:
    """How banded the ink is across rows and across columns, each at its best angle within
    ±MAX_SKEW, so a skewed page (orientation runs before deskew) is judged as well as a
    straight one. Chinese body text is set solid (no gap between characters) with a wide
    gap between lines: the profile across the lines is banded, the one along them flat."""
    points = ink_points(grey)
    if points is None:
        return 1.0, 1.0
    xs, ys = points
    coarse = np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5)
    return best_angle(xs, ys, coarse)[1], best_angle(ys, xs, coarse)[1]


def lines_run_vertically(grey: Image) -> bool:
    """True when the text lines run up/down the image (the page lies on its side)."""
    across_rows, across_columns = line_axis_banding(grey)
    return across_columns > across_rows


def likely_turns(image: Image) -> tuple[int, ...]:
    """The clockwise turns (0/90/180/270) to try, most likely first; (0,) on a blank page.

    Tesseract's OSD is near useless on sparse Chinese pages (confidence ~3 where 14 is the
    usual floor; ocr-notes fact 10), so the OCR engine itself judges which turn reads as
    upright text (pipeline.reading.read). This only orders the candidates: the line
    direction, measured without OCR, puts {0, 180} or {90, 270} first, so an upright page
    is read once. On sparse pages the direction can be wrong, hence all four. Red ink is
    removed first: a seal or a red header is no line of text and can outweigh a sparse page.
    """
    grey, _ = downscale(remove_red(image), ORIENTATION_MAX_SIDE)
    if ink_mask(grey).mean() < MIN_INK_SHARE:
        return (0,)
    across_rows, across_columns = line_axis_banding(grey)
    return (90, 270, 0, 180) if across_columns > across_rows else (0, 180, 90, 270)


# --- deskew -----------------------------------------------------------------------------------


def ink_points(grey: Image) -> tuple[np.ndarray, np.ndarray] | None:
    """Coordinates of (a sample of) the ink pixels, centred on the image; None on a blank page."""
    ys, xs = np.nonzero(ink_mask(to_grey(grey)))
    if xs.size < 100:
        return None
    if xs.size > SKEW_POINTS:
        pick = np.random.default_rng(0).choice(xs.size, SKEW_POINTS, replace=False)
        xs, ys = xs[pick], ys[pick]
    return xs.astype(np.float64) - grey.shape[1] / 2, ys.astype(np.float64) - grey.shape[0] / 2


def banding(xs: np.ndarray, ys: np.ndarray, angle: float) -> float:
    """How banded the row profile of the points is after turning them by `angle`:
    1 for ink spread evenly, ~2 for lines with line-high gaps between them."""
    theta = np.deg2rad(angle)
    # cv2.getRotationMatrix2D(angle) maps y to -sin·x + cos·y (image y points down)
    projected = -np.sin(theta) * xs + np.cos(theta) * ys
    hist = np.bincount((projected - projected.min()).astype(np.int64))
    return float(np.dot(hist, hist)) * hist.size / float(xs.size) ** 2


def best_angle(xs: np.ndarray, ys: np.ndarray, angles: np.ndarray) -> tuple[float, float]:
    """The angle among `angles` with the most banded profile, and its banding."""
    scores = [banding(xs, ys, a) for a in angles]
    best = int(np.argmax(scores))
    return float(angles[best]), scores[best]


def estimate_skew(grey: Image, *, max_angle: float = MAX_SKEW) -> float:
    """The counter-clockwise rotation (degrees) that makes the text lines horizontal.

    Projection profile over ink pixels: the points (not the image) are turned by each
    candidate angle and the sharpness of their row histogram scored. Coarse then fine. On a
    copy shrunk to ORIENTATION_MAX_SIDE: an angle needs no more, and finding the ink (a
    background flattening) on the full page cost more than the deskew itself.
    """
    points = ink_points(downscale(grey, ORIENTATION_MAX_SIDE)[0])
    if points is None:
        return 0.0
    xs, ys = points
    coarse, _ = best_angle(xs, ys, np.arange(-max_angle, max_angle + 1e-9, 0.25))
    fine, _ = best_angle(xs, ys, np.arange(coarse - 0.3, coarse + 0.3 + 1e-9, 0.02))
    return round(fine, 2)


def deskew(image: Image, angle: float) -> Image:
    """Rotate counter-clockwise by `angle` degrees about the centre, filling with white."""
    if abs(angle) < 0.05:
        return image
    height, width = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    return cv2.warpAffine(
        image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_CONSTANT, borderValue=white_like(image)
    )


# --- background -------------------------------------------------------------------------------

BACKGROUND_SCALE = 4  # the background is estimated at quarter size: shadows are smooth
BACKGROUND_KERNEL = 15  # at quarter size, ~60 px at full size: wider than a 16 pt character at 200 dpi


def flatten_background(image: Image) -> Image:
    """Divide each channel by its estimated paper background: shadows and tint go, colours stay.

    The background is a morphological close (which erases dark strokes smaller than the
    kernel) of a shrunk copy, smoothed and grown back. Global Otsu on a shadowed page
    loses whole corners (ocr-notes fact 3); dividing keeps the strokes' contrast.
    """
    height, width = image.shape[:2]
    small = cv2.resize(image, (max(1, width // BACKGROUND_SCALE), max(1, height // BACKGROUND_SCALE)), interpolation=cv2.INTER_AREA)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BACKGROUND_KERNEL, BACKGROUND_KERNEL))
    background = cv2.morphologyEx(small, cv2.MORPH_CLOSE, kernel)
    background = cv2.medianBlur(background, 5)
    background = np.maximum(cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR), 1)
    # in uint8 with saturation: a float32 copy of a 200 dpi colour page is 46 MB, twice over
    return cv2.divide(image, background, scale=255.0)


# --- red ink ----------------------------------------------------------------------------------

RED_MARGIN = 40  # R above max(G, B) by this much is red ink; scanner noise stays below ~20


def remove_red(image: Image) -> Image:
    """Grey page with the red ink faded to white: the red channel alone (ocr-notes fact 4).

    Red ink is bright in the red channel, black and grey ink are dark in every channel,
    so the seal over the signature, the red rule and the red header vanish while the
    body keeps full contrast (better than luminance, where red turns mid-grey).
    """
    return image if image.ndim == 2 else np.ascontiguousarray(image[:, :, 0])


def redness(image: Image) -> Image:
    """How much redder than it is green or blue each pixel is, 0..255."""
    rgb = image.astype(np.int16)
    return np.clip(rgb[:, :, 0] - np.maximum(rgb[:, :, 1], rgb[:, :, 2]), 0, 255).astype(np.uint8)


def red_layer(image: Image) -> Image:
    """The red ink alone, dark on white: for reading the red 发文机关标志 back (ocr-notes fact 4)."""
    if image.ndim == 2:
        return np.full_like(image, 255)
    red = redness(image).astype(np.float32)
    strength = np.clip((red - RED_MARGIN / 2) * (255.0 / RED_MARGIN), 0, 255)
    return (255 - strength).astype(np.uint8)


def red_share(image: Image) -> float:
    """Share of the pixels that are red ink."""
    return 0.0 if image.ndim == 2 else float((redness(image) > RED_MARGIN).mean())
