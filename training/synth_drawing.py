"""The synthetic videos' drawing: a painter with sub-pixel motion, colours, scenes with clutter, and
people, dogs and horses as jointed figures. Every scene is drawn from class-agnostic distributions
(training/synth.py says why); only training/synth_actions.py decides what moves."""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

WIDTH, HEIGHT, FPS = 320, 240, 25.0
MARGIN = 8  # background drawn this many px beyond every frame edge, room for camera shake

Point = tuple[float, float]
Colour = tuple[int, int, int]  # BGR, like everything in OpenCV
_SHIFT = 4  # cv2 drawing 'shift': 4 fractional bits, so slow motion moves smoothly, not pixel by pixel
_ONE = 1 << _SHIFT


# ----------------------------------------------------------------------------- drawing helpers


class Painter:
    """Anti-aliased, sub-pixel cv2 drawing in frame coordinates on a canvas with a MARGIN border."""

    def __init__(self, img: np.ndarray, offset: float = MARGIN):
        self.img, self.offset = img, offset

    def _p(self, p: Point) -> tuple[int, int]:
        return int(round((p[0] + self.offset) * _ONE)), int(round((p[1] + self.offset) * _ONE))

    def line(self, a: Point, b: Point, colour: Colour, thick: float = 1) -> None:
        cv2.line(self.img, self._p(a), self._p(b), colour, max(1, round(thick)), cv2.LINE_AA, _SHIFT)

    def polyline(self, pts: Sequence[Point], colour: Colour, thick: float = 1) -> None:
        for a, b in zip(pts, pts[1:]):  # separate segments get round joints, polylines don't
            self.line(a, b, colour, thick)

    def circle(self, c: Point, r: float, colour: Colour, thick: float = -1) -> None:
        t = -1 if thick < 0 else max(1, round(thick))
        cv2.circle(self.img, self._p(c), max(_ONE, round(r * _ONE)), colour, t, cv2.LINE_AA, _SHIFT)

    def ellipse(self, c: Point, axes: Point, angle: float, colour: Colour, start: float = 0, end: float = 360) -> None:
        ax = (max(_ONE, round(axes[0] * _ONE)), max(_ONE, round(axes[1] * _ONE)))
        cv2.ellipse(self.img, self._p(c), ax, angle, start, end, colour, -1, cv2.LINE_AA, _SHIFT)

    def poly(self, pts: Sequence[Point], colour: Colour) -> None:
        arr = np.array([self._p(p) for p in pts], np.int32)
        cv2.fillPoly(self.img, [arr], colour, cv2.LINE_AA, _SHIFT)


def at(p: Point, angle: float, length: float) -> Point:
    """The point `length` px from p in direction `angle` (radians; 0 = straight down, +pi/2 = +x)."""
    return p[0] + length * math.sin(angle), p[1] + length * math.cos(angle)


def lerp(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def two_link(root: Point, tip: Point, l1: float, l2: float, side: float) -> Point:
    """Middle joint of a two-segment limb from root to tip (inverse kinematics for planted feet).

    `side` = +1/-1 picks the bulge: for a limb hanging straight down, +1 puts the joint at +x.
    """
    dx, dy = tip[0] - root[0], tip[1] - root[1]
    dist = max(math.hypot(dx, dy), 1e-6)
    d = min(dist, l1 + l2 - 1e-6)
    a = (l1 * l1 - l2 * l2 + d * d) / (2 * d)
    off = math.sqrt(max(l1 * l1 - a * a, 0.0))
    ux, uy = dx / dist, dy / dist
    return root[0] + a * ux + side * off * uy, root[1] + a * uy - side * off * ux


def shade(c: Colour, k: float) -> Colour:
    return tuple(int(min(255, v * k)) for v in c)  # type: ignore[return-value]


# ----------------------------------------------------------------------------- colours
# One distribution per kind of thing, shared by every class: colour never reveals the class.


def _colour(
    rng: np.random.Generator, sat: tuple[float, float] = (0.15, 0.9), val: tuple[float, float] = (0.2, 0.95)
) -> Colour:
    r, g, b = colorsys.hsv_to_rgb(rng.uniform(0, 1), rng.uniform(*sat), rng.uniform(*val))
    return int(b * 255), int(g * 255), int(r * 255)


def _skin(rng: np.random.Generator) -> Colour:
    t = rng.uniform(0, 1)
    light, dark = np.array([170, 195, 235]), np.array([45, 70, 110])
    c = (1 - t) * light + t * dark + rng.normal(0, 8, 3)
    return tuple(int(v) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


_COATS = ((40, 70, 120), (30, 60, 150), (30, 30, 35), (220, 225, 230), (130, 130, 130), (80, 160, 210), (25, 40, 70))


def coat(rng: np.random.Generator) -> Colour:
    """Animal coat colour (dogs and horses alike): brown, chestnut, black, white, grey, golden, bay."""
    base = np.array(_COATS[rng.integers(len(_COATS))], float)
    c = base * rng.uniform(0.8, 1.2) + rng.normal(0, 4, 3)  # vary brightness, barely the hue: no green horses
    return tuple(int(v) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


def _prop_colour(rng: np.random.Generator) -> Colour:
    """Rails, swing frames, leashes: mostly unsaturated (wood, metal, paint)."""
    return _colour(rng, sat=(0.0, 0.5), val=(0.25, 1.0))


# ----------------------------------------------------------------------------- scene


@dataclass(frozen=True)
class Look:
    """One actor's appearance: shared by all clips of a group, like the same person in a UCF50 group."""

    shirt: Colour
    pants: Colour
    skin: Colour
    hair: Colour
    height: float  # full standing height in px


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything a UCF50 group shares: background (with a MARGIN border), horizon, actor, colours."""

    background: np.ndarray  # (height + 2*MARGIN, width + 2*MARGIN, 3) uint8 BGR
    horizon: float  # y of the horizon in frame pixels; actors stand below it
    look: Look
    animal: Colour
    prop: Colour

    @property
    def width(self) -> int:
        return self.background.shape[1] - 2 * MARGIN

    @property
    def height(self) -> int:
        return self.background.shape[0] - 2 * MARGIN


def random_look(rng: np.random.Generator, frame_height: int) -> Look:
    return Look(
        shirt=_colour(rng),
        pants=_colour(rng),
        skin=_skin(rng),
        hair=_colour(rng, sat=(0.0, 0.5), val=(0.05, 0.5)),
        height=rng.uniform(0.36, 0.5) * frame_height,
    )


def make_scene(rng: np.random.Generator, width: int = WIDTH, height: int = HEIGHT) -> Scene:
    """A random class-agnostic scene: gradient sky/wall and ground, blotchy texture, clutter, actor look."""
    horizon = rng.uniform(0.22, 0.6) * height
    return Scene(
        background=_background(rng, width, height, horizon),
        horizon=horizon,
        look=random_look(rng, height),
        animal=coat(rng),
        prop=_prop_colour(rng),
    )


def _gradient(rows: int, cols: int, top: Colour, bottom: Colour) -> np.ndarray:
    t = np.linspace(0, 1, max(rows, 1), dtype=np.float32)[:rows, None, None]
    col = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return np.broadcast_to(col, (rows, cols, 3))


def _background(rng: np.random.Generator, width: int, height: int, horizon: float) -> np.ndarray:
    """Drawn once per group: two gradients, low-frequency texture, then 2-9 clutter objects."""
    rows, cols = height + 2 * MARGIN, width + 2 * MARGIN
    split = int(round(horizon)) + MARGIN
    img = np.concatenate(
        [_gradient(split, cols, _colour(rng), _colour(rng)), _gradient(rows - split, cols, _colour(rng), _colour(rng))]
    )
    for cells, amp in ((rng.integers(3, 8), rng.uniform(4, 22)), (rng.integers(12, 40), rng.uniform(0, 10))):
        small = rng.standard_normal((cells, cells * cols // rows + 1, 3), dtype=np.float32)
        img = img + amp * cv2.resize(small, (cols, rows), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img, 0, 255).astype(np.uint8)
    paint = Painter(img)
    kinds = list(_CLUTTER.values())
    for _ in range(rng.integers(2, 10)):
        kinds[rng.integers(len(kinds))](paint, rng, width, height, horizon)
    return cv2.GaussianBlur(img, (3, 3), 0)


def _tree(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    x, base, s = rng.uniform(-0.05, 1.05) * w, horizon + rng.uniform(-0.02, 0.1) * h, rng.uniform(0.15, 0.5) * h
    p.line((x, base), (x, base - 0.5 * s), _colour(rng, val=(0.1, 0.5)), 0.07 * s)
    leaves = _colour(rng)
    for _ in range(rng.integers(2, 5)):
        p.circle(
            (x + rng.uniform(-0.15, 0.15) * s, base - rng.uniform(0.5, 0.8) * s), rng.uniform(0.15, 0.28) * s, leaves
        )


def _block(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    x0, bw, bh = rng.uniform(-0.1, 1.0) * w, rng.uniform(0.08, 0.35) * w, rng.uniform(0.1, 0.45) * h
    base = horizon + rng.uniform(0, 0.05) * h
    p.poly([(x0, base), (x0 + bw, base), (x0 + bw, base - bh), (x0, base - bh)], _colour(rng))
    if rng.random() < 0.5:  # windows
        c, step = _colour(rng), rng.uniform(8, 16)
        for wx in np.arange(x0 + 3, x0 + bw - 6, step):
            for wy in np.arange(base - bh + 3, base - 8, step):
                p.poly([(wx, wy), (wx + 0.5 * step, wy), (wx + 0.5 * step, wy + 0.5 * step), (wx, wy + 0.5 * step)], c)


def _bush(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    c = (rng.uniform(-0.05, 1.05) * w, horizon + rng.uniform(0, 0.25) * (h - horizon))
    p.ellipse(c, (rng.uniform(0.04, 0.15) * w, rng.uniform(0.02, 0.07) * h), 0, _colour(rng), 180, 360)


def _pole(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    x, base = rng.uniform(0, 1) * w, horizon + rng.uniform(0, 0.1) * h
    p.line((x, base), (x, base - rng.uniform(0.15, 0.6) * h), _colour(rng), rng.uniform(1, 5))


def _fence(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    """Background fences appear in every class, so a rail alone never means HorseRace."""
    base, tall, c = horizon + rng.uniform(0, 0.08) * h, rng.uniform(0.03, 0.1) * h, _prop_colour(rng)
    x0, x1 = sorted(rng.uniform(-0.1, 1.1, 2) * w)
    p.line((x0, base - tall), (x1, base - tall), c, 2)
    for x in np.arange(x0, x1, rng.uniform(8, 30)):
        p.line((x, base), (x, base - tall), c, 2)


def _hill(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    c = (rng.uniform(0, 1) * w, horizon + 1)
    p.ellipse(c, (rng.uniform(0.2, 0.6) * w, rng.uniform(0.05, 0.2) * h), 0, _colour(rng), 180, 360)


def _blob(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    c = (rng.uniform(0, 1) * w, rng.uniform(0, 1) * horizon)
    p.ellipse(c, (rng.uniform(0.05, 0.2) * w, rng.uniform(0.02, 0.08) * h), rng.uniform(-10, 10), _colour(rng))


def _stripe(p: Painter, rng: np.random.Generator, w: int, h: int, horizon: float) -> None:
    y = horizon + rng.uniform(0.05, 1) * (h - horizon)
    p.line((-MARGIN, y), (w + MARGIN, y + rng.uniform(-0.1, 0.1) * h), _colour(rng), rng.uniform(1, 6))


_CLUTTER = {f.__name__: f for f in (_tree, _block, _bush, _pole, _fence, _hill, _blob, _stripe)}


# ----------------------------------------------------------------------------- people and animals

HEAD_R, NECK, TORSO, THIGH, SHIN, UPPER_ARM, FOREARM = 0.075, 0.11, 0.30, 0.245, 0.245, 0.17, 0.16


@dataclass(frozen=True)
class Body:
    """Joint positions of a person in frame px; limbs are (root, middle joint, end) triples."""

    h: float
    hip: Point
    neck: Point
    head: Point
    near_leg: tuple[Point, Point, Point]
    far_leg: tuple[Point, Point, Point]
    near_arm: tuple[Point, Point, Point]
    far_arm: tuple[Point, Point, Point]
    feet: tuple[float, float] = (1.0, 1.0)  # x-direction of the near and far foot
    torso_w: float = 0.13  # torso thickness / h (wider when seen from the front)


def chain(root: Point, a1: float, a2: float, l1: float, l2: float, f: float) -> tuple[Point, Point, Point]:
    """A two-segment limb from joint angles in degrees from straight down, + = towards facing f."""
    mid = at(root, f * math.radians(a1), l1)
    return root, mid, at(mid, f * math.radians(a2), l2)


def profile_body(hip: Point, h: float, f: int, *, lean: float, legs: tuple, arms: tuple) -> Body:
    """A person seen from the side facing f (+1 = right), from angles: legs/arms = ((near), (far))."""
    up = math.pi - f * math.radians(lean)
    neck = at(hip, up, TORSO * h)
    return Body(
        h=h,
        hip=hip,
        neck=neck,
        head=at(neck, up, NECK * h),
        near_leg=chain(hip, *legs[0], THIGH * h, SHIN * h, f),
        far_leg=chain(hip, *legs[1], THIGH * h, SHIN * h, f),
        near_arm=chain(neck, *arms[0], UPPER_ARM * h, FOREARM * h, f),
        far_arm=chain(neck, *arms[1], UPPER_ARM * h, FOREARM * h, f),
        feet=(f, f),
    )


def draw_person(p: Painter, b: Body, look: Look) -> None:
    """Far limbs (darker), torso, head, near limbs: thick round-capped lines read as a body at 320x240."""
    h = b.h
    arm_w, leg_w = max(2.0, 0.06 * h), max(2.0, 0.08 * h)

    def arm(chain: tuple, k: float) -> None:
        p.polyline(chain, shade(look.shirt, k), arm_w)
        p.circle(chain[2], max(1.2, 0.035 * h), shade(look.skin, k))

    def leg(chain: tuple, foot: float, k: float) -> None:
        p.polyline(chain, shade(look.pants, k), leg_w)
        ankle = chain[2]
        p.line(ankle, (ankle[0] + foot * 0.07 * h, ankle[1] + 0.01 * h), shade(look.hair, k), 0.045 * h)

    arm(b.far_arm, 0.7)
    leg(b.far_leg, b.feet[1], 0.7)
    p.line(b.hip, b.neck, look.shirt, b.torso_w * h)
    p.circle(b.hip, 0.5 * b.torso_w * h, look.pants)
    leg(b.near_leg, b.feet[0], 1.0)
    p.line(b.neck, b.head, look.skin, 0.05 * h)
    p.circle(b.head, HEAD_R * h, look.skin)
    p.ellipse((b.head[0], b.head[1] - 0.01 * h), (HEAD_R * h, HEAD_R * h), 0, look.hair, 180, 360)
    arm(b.near_arm, 1.0)


def draw_dog(p: Painter, x: float, floor: float, length: float, f: int, phase: float, coat: Colour) -> Point:
    """A side-view dog trotting (diagonal leg pairs in phase); returns the collar point for the leash."""
    L, dark = length, shade(coat, 0.7)
    leg = 0.36 * L
    cy = floor - 0.02 * L - leg - 0.06 * L + 0.02 * L * math.sin(2 * phase)

    def legs(root: Point, ph: float, colour: Colour) -> None:
        a = 30 * math.sin(ph)
        knee = at(root, f * math.radians(a), 0.5 * leg)
        p.polyline(
            (root, knee, at(knee, f * math.radians(a - 20 * max(0.0, math.cos(ph))), 0.5 * leg)), colour, 0.08 * L
        )

    front, hind = (x + f * 0.32 * L, cy + 0.06 * L), (x - f * 0.32 * L, cy + 0.06 * L)
    legs(front, phase + math.pi, dark)
    legs(hind, phase, dark)
    wag = math.sin(3 * phase)
    tail = (x - f * 0.46 * L, cy - 0.05 * L)
    p.line(tail, (tail[0] - f * 0.22 * L, tail[1] - 0.2 * L + 0.08 * L * wag), coat, 0.05 * L)
    p.ellipse((x, cy), (0.48 * L, 0.16 * L), 0, coat)
    head = (x + f * 0.56 * L, cy - 0.26 * L)
    p.line((x + f * 0.34 * L, cy - 0.04 * L), head, coat, 0.17 * L)
    p.circle(head, 0.12 * L, coat)
    p.ellipse((head[0] + f * 0.13 * L, head[1] + 0.04 * L), (0.1 * L, 0.055 * L), 0, coat)
    p.circle((head[0] + f * 0.22 * L, head[1] + 0.03 * L), 0.03 * L, (20, 20, 20))
    p.circle((head[0] + f * 0.04 * L, head[1] - 0.03 * L), 0.02 * L, (20, 20, 20))
    ear = (head[0] - f * 0.03 * L, head[1] - 0.08 * L)
    p.poly([ear, (ear[0] - f * 0.1 * L, ear[1] + 0.05 * L), (ear[0] - f * 0.07 * L, ear[1] + 0.2 * L)], dark)
    legs(front, phase, coat)
    legs(hind, phase + math.pi, coat)
    return x + f * 0.44 * L, cy - 0.14 * L


def draw_horse(p: Painter, x: float, ground: float, L: float, f: int, phase: float, coat: Colour, rider: Look) -> None:
    """A side-view galloping horse (four-beat leg phases, folding knees, streaming tail) with a crouched jockey."""
    dark = shade(coat, 0.65)
    upper, lower = 0.27 * L, 0.29 * L
    cy = ground - 0.02 * L - 0.95 * (upper + lower) - 0.08 * L + 0.03 * L * math.sin(2 * phase)
    front_root, hind_root = (x + f * 0.3 * L, cy + 0.08 * L), (x - f * 0.32 * L, cy + 0.06 * L)

    def leg(root: Point, offset: float, front: bool, colour: Colour) -> None:
        ph = phase + 2 * math.pi * offset
        swing = max(0.0, math.cos(ph))
        if front:
            a = 8 + 40 * math.sin(ph)
            b = a - 85 * swing  # the knee folds the hoof back while the leg reaches forward
        else:
            a = -10 + 35 * math.sin(ph)
            b = a + 25 + 35 * swing
        knee = at(root, f * math.radians(a), upper)
        hoof = at(knee, f * math.radians(b), lower)
        p.polyline((root, knee, hoof), colour, 0.085 * L)
        p.circle(hoof, 0.045 * L, (25, 25, 25))

    leg(hind_root, 0.0, False, dark)
    leg(front_root, 0.5, True, dark)
    tail = (x - f * 0.47 * L, cy - 0.08 * L)
    tail_mid = (x - f * 0.68 * L, cy - 0.03 * L + 0.05 * L * math.sin(phase))
    tail_end = (x - f * 0.85 * L, cy + 0.08 * L + 0.06 * L * math.sin(phase + 1))
    p.polyline((tail, tail_mid, tail_end), dark, 0.06 * L)
    p.ellipse((x, cy), (0.45 * L, 0.17 * L), 0, coat)
    p.circle((x - f * 0.3 * L, cy - 0.02 * L), 0.17 * L, coat)
    p.circle((x + f * 0.3 * L, cy), 0.15 * L, coat)
    nod = 0.03 * L * math.sin(phase + 0.5)
    head = (x + f * 0.66 * L, cy - 0.33 * L + nod)
    p.line((x + f * 0.32 * L, cy - 0.02 * L), (x + f * 0.55 * L, cy - 0.36 * L + nod), coat, 0.17 * L)
    p.line((x + f * 0.27 * L, cy - 0.13 * L), (x + f * 0.5 * L, cy - 0.42 * L + nod), dark, 0.05 * L)  # mane
    p.ellipse(head, (0.15 * L, 0.065 * L), f * 40, coat)
    p.line((x + f * 0.56 * L, cy - 0.4 * L + nod), (x + f * 0.54 * L, cy - 0.48 * L + nod), coat, 0.04 * L)  # ear
    cloth = ((-0.14, -0.17), (0.1, -0.17), (0.08, 0.04), (-0.12, 0.04))  # saddle cloth, in the jockey's colour
    p.poly([(x + f * u * L, cy + v * L) for u, v in cloth], rider.pants)
    leg(hind_root, 0.12, False, coat)
    leg(front_root, 0.62, True, coat)
    seat = (x - f * 0.02 * L, cy - 0.2 * L + 0.02 * L * math.sin(2 * phase + 1))
    legs = ((55, -25), (55, -25))
    jockey = profile_body(seat, 0.75 * L, f, lean=62 + 5 * math.sin(2 * phase), legs=legs, arms=((80, 105), (75, 100)))
    draw_person(p, jockey, rider)
