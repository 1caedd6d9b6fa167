"""Page preparation before OCR: small pure functions over numpy images.

Images are H x W x 3 RGB uint8 (as `pipeline.load` gives them) or H x W grey uint8.
Each step is measured in `bench/ocr_quality.py`; which steps run for which engine
is decided in `pipeline.read.PREPARATION`, from those measurements.

    detect_orientation(rgb, score) -> 0 | 90 | 180 | 270   clockwise turn that makes the page upright
    rotate_quadrant(img, degrees)                         apply that turn
    estimate_skew(grey) -> degrees                        small counter-clockwise correction
    deskew(img, degrees)                                  apply it, white border
    flatten_background(img)                               divide out shadows and paper tint
    remove_red(rgb) -> grey                               seal, red rule and red header fade to white
    red_layer(rgb) -> grey                                the red ink alone, dark on white
"""

from collections.abc import Callable

import cv2
import numpy as np

Image = np.ndarray

# --- shared helpers ---------------------------------------------------------------------------


def to_grey(image: Image) -> Image:
    return image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def ink_mask(grey: Image) -> Image:
    """Dark pixels (text) as a bool mask; Otsu is fine here because the mask only feeds estimates."""
    _, mask = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return mask > 0


def downscale(image: Image, max_side: int) -> tuple[Image, float]:
    """The image shrunk so its longer side is at most max_side, and the factor used."""
    factor = min(1.0, max_side / max(image.shape[:2]))
    if factor >= 1.0:
        return image, 1.0
    size = (max(1, round(image.shape[1] * factor)), max(1, round(image.shape[0] * factor)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA), factor


def white_like(image: Image) -> int | tuple[int, int, int]:
    return 255 if image.ndim == 2 else (255, 255, 255)


# --- orientation ------------------------------------------------------------------------------

ORIENTATION_MAX_SIDE = 1600  # the strip is read at ~130 dpi: enough for 16 pt type, 4x cheaper than the page
ORIENTATION_BAND = 0.2  # share of the page height read per candidate
MIN_INK_SHARE = 0.002  # below this the page is blank: nothing to orient


def rotate_quadrant(image: Image, degrees: int) -> Image:
    """Turn the image clockwise by 0, 90, 180 or 270 degrees (lossless)."""
    codes = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
    degrees %= 360
    return cv2.rotate(image, codes[degrees]) if degrees else image


def lines_run_vertically(grey: Image) -> bool:
    """True when the text lines run up/down the image (the page lies on its side).

    Chinese body text is set solid (no gap between characters) with a wide gap between
    lines, so the profile across the lines alternates ink/blank while the profile along
    them does not. We compare how much each profile varies.
    """
    ink = ink_mask(grey).astype(np.float32)
    rows, cols = ink.mean(axis=1), ink.mean(axis=0)

    def alternation(profile: np.ndarray) -> float:
        profile = profile[profile.size // 20 : -profile.size // 20 or None]  # margins: scanner edges
        return float(np.abs(np.diff(profile)).sum() / (profile.sum() + 1e-6))

    return alternation(cols) > alternation(rows)


def orientation_strip(image: Image, degrees: int) -> Image:
    """The densest horizontal band of the page after turning it `degrees` clockwise.

    Turning first and banding second makes the candidates read the same physical text.
    """
    small, _ = downscale(image, ORIENTATION_MAX_SIDE)
    turned = rotate_quadrant(small, degrees)
    rows = ink_mask(to_grey(turned)).mean(axis=1)
    band = max(1, round(turned.shape[0] * ORIENTATION_BAND))
    window = np.convolve(rows, np.ones(band), mode="valid")
    top = int(np.argmax(window))
    return turned[top : top + band]


def detect_orientation(
    image: Image,
    score: Callable[[Image], float],
    *,
    good_enough: float = float("inf"),
) -> int:
    """Clockwise degrees (0/90/180/270) that make the page upright.

    Tesseract's OSD is near useless on sparse Chinese pages (confidence ~3 where 14 is
    the usual floor; ocr-notes fact 10), so the OCR engine itself is the judge: `score`
    reads a strip and says how much plausible text it found (higher is better). The
    line direction decides between {0, 180} and {90, 270} without OCR; the upright
    candidate is tried first and accepted outright when it scores `good_enough`.
    """
    grey, _ = downscale(to_grey(image), ORIENTATION_MAX_SIDE)
    if ink_mask(grey).mean() < MIN_INK_SHARE:
        return 0
    candidates = (90, 270) if lines_run_vertically(grey) else (0, 180)
    best, best_score = candidates[0], score(orientation_strip(image, candidates[0]))
    if best_score >= good_enough:
        return best
    for degrees in candidates[1:]:
        value = score(orientation_strip(image, degrees))
        if value > best_score:
            best, best_score = degrees, value
    return best


# --- deskew -----------------------------------------------------------------------------------

MAX_SKEW = 5.0  # phone scans are 0.6–3° off; beyond 5° the line-direction test above takes over
SKEW_POINTS = 200_000  # ink pixels sampled: plenty for a profile, fast at any resolution


def estimate_skew(grey: Image, *, max_angle: float = MAX_SKEW) -> float:
    """The counter-clockwise rotation (degrees) that makes the text lines horizontal.

    Projection profile over ink pixels: rotating the points (not the image) by each
    candidate angle and scoring the sharpness of the row histogram. Coarse then fine.
    """
    ys, xs = np.nonzero(ink_mask(to_grey(grey)))
    if xs.size < 100:
        return 0.0
    if xs.size > SKEW_POINTS:
        pick = np.random.default_rng(0).choice(xs.size, SKEW_POINTS, replace=False)
        xs, ys = xs[pick], ys[pick]
    xs = xs.astype(np.float64) - grey.shape[1] / 2
    ys = ys.astype(np.float64) - grey.shape[0] / 2

    def sharpness(angle: float) -> float:
        theta = np.deg2rad(angle)
        # cv2.getRotationMatrix2D(angle) maps y to -sin·x + cos·y (image y points down)
        projected = -np.sin(theta) * xs + np.cos(theta) * ys
        hist = np.bincount((projected - projected.min()).astype(np.int64))
        return float(np.dot(hist, hist))

    def best_in(angles: np.ndarray) -> float:
        return float(angles[int(np.argmax([sharpness(a) for a in angles]))])

    coarse = best_in(np.arange(-max_angle, max_angle + 1e-9, 0.25))
    return round(best_in(np.arange(coarse - 0.3, coarse + 0.3 + 1e-9, 0.02)), 2)


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
    background = cv2.resize(background, (width, height), interpolation=cv2.INTER_LINEAR)
    flat = image.astype(np.float32) * 255.0 / np.maximum(background.astype(np.float32), 1.0)
    return np.clip(flat, 0, 255).astype(np.uint8)


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
