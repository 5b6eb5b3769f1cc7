"""The four classes' motions: each samples one clip's parameters, draws its static props once, and
returns draw(painter, t) that paints frame t's moving parts."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from har_demo.names import REPORT_CLASSES
from har_demo.training.synth_drawing import (
    FOREARM,
    MARGIN,
    NECK,
    SHIN,
    THIGH,
    TORSO,
    UPPER_ARM,
    Body,
    Painter,
    Scene,
    at,
    chain,
    coat,
    draw_dog,
    draw_horse,
    draw_person,
    lerp,
    profile_body,
    random_look,
    shade,
    two_link,
)

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
    leash = shade(scene.prop, 0.8)

    def draw(p: Painter, t: int) -> None:
        x = x_mid + f * speed * (t - n / 2)
        ph = phase0 + 2 * math.pi * t / period
        legs = tuple(
            (amp * math.sin(q), amp * math.sin(q) - 3 - 55 * max(0.0, math.cos(q)) ** 1.5) for q in (ph, ph + math.pi)
        )
        swing = -0.8 * amp * math.sin(ph + math.pi)  # the far arm swings against the far leg
        arms = (leash_arm, (swing, swing + 15 + 10 * max(0.0, math.sin(ph))))
        drop = max(THIGH * h * math.cos(math.radians(a)) + SHIN * h * math.cos(math.radians(b)) for a, b in legs)
        body = profile_body((x, floor - 0.02 * h - drop), h, f, lean=4, legs=legs, arms=arms)
        dog_x = x + f * (gap + sniff_amp * math.sin(2 * math.pi * t / sniff_period))
        dog_phase = phase0 + 2 * math.pi * t / trot
        if dog_floor > floor:  # the dog is nearer the camera: draw it last
            draw_person(p, body, scene.look)
            collar = draw_dog(p, dog_x, dog_floor, dog_len, f, dog_phase, scene.animal)
        else:
            collar = draw_dog(p, dog_x, dog_floor, dog_len, f, dog_phase, scene.animal)
            draw_person(p, body, scene.look)
        hand = body.near_arm[2]
        mid = lerp(hand, collar, 0.5)
        mid = (mid[0], mid[1] + sag * abs(collar[0] - hand[0]))
        p.polyline((hand, lerp(hand, mid, 0.6), mid, lerp(mid, collar, 0.4), collar), leash, max(1.0, 0.012 * h))

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
                near_leg=(hip, two_link(hip, feet[0], THIGH * h, SHIN * h, 1), feet[0]),
                far_leg=(hip, two_link(hip, feet[1], THIGH * h, SHIN * h, -1), feet[1]),
                near_arm=chain((neck[0] + sh, neck[1] + 0.02 * h), a1, a1 + elbow, UPPER_ARM * h, FOREARM * h, 1),
                far_arm=chain((neck[0] - sh, neck[1] + 0.02 * h), a2, a2 + elbow, UPPER_ARM * h, FOREARM * h, -1),
                feet=(1, -1),
                torso_w=0.2,
            )
        else:
            body = profile_body(
                hip, h, f, lean=2 + 3 * w, legs=((0, 0), (0, 0)), arms=((a1, a1 + elbow), (a2, a2 + elbow))
            )
            body = replace(  # planted feet: knees from inverse kinematics, bulging forwards
                body,
                near_leg=(hip, two_link(hip, feet[0], THIGH * h, SHIN * h, f), feet[0]),
                far_leg=(hip, two_link(hip, feet[1], THIGH * h, SHIN * h, f), feet[1]),
            )
        draw_person(p, body, scene.look)

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
            base.line(frame_pivot, foot, shade(scene.prop, k), beam)
    base.line(pivot0, (pivot0[0] + depth[0], pivot0[1] + depth[1]), scene.prop, beam * 1.2)
    pivot = lerp(pivot0, (pivot0[0] + depth[0], pivot0[1] + depth[1]), rng.uniform(0.35, 0.65))
    theta0, period = math.radians(rng.uniform(18, 42)), rng.uniform(1.8, 3.0) * fps
    ph0, f = rng.uniform(0, 2 * math.pi), _sign(rng)
    rope_colour, seat_colour = shade(scene.prop, 0.6), shade(scene.prop, 0.8)
    other = (0.12 * depth[0], 0.12 * depth[1])

    def draw(p: Painter, t: int) -> None:
        wt = ph0 + 2 * math.pi * t / period
        theta = theta0 * math.sin(wt)  # pendulum angle, + swings towards +x
        q = f * math.cos(wt)  # +1 while swinging forward (pump: legs out, lean back)
        seat = at(pivot, theta, rope)
        far_seat, far_pivot = (seat[0] + other[0], seat[1] + other[1]), (pivot[0] + other[0], pivot[1] + other[1])
        p.line(far_pivot, far_seat, rope_colour, max(1.0, 0.015 * h))
        hip = at(seat, theta + math.pi, 0.04 * h)
        up = theta + math.pi + f * math.radians(18 + 12 * q)  # torso leans back along the rope
        neck = at(hip, up, TORSO * h)
        thigh = theta + f * math.radians(90 + 10 * q)
        knee = at(hip, thigh, THIGH * h)
        shin = theta + f * math.radians(35 + 40 * q)
        near_leg = (hip, knee, at(knee, shin, SHIN * h))
        grip = at(pivot, theta, rope - 0.3 * h)
        far_grip = (grip[0] + other[0], grip[1] + other[1])
        near_arm = (neck, two_link(neck, grip, UPPER_ARM * h, FOREARM * h, -f), grip)
        far_arm = (neck, two_link(neck, far_grip, UPPER_ARM * h, FOREARM * h, -f), far_grip)
        far_knee = at(hip, thigh - f * 0.08, THIGH * h)  # the other leg, a little out of step
        far_leg = (hip, far_knee, at(far_knee, shin - f * 0.1, SHIN * h))
        body = Body(h, hip, neck, at(neck, up, NECK * h), near_leg, far_leg, near_arm, far_arm, feet=(f, f))
        draw_person(p, body, scene.look)
        p.line(at(seat, thigh, -0.07 * h), at(seat, thigh, 0.13 * h), seat_colour, max(2.0, 0.04 * h))
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
    coats = [scene.animal] + [coat(rng) for _ in range(count - 1)]
    riders = [scene.look] + [random_look(rng, scene.height) for _ in range(count - 1)]

    rail_y, rail_h = grounds[0] - rng.uniform(0.05, 0.15) * L, rng.uniform(0.45, 0.6) * L
    rail_w = max(2.0, 0.045 * L)
    for x in np.arange(-MARGIN - rng.uniform(0, 40), scene.width + MARGIN, rng.uniform(0.5, 0.9) * L):
        base.line((x, rail_y), (x, rail_y - rail_h), shade(scene.prop, 0.8), rail_w * 0.8)
    base.line((-MARGIN, rail_y - rail_h), (scene.width + MARGIN, rail_y - rail_h), scene.prop, rail_w)
    front_rail = rng.random() < 0.35
    front_y = near + rng.uniform(0.05, 0.12) * L

    def draw(p: Painter, t: int) -> None:
        for k in range(count):
            x = (x0[k] + f * speeds[k] * t + L * scales[-1]) % span - L * scales[-1]
            draw_horse(p, x, grounds[k], L * scales[k], f, phases[k] + 2 * math.pi * t / stride, coats[k], riders[k])
        if front_rail:
            p.line((-MARGIN, front_y - 0.4 * L), (scene.width + MARGIN, front_y - 0.4 * L), scene.prop, rail_w)

    return draw


SETUPS: dict[str, Callable[..., Draw]] = {
    "WalkingWithDog": _walking_with_dog,
    "TaiChi": _tai_chi,
    "Swing": _swing,
    "HorseRace": _horse_race,
}


def check_class(name: str) -> None:
    if name not in SETUPS:
        raise ValueError(f"unknown class {name!r}: the synthetic generator can only draw {', '.join(REPORT_CLASSES)}")
