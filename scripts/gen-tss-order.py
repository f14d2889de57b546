#!/usr/bin/env python3
"""Writes src/space/tss_order.bin: the official NATS-Bench TSS index -> arch order, compactly.

The official order (NAS-Bench-201 `meta_archs`) is not a formula: it is the order the archs were
trained in. We store it as 15,625 little-endian u16 codes, one per official index, where the code
is the arch's base-5 number with ops numbered as NATS-Bench lists them
(none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3) and the first edge of the string
most significant.

Source: D-X-Y/NATS-Bench (MIT), NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2 `meta_archs`, as
exported line by line to ../shared/data/nats_tss/nats_tss_arch_strings.txt.
Usage: scripts/gen-tss-order.py [ARCH_STRINGS_TXT]
"""
import re
import struct
import sys

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
src = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/nats_tss/nats_tss_arch_strings.txt"
codes = []
for line in open(src):
    ops = re.findall(r"([a-z_0-9]+)~\d", line.strip())
    assert len(ops) == 6, line
    code = 0
    for op in ops:
        code = code * 5 + OPS.index(op)
    codes.append(code)
assert len(codes) == 15625 and len(set(codes)) == 15625
with open("src/space/tss_order.bin", "wb") as f:
    f.write(struct.pack("<15625H", *codes))
print("wrote src/space/tss_order.bin")
