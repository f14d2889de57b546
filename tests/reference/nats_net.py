"""The project's own PyTorch NATS-Bench network, for the golden tests.

Written from the NATS-Bench definitions (xautodl 1.0.0 TinyNetwork / DynamicShapeTinyNet,
InferCell, ReLUConvBN, ResNetBasicblock, POOLING, FactorizedReduce, Zero, Identity), with
parameter names equal to xautodl's state_dict keys and to the Rust `Weights` names, so the
engine's exported initial weights load by name. `bn=False` builds the network without BN layers
(the references' `bn=False` copies, e.g. synflow). Also: a minimal safetensors reader (the venv
has no `safetensors` package).
"""

import json
import struct

import numpy as np
import torch
import torch.nn as nn

TSS_EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
SSS_CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet16-120": 120}
INPUT_SIZE = {"cifar10": 32, "cifar100": 32, "imagenet16-120": 16}

_DTYPES = {"F32": np.float32, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def load_safetensors(path):
    """name -> torch tensor (CPU)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(body[a:b], dtype=_DTYPES[info["dtype"]]).reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


def parse_cell(s):
    """'|op~0|+|op~0|op~1|+|...|' -> 6 op names in edge order."""
    ops = []
    for node in s.strip().split("+"):
        for tok in node.strip("|").split("|"):
            op, _ = tok.split("~")
            ops.append(op)
    assert len(ops) == 6, s
    return ops


def _bn(c, bn):
    return nn.BatchNorm2d(c) if bn else nn.Identity()


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride, bn):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride, (k - 1) // 2, bias=False),
            _bn(c_out, bn),
        )

    def forward(self, x):
        return self.op(x)


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Pooling(nn.Module):
    def __init__(self, c_in, c_out, bn):
        super().__init__()
        self.preprocess = ReLUConvBN(c_in, c_out, 1, 1, bn) if c_in != c_out else None
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class FactorizedReduce(nn.Module):
    """Stride-1 form: a 1x1 conv and BN (a skip edge that changes the channel count)."""

    def __init__(self, c_in, c_out, bn):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False)
        self.bn = _bn(c_out, bn)

    def forward(self, x):
        return self.bn(self.conv(x))


def make_op(name, c_in, c_out, bn):
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity() if c_in == c_out else FactorizedReduce(c_in, c_out, bn)
    if name == "nor_conv_1x1":
        return ReLUConvBN(c_in, c_out, 1, 1, bn)
    if name == "nor_conv_3x3":
        return ReLUConvBN(c_in, c_out, 3, 1, bn)
    if name == "avg_pool_3x3":
        return Pooling(c_in, c_out, bn)
    raise ValueError(name)


class InferCell(nn.Module):
    def __init__(self, ops, c_in, c_out, bn):
        super().__init__()
        self.layers = nn.ModuleList()
        for (frm, _), op in zip(TSS_EDGES, ops):
            self.layers.append(make_op(op, c_in if frm == 0 else c_out, c_out, bn))

    def forward(self, x):
        nodes = [x]
        for to in (1, 2, 3):
            acc = None
            for k, (frm, t) in enumerate(TSS_EDGES):
                if t != to:
                    continue
                y = self.layers[k](nodes[frm])
                acc = y if acc is None else acc + y
            nodes.append(acc)
        return nodes[-1]


class ResNetBasicblock(nn.Module):
    def __init__(self, c_in, c_out, bn):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, bn)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, bn)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, 1, 1, 0, bias=False),
        )

    def forward(self, x):
        b = self.conv_b(self.conv_a(x))
        return self.downsample(x) + b


class NatsNet(nn.Module):
    """TSS (C=16, N=5) or SSS (channels c1:..:c5, one cell per stage) network."""

    def __init__(self, space, arch, num_classes, bn=True):
        super().__init__()
        self.bn = bn
        if space == "tss":
            ops = parse_cell(arch)
            layers = [(16, False)] * 5 + [(32, True)] + [(32, False)] * 5 + [(64, True)] + [(64, False)] * 5
        else:
            ops = parse_cell(SSS_CELL)
            c = [int(v) for v in arch.split(":")]
            layers = [(c[0], False), (c[1], True), (c[2], False), (c[3], True), (c[4], False)]
        c0 = layers[0][0]
        self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, 1, 1, bias=False), _bn(c0, bn))
        self.cells = nn.ModuleList()
        c_prev = c0
        for c, red in layers:
            self.cells.append(ResNetBasicblock(c_prev, c, bn) if red else InferCell(ops, c_prev, c, bn))
            c_prev = c
        self.lastact = nn.Sequential(_bn(c_prev, bn), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        h = self.stem(x)
        for cell in self.cells:
            h = cell(h)
        h = self.lastact(h)
        h = self.global_pooling(h).flatten(1)
        return self.classifier(h)

    def load_named(self, tensors):
        """Copies every parameter from `tensors` by name; names absent from the model (BN
        parameters of a bn=False copy) are skipped, a parameter without a tensor is an error."""
        params = dict(self.named_parameters())
        for name, p in params.items():
            if name not in tensors:
                raise KeyError(f"no exported tensor for {name}")
            with torch.no_grad():
                p.copy_(tensors[name].to(p.dtype))
        if self.bn:
            extra = set(tensors) - set(params)
            if extra:
                raise KeyError(f"exported tensors not in the model: {sorted(extra)[:5]}")
        return self
