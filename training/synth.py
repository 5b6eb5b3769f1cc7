"""Synthetic UCF50-layout video dataset: `har-demo synth OUT --clips-per-class N`.

Why: the real UCF50 is gigabytes and slow to fetch; tests, CI and quick demos need a small
dataset with the same folder layout (OUT/<Class>/v_<Class>_gXX_cYY.avi) whose classes can
only be told apart by MOTION and shape. So every scene is drawn from the same class-agnostic
distributions (background, clothes, animal and prop colours, camera shake, lighting, noise);
only what moves, and how, depends on the class:

  WalkingWithDog  a walking person (swinging legs and arms) leading a dog on a leash across the frame
  TaiChi          a standing person slowly raising / circling the arms, shifting weight
  Swing           a person sitting on a swing that oscillates like a pendulum under a frame
  HorseRace       2-5 galloping horses with jockeys streaking past along a rail

Like UCF50, clips of one group share the scene and the actor. Every clip's random numbers
come from SeedSequence([seed, class, group, ...]), so the output is identical for any
number of worker processes. No TensorFlow here: this module runs in fresh worker processes.
"""

from __future__ import annotations

import argparse
import colorsys
import json
import math
import multiprocessing
import os
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from har_demo.names import REPORT_CLASSES

GENERATOR_VERSION = 1
WIDTH, HEIGHT, FPS = 320, 240, 25.0
DEFAULT_SECONDS = (2.4, 4.0)  # 60-100 frames at 25 fps
MARGIN = 8  # background drawn this many px beyond every frame edge, room for camera shake
FOURCCS = {  # tried in order: the first codec whose writer opens wins
    ".avi": ("XVID", "MJPG"),  # XVID is what UCF50 ships
    ".mp4": ("mp4v",),
    ".mov": ("mp4v",),
    ".webm": ("VP90", "VP80"),  # browsers play VP9/VP8 WebM
    ".mkv": ("XVID", "MJPG"),
}

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


def _at(p: Point, angle: float, length: float) -> Point:
    """The point `length` px from p in direction `angle` (radians; 0 = straight down, +pi/2 = +x)."""
    return p[0] + length * math.sin(angle), p[1] + length * math.cos(angle)


def _lerp(a: Point, b: Point, t: float) -> Point:
    return a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t


def _two_link(root: Point, tip: Point, l1: float, l2: float, side: float) -> Point:
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


def _shade(c: Colour, k: float) -> Colour:
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


def _coat(rng: np.random.Generator) -> Colour:
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


def _random_look(rng: np.random.Generator, frame_height: int) -> Look:
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
        look=_random_look(rng, height),
        animal=_coat(rng),
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


def _chain(root: Point, a1: float, a2: float, l1: float, l2: float, f: float) -> tuple[Point, Point, Point]:
    """A two-segment limb from joint angles in degrees from straight down, + = towards facing f."""
    mid = _at(root, f * math.radians(a1), l1)
    return root, mid, _at(mid, f * math.radians(a2), l2)


def _profile_body(hip: Point, h: float, f: int, *, lean: float, legs: tuple, arms: tuple) -> Body:
    """A person seen from the side facing f (+1 = right), from angles: legs/arms = ((near), (far))."""
    up = math.pi - f * math.radians(lean)
    neck = _at(hip, up, TORSO * h)
    return Body(
        h=h,
        hip=hip,
        neck=neck,
        head=_at(neck, up, NECK * h),
        near_leg=_chain(hip, *legs[0], THIGH * h, SHIN * h, f),
        far_leg=_chain(hip, *legs[1], THIGH * h, SHIN * h, f),
        near_arm=_chain(neck, *arms[0], UPPER_ARM * h, FOREARM * h, f),
        far_arm=_chain(neck, *arms[1], UPPER_ARM * h, FOREARM * h, f),
        feet=(f, f),
    )


def _draw_person(p: Painter, b: Body, look: Look) -> None:
    """Far limbs (darker), torso, head, near limbs: thick round-capped lines read as a body at 320x240."""
    h = b.h
    arm_w, leg_w = max(2.0, 0.06 * h), max(2.0, 0.08 * h)

    def arm(chain: tuple, k: float) -> None:
        p.polyline(chain, _shade(look.shirt, k), arm_w)
        p.circle(chain[2], max(1.2, 0.035 * h), _shade(look.skin, k))

    def leg(chain: tuple, foot: float, k: float) -> None:
        p.polyline(chain, _shade(look.pants, k), leg_w)
        ankle = chain[2]
        p.line(ankle, (ankle[0] + foot * 0.07 * h, ankle[1] + 0.01 * h), _shade(look.hair, k), 0.045 * h)

    arm(b.far_arm, 0.7)
    leg(b.far_leg, b.feet[1], 0.7)
    p.line(b.hip, b.neck, look.shirt, b.torso_w * h)
    p.circle(b.hip, 0.5 * b.torso_w * h, look.pants)
    leg(b.near_leg, b.feet[0], 1.0)
    p.line(b.neck, b.head, look.skin, 0.05 * h)
    p.circle(b.head, HEAD_R * h, look.skin)
    p.ellipse((b.head[0], b.head[1] - 0.01 * h), (HEAD_R * h, HEAD_R * h), 0, look.hair, 180, 360)
    arm(b.near_arm, 1.0)


def _draw_dog(p: Painter, x: float, floor: float, length: float, f: int, phase: float, coat: Colour) -> Point:
    """A side-view dog trotting (diagonal leg pairs in phase); returns the collar point for the leash."""
    L, dark = length, _shade(coat, 0.7)
    leg = 0.36 * L
    cy = floor - 0.02 * L - leg - 0.06 * L + 0.02 * L * math.sin(2 * phase)

    def legs(root: Point, ph: float, colour: Colour) -> None:
        a = 30 * math.sin(ph)
        knee = _at(root, f * math.radians(a), 0.5 * leg)
        p.polyline(
            (root, knee, _at(knee, f * math.radians(a - 20 * max(0.0, math.cos(ph))), 0.5 * leg)), colour, 0.08 * L
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


def _draw_horse(p: Painter, x: float, ground: float, L: float, f: int, phase: float, coat: Colour, rider: Look) -> None:
    """A side-view galloping horse (four-beat leg phases, folding knees, streaming tail) with a crouched jockey."""
    dark = _shade(coat, 0.65)
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
        knee = _at(root, f * math.radians(a), upper)
        hoof = _at(knee, f * math.radians(b), lower)
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
    jockey = _profile_body(seat, 0.75 * L, f, lean=62 + 5 * math.sin(2 * phase), legs=legs, arms=((80, 105), (75, 100)))
    _draw_person(p, jockey, rider)


# ----------------------------------------------------------------------------- the four classes
# Each setup samples one clip's parameters, draws static props into `base` once, and returns
# draw(painter, t) that paints frame t's moving parts.

Draw = Callable[[Painter, int], None]


def _actor_height(rng: np.random.Generator, scene: Scene) -> float:
    return scene.look.height * rng.uniform(0.88, 1.12)


def _ground_y(rng: np.random.Generator, scene: Scene, above: float) -> float:
    """A ground line below the horizon that leaves `above` px free up to the top edge."""
    lo = max(scene.horizon + 0.06 * scene.height, above + 0.03 * scene.height)
    hi = 0.97 * scene.height
    return float(rng.uniform(min(lo, hi), hi))


def _sign(rng: np.random.Generator) -> int:
    return 1 if rng.random() < 0.5 else -1


def _walking_with_dog(rng: np.random.Generator, scene: Scene, base: Painter, n: int, fps: float) -> Draw:
    h = _actor_height(rng, scene)
    floor, f = _ground_y(rng, scene, h), _sign(rng)
    speed = rng.uniform(0.022, 0.04) * h  # px/frame
    travel = min(speed * n, 0.84 * scene.width)  # cross much of the frame, but stay in view
    speed = travel / n
    x_mid = rng.uniform(0.08 * scene.width + travel / 2, 0.92 * scene.width - travel / 2)
    amp, period, phase0 = rng.uniform(22, 30), 0.85 * h / speed, rng.uniform(0, 2 * math.pi)
    dog_len, ahead = rng.uniform(0.38, 0.55) * h, rng.random() < 0.75
    gap = rng.uniform(0.65, 0.95) * h if ahead else -rng.uniform(0.5, 0.7) * h
    dog_floor = floor + rng.uniform(-0.05, 0.08) * h
    trot = period * rng.uniform(0.45, 0.6)
    sniff_amp, sniff_period, sag = rng.uniform(0, 0.08) * h, rng.uniform(30, 80), rng.uniform(0.05, 0.2)
    leash_arm = (35.0, 60.0) if ahead else (-25.0, -15.0)
    leash = _shade(scene.prop, 0.8)

    def draw(p: Painter, t: int) -> None:
        x = x_mid + f * speed * (t - n / 2)
        ph = phase0 + 2 * math.pi * t / period
        legs = tuple(
            (amp * math.sin(q), amp * math.sin(q) - 3 - 55 * max(0.0, math.cos(q)) ** 1.5) for q in (ph, ph + math.pi)
        )
        swing = -0.8 * amp * math.sin(ph + math.pi)  # the far arm swings against the far leg
        arms = (leash_arm, (swing, swing + 15 + 10 * max(0.0, math.sin(ph))))
        drop = max(THIGH * h * math.cos(math.radians(a)) + SHIN * h * math.cos(math.radians(b)) for a, b in legs)
        body = _profile_body((x, floor - 0.02 * h - drop), h, f, lean=4, legs=legs, arms=arms)
        dog_x = x + f * (gap + sniff_amp * math.sin(2 * math.pi * t / sniff_period))
        dog_phase = phase0 + 2 * math.pi * t / trot
        if dog_floor > floor:  # the dog is nearer the camera: draw it last
            _draw_person(p, body, scene.look)
            collar = _draw_dog(p, dog_x, dog_floor, dog_len, f, dog_phase, scene.animal)
        else:
            collar = _draw_dog(p, dog_x, dog_floor, dog_len, f, dog_phase, scene.animal)
            _draw_person(p, body, scene.look)
        hand = body.near_arm[2]
        mid = _lerp(hand, collar, 0.5)
        mid = (mid[0], mid[1] + sag * abs(collar[0] - hand[0]))
        p.polyline((hand, _lerp(hand, mid, 0.6), mid, _lerp(mid, collar, 0.4), collar), leash, max(1.0, 0.012 * h))

    return draw


def _tai_chi(rng: np.random.Generator, scene: Scene, base: Painter, n: int, fps: float) -> Draw:
    h = _actor_height(rng, scene)
    floor = _ground_y(rng, scene, h)
    x_c = rng.uniform(0.25, 0.75) * scene.width
    frontal = rng.random() < 0.4
    f = _sign(rng)
    stance = rng.uniform(0.12, 0.2) * h if frontal else rng.uniform(0.1, 0.18) * h
    omega = 2 * math.pi / (rng.uniform(2.5, 4.5) * fps)  # one arm cycle takes 2.5-4.5 s: slow
    ph_arm, ph_shift = rng.uniform(0, 2 * math.pi), rng.uniform(0, 2 * math.pi)
    shift, sink = rng.uniform(0.04, 0.08) * h, rng.uniform(0.01, 0.04) * h
    centre, amp = rng.uniform(50, 80), rng.uniform(40, 65)
    lag = math.pi + rng.uniform(-0.3, 0.3) if (frontal and rng.random() < 0.5) else rng.uniform(0.3, 1.5)
    elbow = rng.uniform(10, 40)
    leg_len = (THIGH + SHIN) * h
    ankle_y = floor - 0.015 * h
    lead = 1 if frontal else f  # frontal: right/left foot; profile: front/back foot
    feet = ((x_c + lead * stance, ankle_y), (x_c - lead * stance, ankle_y))
    hip_y0 = ankle_y - 0.97 * math.sqrt(max(leg_len**2 - stance**2, 1.0))

    def draw(p: Painter, t: int) -> None:
        w = math.sin(omega * t + ph_shift)
        hip = (x_c + shift * w, hip_y0 + sink * (1 - math.cos(omega * t + ph_shift)) / 2)
        a1 = centre + amp * math.sin(omega * t + ph_arm)
        a2 = centre + amp * math.sin(omega * t + ph_arm + lag)
        if frontal:  # limbs spread outwards to both sides; knees bulge outwards
            neck = (hip[0], hip[1] - TORSO * h)
            sh = 0.09 * h
            body = Body(
                h=h,
                hip=hip,
                neck=neck,
                head=(neck[0], neck[1] - NECK * h),
                near_leg=(hip, _two_link(hip, feet[0], THIGH * h, SHIN * h, 1), feet[0]),
                far_leg=(hip, _two_link(hip, feet[1], THIGH * h, SHIN * h, -1), feet[1]),
                near_arm=_chain((neck[0] + sh, neck[1] + 0.02 * h), a1, a1 + elbow, UPPER_ARM * h, FOREARM * h, 1),
                far_arm=_chain((neck[0] - sh, neck[1] + 0.02 * h), a2, a2 + elbow, UPPER_ARM * h, FOREARM * h, -1),
                feet=(1, -1),
                torso_w=0.2,
            )
        else:
            body = _profile_body(
                hip, h, f, lean=2 + 3 * w, legs=((0, 0), (0, 0)), arms=((a1, a1 + elbow), (a2, a2 + elbow))
            )
            body = replace(  # planted feet: knees from inverse kinematics, bulging forwards
                body,
                near_leg=(hip, _two_link(hip, feet[0], THIGH * h, SHIN * h, f), feet[0]),
                far_leg=(hip, _two_link(hip, feet[1], THIGH * h, SHIN * h, f), feet[1]),
            )
        _draw_person(p, body, scene.look)

    return draw


def _swing(rng: np.random.Generator, scene: Scene, base: Painter, n: int, fps: float) -> Draw:
    h = _actor_height(rng, scene)
    rope = h * rng.uniform(0.85, 1.15)
    rise = rng.uniform(0.15, 0.3)  # the far A-frame's top is this * rope higher up (perspective)
    room = 0.9 * scene.height / ((1 + rise) * rope + 0.34 * h)
    h, rope = h * min(1.0, room), rope * min(1.0, room)
    floor = _ground_y(rng, scene, (1 + rise) * rope + 0.34 * h)  # the whole frame stays in view
    pivot0 = (rng.uniform(0.3, 0.7) * scene.width, floor - 0.3 * h - rope)
    depth = (_sign(rng) * rng.uniform(0.3, 0.55) * rope, -rise * rope)
    spread, beam = rng.uniform(0.45, 0.65) * rope, max(2.0, 0.05 * h)
    for k, frame_pivot in (
        (0.75, (pivot0[0] + depth[0], pivot0[1] + depth[1])),
        (1.0, pivot0),
    ):  # far frame, near frame
        for side in (-1, 1):
            foot = (frame_pivot[0] + side * spread, floor + (depth[1] if k < 1 else 0))
            base.line(frame_pivot, foot, _shade(scene.prop, k), beam)
    base.line(pivot0, (pivot0[0] + depth[0], pivot0[1] + depth[1]), scene.prop, beam * 1.2)
    pivot = _lerp(pivot0, (pivot0[0] + depth[0], pivot0[1] + depth[1]), rng.uniform(0.35, 0.65))
    theta0, period = math.radians(rng.uniform(18, 42)), rng.uniform(1.8, 3.0) * fps
    ph0, f = rng.uniform(0, 2 * math.pi), _sign(rng)
    rope_colour, seat_colour = _shade(scene.prop, 0.6), _shade(scene.prop, 0.8)
    other = (0.12 * depth[0], 0.12 * depth[1])

    def draw(p: Painter, t: int) -> None:
        wt = ph0 + 2 * math.pi * t / period
        theta = theta0 * math.sin(wt)  # pendulum angle, + swings towards +x
        q = f * math.cos(wt)  # +1 while swinging forward (pump: legs out, lean back)
        seat = _at(pivot, theta, rope)
        far_seat, far_pivot = (seat[0] + other[0], seat[1] + other[1]), (pivot[0] + other[0], pivot[1] + other[1])
        p.line(far_pivot, far_seat, rope_colour, max(1.0, 0.015 * h))
        hip = _at(seat, theta + math.pi, 0.04 * h)
        up = theta + math.pi + f * math.radians(18 + 12 * q)  # torso leans back along the rope
        neck = _at(hip, up, TORSO * h)
        thigh = theta + f * math.radians(90 + 10 * q)
        knee = _at(hip, thigh, THIGH * h)
        shin = theta + f * math.radians(35 + 40 * q)
        near_leg = (hip, knee, _at(knee, shin, SHIN * h))
        grip = _at(pivot, theta, rope - 0.3 * h)
        far_grip = (grip[0] + other[0], grip[1] + other[1])
        near_arm = (neck, _two_link(neck, grip, UPPER_ARM * h, FOREARM * h, -f), grip)
        far_arm = (neck, _two_link(neck, far_grip, UPPER_ARM * h, FOREARM * h, -f), far_grip)
        far_knee = _at(hip, thigh - f * 0.08, THIGH * h)  # the other leg, a little out of step
        far_leg = (hip, far_knee, _at(far_knee, shin - f * 0.1, SHIN * h))
        body = Body(h, hip, neck, _at(neck, up, NECK * h), near_leg, far_leg, near_arm, far_arm, feet=(f, f))
        _draw_person(p, body, scene.look)
        p.line(_at(seat, thigh, -0.07 * h), _at(seat, thigh, 0.13 * h), seat_colour, max(2.0, 0.04 * h))
        p.line(pivot, seat, rope_colour, max(1.0, 0.015 * h))

    return draw


def _horse_race(rng: np.random.Generator, scene: Scene, base: Painter, n: int, fps: float) -> Draw:
    count = int(rng.integers(2, 6))
    L = _actor_height(rng, scene) * rng.uniform(0.6, 0.8)  # horse body length
    gap = rng.uniform(0.08, 0.16) * L  # lanes: farther ones higher up and smaller
    scales = [1 + 0.06 * k for k in range(count)]
    need = 1.25 * L * scales[-1] + (count - 1) * gap
    L, gap = L * min(1.0, 0.9 * scene.height / need), gap * min(1.0, 0.9 * scene.height / need)
    near = _ground_y(rng, scene, 1.25 * L * scales[-1] + (count - 1) * gap)
    grounds = [near - (count - 1 - k) * gap for k in range(count)]
    f = _sign(rng)
    v = rng.uniform(0.11, 0.18) * L  # px/frame: several times the walker's speed
    stride = rng.uniform(9, 13)  # frames per gallop stride, ~2 strides/s
    span = scene.width + 2 * L * scales[-1]  # horses leaving one side come back on the other
    # strung out along the loop (in random lane order), so some horse is always in view
    spacing = (np.arange(count) + rng.uniform(-0.25, 0.25, count)) * span / count
    x0 = rng.uniform(0.1, 0.9) * scene.width - f * spacing[rng.permutation(count)]
    speeds = v * rng.uniform(0.93, 1.07, count) * np.array(scales)
    phases = rng.uniform(0, 2 * math.pi, count)
    coats = [scene.animal] + [_coat(rng) for _ in range(count - 1)]
    riders = [scene.look] + [_random_look(rng, scene.height) for _ in range(count - 1)]

    rail_y, rail_h = grounds[0] - rng.uniform(0.05, 0.15) * L, rng.uniform(0.45, 0.6) * L
    rail_w = max(2.0, 0.045 * L)
    for x in np.arange(-MARGIN - rng.uniform(0, 40), scene.width + MARGIN, rng.uniform(0.5, 0.9) * L):
        base.line((x, rail_y), (x, rail_y - rail_h), _shade(scene.prop, 0.8), rail_w * 0.8)
    base.line((-MARGIN, rail_y - rail_h), (scene.width + MARGIN, rail_y - rail_h), scene.prop, rail_w)
    front_rail = rng.random() < 0.35
    front_y = near + rng.uniform(0.05, 0.12) * L

    def draw(p: Painter, t: int) -> None:
        for k in range(count):
            x = (x0[k] + f * speeds[k] * t + L * scales[-1]) % span - L * scales[-1]
            _draw_horse(p, x, grounds[k], L * scales[k], f, phases[k] + 2 * math.pi * t / stride, coats[k], riders[k])
        if front_rail:
            p.line((-MARGIN, front_y - 0.4 * L), (scene.width + MARGIN, front_y - 0.4 * L), scene.prop, rail_w)

    return draw


_SETUPS: dict[str, Callable[..., Draw]] = {
    "WalkingWithDog": _walking_with_dog,
    "TaiChi": _tai_chi,
    "Swing": _swing,
    "HorseRace": _horse_race,
}


def _check_class(name: str) -> None:
    if name not in _SETUPS:
        raise ValueError(f"unknown class {name!r}: the synthetic generator can only draw {', '.join(REPORT_CLASSES)}")


# ----------------------------------------------------------------------------- clips


def render_clip(
    class_name: str,
    rng: np.random.Generator,
    *,
    scene: Scene | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: float = FPS,
    seconds: float | tuple[float, float] = DEFAULT_SECONDS,
    nuisance: bool = True,
) -> np.ndarray:
    """Render one clip as uint8 BGR frames (T, H, W, 3); T = fps * uniform(seconds).

    `nuisance=False` drops camera shake, lighting drift and pixel noise (handy for tests and
    debugging); the random numbers are still drawn, so the actors move exactly the same.
    """
    return _render(class_name, rng, scene, width, height, fps, seconds, nuisance, None)


def render_clip_with_boxes(
    class_name: str,
    rng: np.random.Generator,
    *,
    scene: Scene | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
    fps: float = FPS,
    seconds: float | tuple[float, float] = DEFAULT_SECONDS,
    nuisance: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """`render_clip`'s frames (identical, same random numbers) plus where the actor is in each one.

    Why: explanations (Grad-CAM) can then be checked against ground truth. The box of frame t is
    (x0, y0, x1, y1) in frame pixels, x1/y1 exclusive, around every pixel that the moving parts
    (people, animals, swing ropes) changed from the static background, after camera shake;
    (-1, -1, -1, -1) where nothing moving is in view.
    """
    boxes: list[tuple[int, int, int, int]] = []
    frames = _render(class_name, rng, scene, width, height, fps, seconds, nuisance, boxes)
    return frames, np.asarray(boxes, dtype=np.int32).reshape(-1, 4)


def _moving_box(canvas: np.ndarray, base: np.ndarray, dx: int, dy: int, width: int, height: int) -> tuple:
    """Bounding box of the pixels where canvas differs from base, in the frame cut at (dx, dy)."""
    view = (slice(dy, dy + height), slice(dx, dx + width))
    changed = np.any(canvas[view] != base[view], axis=-1)
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if not len(rows):
        return (-1, -1, -1, -1)
    return (int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1)


def _render(
    class_name: str,
    rng: np.random.Generator,
    scene: Scene | None,
    width: int,
    height: int,
    fps: float,
    seconds: float | tuple[float, float],
    nuisance: bool,
    boxes: list | None,
) -> np.ndarray:
    """render_clip's body; appends each frame's actor box to `boxes` when it is a list."""
    _check_class(class_name)
    if scene is None:
        scene = make_scene(rng, width, height)
    elif (scene.width, scene.height) != (width, height):
        raise ValueError(f"scene is {scene.width}x{scene.height}, clip is {width}x{height}")
    lo, hi = (seconds, seconds) if isinstance(seconds, (int, float)) else seconds
    n = max(2, int(round(rng.uniform(lo, hi) * fps)))
    base = scene.background.copy()
    draw = _SETUPS[class_name](rng, scene, Painter(base), n, fps)
    shake, (alpha, beta) = _camera_shake(rng, n), _lighting(rng, n, fps)
    noise_pos, noise_neg, noise_at = _noise(rng, n, width, height)

    frames = np.empty((n, height, width, 3), np.uint8)
    canvas = np.empty_like(base)
    paint = Painter(canvas)
    for t in range(n):
        np.copyto(canvas, base)
        draw(paint, t)
        if boxes is not None:
            dx, dy = (shake[t] + MARGIN) if nuisance else (MARGIN, MARGIN)
            boxes.append(_moving_box(canvas, base, int(dx), int(dy), width, height))
        if not nuisance:
            frames[t] = canvas[MARGIN : MARGIN + height, MARGIN : MARGIN + width]
            continue
        dx, dy = shake[t] + MARGIN
        out = frames[t]
        cv2.convertScaleAbs(canvas[dy : dy + height, dx : dx + width], dst=out, alpha=alpha[t], beta=beta[t])
        ox, oy = noise_at[t]
        cv2.add(out, noise_pos[oy : oy + height, ox : ox + width], dst=out)
        cv2.subtract(out, noise_neg[oy : oy + height, ox : ox + width], dst=out)
    return frames


def _camera_shake(rng: np.random.Generator, n: int) -> np.ndarray:
    """(n, 2) integer frame offsets: smooth hand-held wobble (AR(1)) plus a slow drift, within MARGIN."""
    amp, drift = rng.uniform(0, 2.5), rng.uniform(-1, 1, 2) * rng.uniform(0, 4)
    steps, walk, acc = rng.standard_normal((n, 2)), np.empty((n, 2)), np.zeros(2)
    for t in range(n):
        acc = 0.8 * acc + steps[t]
        walk[t] = acc
    path = walk * amp / 1.67 + np.linspace(-1, 1, n)[:, None] * drift  # 1.67 = std of this AR(1)
    return np.clip(np.round(path), -MARGIN, MARGIN).astype(int)


def _lighting(rng: np.random.Generator, n: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame contrast (alpha) and brightness (beta): a random level plus a slow sinusoidal drift."""
    t = np.arange(n) / fps

    def drift(level: float, swing: float) -> np.ndarray:
        return level + swing * np.sin(2 * np.pi * t / rng.uniform(1.5, 6) + rng.uniform(0, 2 * np.pi))

    return drift(rng.uniform(0.8, 1.15), rng.uniform(0, 0.12)), drift(rng.uniform(-25, 25), rng.uniform(0, 18))


def _noise(rng: np.random.Generator, n: int, width: int, height: int, pad: int = 32) -> tuple[np.ndarray, ...]:
    """One Gaussian noise tile per clip, split into +/- uint8 parts; each frame reads it at a random offset."""
    tile = rng.standard_normal((height + pad, width + pad, 3), dtype=np.float32) * rng.uniform(1.5, 7)
    pos = np.clip(tile, 0, 255).astype(np.uint8)
    neg = np.clip(-tile, 0, 255).astype(np.uint8)
    return pos, neg, rng.integers(0, pad + 1, (n, 2))


def write_video(path: Path, frames: np.ndarray, fps: float = FPS) -> None:
    """Encode BGR uint8 frames (T, H, W, 3); the extension picks the codec (see FOURCCS), with fallbacks."""
    path = Path(path)
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8 or len(frames) == 0:
        raise ValueError(f"expected non-empty uint8 frames (T, H, W, 3), got {frames.dtype} {frames.shape}")
    ext = path.suffix.lower()
    if ext not in FOURCCS:
        raise ValueError(f"unsupported video extension {ext!r}; use one of {', '.join(FOURCCS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    size = (frames.shape[2], frames.shape[1])
    for code in FOURCCS[ext]:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*code), float(fps), size, True)
        if writer.isOpened():
            try:
                for frame in frames:
                    writer.write(np.ascontiguousarray(frame))
            finally:
                writer.release()
            return
        writer.release()
    path.unlink(missing_ok=True)
    raise RuntimeError(
        f"OpenCV could not open a video writer for {path} with fourcc {' or '.join(FOURCCS[ext])}; "
        "is this OpenCV build missing FFmpeg? Try --ext .avi (MJPG needs no FFmpeg)."
    )


# ----------------------------------------------------------------------------- dataset


@dataclass(frozen=True)
class SynthSummary:
    """What write_synthetic_dataset produced."""

    out: Path
    paths: tuple[Path, ...]
    counts: dict[str, int]
    groups_per_class: int
    seed: int
    seconds: float  # wall-clock time taken

    def line(self) -> str:
        per_class = ", ".join(f"{c} {k}" for c, k in self.counts.items())
        return (
            f"synth: wrote {len(self.paths)} clips ({per_class}; groups per class {self.groups_per_class}, "
            f"seed {self.seed}) to {self.out} in {self.seconds:.1f}s"
        )


@dataclass(frozen=True)
class _Job:
    class_name: str
    group: int  # 0-based
    clip: int  # 0-based, within the group
    path: Path
    seed: int
    seconds: tuple[float, float]


def _rng(seed: int, class_name: str, group: int, purpose: int, clip: int) -> np.random.Generator:
    """Independent, order-free random stream per (seed, class, group, purpose, clip); crc32 is stable across processes."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(class_name.encode()), group, purpose, clip]))


def _run_job(job: _Job) -> Path:
    scene = make_scene(_rng(job.seed, job.class_name, job.group, 0, 0))
    rng = _rng(job.seed, job.class_name, job.group, 1, job.clip)
    frames = render_clip(job.class_name, rng, scene=scene, seconds=job.seconds)
    write_video(job.path, frames, FPS)
    return job.path


def _init_worker() -> None:
    cv2.setNumThreads(1)  # one process per core already; OpenCV threads would only fight over them


def _default_workers(jobs: int) -> int:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, jobs))


def write_synthetic_dataset(
    out: Path,
    clips_per_class: int,
    *,
    classes: Sequence[str] = REPORT_CLASSES,
    seed: int = 27,
    groups_per_class: int | None = None,
    ext: str = ".avi",
    workers: int | None = None,
    progress: bool = True,
    seconds: tuple[float, float] = DEFAULT_SECONDS,
) -> SynthSummary:
    """Write OUT/<Class>/v_<Class>_gXX_cYY<ext> plus OUT/SYNTHETIC.json; clips go round-robin over groups.

    workers=1 renders in this process; more use spawned processes (safe with any parent state).
    """
    start = time.perf_counter()
    out, classes = Path(out), list(dict.fromkeys(classes))
    for name in classes:
        _check_class(name)
    ext = ext if ext.startswith(".") else "." + ext
    if ext.lower() not in FOURCCS:
        raise ValueError(f"unsupported video extension {ext!r}; use one of {', '.join(FOURCCS)}")
    if clips_per_class < 1 or seed < 0 or not classes:
        raise ValueError("need clips_per_class >= 1, seed >= 0 and at least one class")
    groups = groups_per_class or max(1, min(25, math.ceil(clips_per_class / 4)))
    lo, hi = float(seconds[0]), float(seconds[1])
    if not 0 < lo <= hi:
        raise ValueError(f"seconds must satisfy 0 < min <= max, got {seconds}")
    jobs = []
    for name in classes:
        for i in range(clips_per_class):
            group, clip = i % groups, i // groups  # round-robin, so every group gets clips early
            path = out / name / f"v_{name}_g{group + 1:02d}_c{clip + 1:02d}{ext}"
            jobs.append(_Job(name, group, clip, path, seed, (lo, hi)))
    for name in classes:
        (out / name).mkdir(parents=True, exist_ok=True)

    workers = workers or _default_workers(len(jobs))
    bar = tqdm(total=len(jobs), desc="synth", unit="clip", disable=not progress)
    if workers <= 1:
        for job in jobs:
            _run_job(job)
            bar.update()
    else:
        with ProcessPoolExecutor(
            workers, mp_context=multiprocessing.get_context("spawn"), initializer=_init_worker
        ) as pool:
            futures = [pool.submit(_run_job, job) for job in jobs]
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.update()
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
    bar.close()

    counts = {name: clips_per_class for name in classes}
    meta = {
        "synthetic": True,
        "generator": "har_demo.training.synth",
        "version": GENERATOR_VERSION,
        "seed": seed,
        "classes": classes,
        "clips_per_class": clips_per_class,
        "groups_per_class": groups,
        "counts": counts,
        "total_clips": len(jobs),
        "ext": ext,
        "width": WIDTH,
        "height": HEIGHT,
        "fps": FPS,
        "seconds": [lo, hi],
    }
    (out / "SYNTHETIC.json").write_text(json.dumps(meta, indent=2) + "\n")
    return SynthSummary(out, tuple(j.path for j in jobs), counts, groups, seed, time.perf_counter() - start)


# ----------------------------------------------------------------------------- CLI


def _class_list(text: str) -> list[str]:
    names = [c.strip() for c in text.split(",") if c.strip()]
    unknown = [c for c in names if c not in _SETUPS]
    if unknown or not names:
        what = ", ".join(unknown) or "(none)"
        raise argparse.ArgumentTypeError(f"unknown class(es) {what}; choose from {','.join(REPORT_CLASSES)}")
    return names


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("out", type=Path, metavar="OUT", help="output folder (UCF50 layout: OUT/<Class>/v_<Class>_gXX_cYY.avi)")
    add("--clips-per-class", type=int, default=20, help="clips per class (default 20)")
    add(
        "--classes",
        type=_class_list,
        default=",".join(REPORT_CLASSES),
        help="comma-separated classes (default: all four)",
    )
    add("--groups-per-class", type=int, default=None, help="UCF50-style groups (default: ceil(clips/4), at most 25)")
    add("--seed", type=int, default=27, help="dataset seed (default 27)")
    add(
        "--ext",
        default=".avi",
        choices=sorted(FOURCCS),
        help="container: .avi = XVID (default), .mp4, .webm = VP9, .mkv",
    )
    add("--workers", type=int, default=None, help="processes (default: one per available core)")
    add(
        "--seconds",
        type=float,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=DEFAULT_SECONDS,
        help="clip length range (default 2.4 4.0)",
    )
    add("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    summary = write_synthetic_dataset(
        args.out,
        args.clips_per_class,
        classes=args.classes,
        seed=args.seed,
        groups_per_class=args.groups_per_class,
        ext=args.ext,
        workers=args.workers,
        progress=not args.no_progress,
        seconds=tuple(args.seconds),
    )
    print(summary.line())
    return 0
