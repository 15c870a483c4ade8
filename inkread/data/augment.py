"""Light, realistic variation of line images during training.

Each change mimics something that differs between scans and hands: slant, size, baseline
tilt, stroke width, ink contrast, blur and noise. It works on 8-bit sized lines and keeps
their height.
"""

from __future__ import annotations

import cv2
import numpy as np


def augment(line: np.ndarray, rng: np.random.Generator, keep_width: bool = False) -> np.ndarray:
    h, w = line.shape
    paper = float(np.median(line))
    shear = rng.uniform(-0.35, 0.35)  # slant, as tan of the angle
    stretch = 1.0 if keep_width else rng.uniform(0.85, 1.15)
    scale_y = rng.uniform(0.85, 1.05)
    angle = np.deg2rad(rng.uniform(-1.0, 1.0))
    # Map (x, y) about the line's centre: rotate, shear, scale; then place in the new canvas.
    new_w = w if keep_width else max(8, round(w * stretch + abs(shear) * h))
    a = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    a = a @ np.array([[stretch, -shear], [0.0, scale_y]])
    centre_in = np.array([w / 2, h / 2])
    centre_out = np.array([new_w / 2, h / 2 + rng.uniform(-0.05, 0.05) * h])
    m = np.hstack([a, (centre_out - a @ centre_in)[:, None]])
    out = cv2.warpAffine(
        line,
        m,
        (new_w, h),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=paper,
    )

    r = rng.random()
    if r < 0.15:
        out = cv2.erode(out, np.ones((2, 2), np.uint8))  # thicker ink (ink is dark)
    elif r < 0.3:
        out = cv2.dilate(out, np.ones((2, 2), np.uint8))  # thinner ink
    if rng.random() < 0.2:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.0))

    f = out.astype(np.float32)
    contrast = rng.uniform(0.6, 1.15)
    f = paper + (f - paper) * contrast + rng.uniform(-15, 15)
    if rng.random() < 0.3:
        f += rng.normal(0.0, rng.uniform(2, 10), f.shape)
    return np.clip(f, 0, 255).astype(np.uint8)
