#!/usr/bin/env python3
"""Generate N realistic scan pages for the pipeline benchmark: A4 at 300 dpi (2480x3508), RGB,
baseline JPEG quality 85 with a JFIF density of 300 dpi. Each page is off-white paper with faint
sensor noise, a coloured letterhead, lines of dark "text" strokes and a stamp, so that it compresses
like a real scanned form (a few hundred KB). Deterministic per (seed, index).

usage: make_pages.py OUTDIR N [--seed S] [--quality Q]
Prints the total byte count on stdout.
"""
import argparse, os, random, sys

from PIL import Image, ImageDraw, ImageFilter

W, H, DPI = 2480, 3508, 300


def noise_layer(rng):
    # Gaussian noise made once at reduced size per page and upscaled: grain like a scanner's,
    # fast to produce, and varying per page.
    small = Image.effect_noise((W // 2, H // 2), 6 + rng.random() * 3)
    return small.resize((W, H), Image.NEAREST)


def page(rng):
    paper = (246 + rng.randrange(6), 244 + rng.randrange(6), 236 + rng.randrange(8))
    img = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(img)
    # letterhead band and a logo block in colour
    d.rectangle([150, 140, W - 150, 300], fill=(30 + rng.randrange(40), 70, 140 + rng.randrange(60)))
    d.rectangle([170, 330, 520, 560], outline=(40, 40, 40), width=6)
    # lines of "text": words as dark strokes with ascender noise
    y = 650
    while y < H - 350:
        x = 180
        line_end = W - 180 - rng.randrange(600) if rng.random() < 0.3 else W - 180
        while x < line_end:
            w = 30 + rng.randrange(220)
            ink = 20 + rng.randrange(40)
            d.rectangle([x, y, min(x + w, line_end), y + 18 + rng.randrange(8)], fill=(ink, ink, ink + 10))
            for _ in range(w // 40):
                cx = x + rng.randrange(max(w, 1))
                d.line([cx, y - 10, cx, y + 32], fill=(ink, ink, ink), width=3)
            x += w + 22 + rng.randrange(16)
        y += 70 + (rng.randrange(90) if rng.random() < 0.15 else 0)
        if rng.random() < 0.04:  # ruled table
            for k in range(6):
                d.line([180, y + k * 60, W - 180, y + k * 60], fill=(60, 60, 60), width=3)
            y += 380
    # a red hanko-like stamp
    sx, sy = W - 600 - rng.randrange(200), H - 700 - rng.randrange(300)
    d.ellipse([sx, sy, sx + 260, sy + 260], outline=(200, 30, 40), width=14)
    d.rectangle([sx + 80, sy + 60, sx + 180, sy + 200], fill=(205, 40, 45))
    img = img.filter(ImageFilter.GaussianBlur(0.8))  # optics: soften edges like a real scan
    n = noise_layer(rng)
    img = Image.merge("RGB", [Image.blend(c, n, 0.035) for c in img.split()])
    return img


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("outdir")
    ap.add_argument("n", type=int)
    ap.add_argument("--seed", type=int, default=3161)
    ap.add_argument("--quality", type=int, default=85)
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    total = 0
    for i in range(a.n):
        path = os.path.join(a.outdir, "page-%05d.jpg" % i)
        if not os.path.exists(path):
            rng = random.Random(a.seed * 1_000_003 + i)
            page(rng).save(path, "JPEG", quality=a.quality, dpi=(DPI, DPI), subsampling=2, optimize=False)
        total += os.path.getsize(path)
    print(total)


if __name__ == "__main__":
    sys.exit(main())
