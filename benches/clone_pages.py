#!/usr/bin/env python3
"""Make M distinct pages from the N generated ones, fast: each copy gets a JPEG comment segment
(COM) naming the copy, after the JFIF APP0 (which must stay first), so every file has its own bytes and hash while staying the
same valid scan. Used for the large-batch memory run (thousands of pages).

usage: clone_pages.py SRCDIR DSTDIR M
"""
import os, sys


def main():
    src, dst, m = sys.argv[1], sys.argv[2], int(sys.argv[3])
    pages = sorted(p for p in os.listdir(src) if p.endswith(".jpg"))
    if not pages:
        sys.exit("clone_pages.py: no pages in " + src)
    os.makedirs(dst, exist_ok=True)
    datas = [open(os.path.join(src, p), "rb").read() for p in pages]
    for i in range(m):
        d = datas[i % len(datas)]
        if d[:2] != b"\xff\xd8":
            sys.exit("clone_pages.py: not a JPEG")
        text = b"hozon bench copy %d" % i
        com = b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text
        pos = 4 + int.from_bytes(d[4:6], "big") if d[2:4] == b"\xff\xe0" else 2
        with open(os.path.join(dst, "big-%06d.jpg" % i), "wb") as f:
            f.write(d[:pos] + com + d[pos:])


if __name__ == "__main__":
    main()
