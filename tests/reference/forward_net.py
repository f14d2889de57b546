"""proxy2's own PyTorch NATS-Bench network for the forward-proxy self-check.

The module tree is xautodl's (TinyNetwork / DynamicShapeTinyNet, InferCell, ReLUConvBN,
ResNetBasicblock, POOLING, Identity, Zero, FactorizedReduce), so that state_dict names equal the
Rust Weights names and forward hooks fire exactly as on the reference models (MeCo hooks every
module). Written from the NATS-Bench definitions; BN without running-stat tracking side effects
matters only for zen, which reads running_var (tracked here as PyTorch does).
"""
import torch
import torch.nn as nn

EDGES = [(0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3)]
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def parse(arch):
    ops = []
    for node in arch.split("+"):
        for e in node.strip("|").split("|"):
            ops.append(e.split("~")[0])
    return ops


class ReLUConvBN(nn.Module):
    def __init__(self, ci, co, k, stride):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(ci, co, k, stride, (k - 1) // 2, bias=False),
                                nn.BatchNorm2d(co))

    def forward(self, x):
        return self.op(x)


class Identity(nn.Module):
    def forward(self, x):
        return x


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class POOLING(nn.Module):
    def __init__(self, ci, co):
        super().__init__()
        self.preprocess = None if ci == co else ReLUConvBN(ci, co, 1, 1)
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        if self.preprocess is not None:
            x = self.preprocess(x)
        return self.op(x)


class FactorizedReduce(nn.Module):  # stride 1 only (SSS skip that changes channels)
    def __init__(self, ci, co):
        super().__init__()
        self.conv = nn.Conv2d(ci, co, 1, 1, 0, bias=False)
        self.bn = nn.BatchNorm2d(co)

    def forward(self, x):
        return self.bn(self.conv(x))


class InferCell(nn.Module):
    def __init__(self, ops, ci, co):
        super().__init__()
        layers = []
        for (i, j), op in zip(EDGES, ops):
            c = ci if i == 0 else co
            if op == "none":
                layers.append(Zero())
            elif op == "skip_connect":
                layers.append(Identity() if c == co else FactorizedReduce(c, co))
            elif op == "nor_conv_1x1":
                layers.append(ReLUConvBN(c, co, 1, 1))
            elif op == "nor_conv_3x3":
                layers.append(ReLUConvBN(c, co, 3, 1))
            elif op == "avg_pool_3x3":
                layers.append(POOLING(c, co))
            else:
                raise ValueError(op)
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        nodes = [x]
        for j in (1, 2, 3):
            ins = [self.layers[k](nodes[i]) for k, (i, jj) in enumerate(EDGES) if jj == j]
            nodes.append(sum(ins))
        return nodes[-1]


class ResNetBasicblock(nn.Module):
    def __init__(self, ci, co):
        super().__init__()
        self.conv_a = ReLUConvBN(ci, co, 3, 2)
        self.conv_b = ReLUConvBN(co, co, 3, 1)
        self.downsample = nn.Sequential(nn.AvgPool2d(2, 2, 0), nn.Conv2d(ci, co, 1, 1, 0, bias=False))

    def forward(self, x):
        b = self.conv_b(self.conv_a(x))
        return self.downsample(x) + b


class NatsNet(nn.Module):
    """Returns (pooled features, logits) like xautodl."""

    def __init__(self, space, arch, num_classes):
        super().__init__()
        if space == "tss":
            ops = parse(arch)
            layers = [(16, False)] * 5 + [(32, True)] + [(32, False)] * 5 + [(64, True)] + [(64, False)] * 5
        else:
            ops = parse(BEST)
            c = [int(v) for v in arch.split(":")]
            layers = [(c[0], False), (c[1], True), (c[2], False), (c[3], True), (c[4], False)]
        c0 = layers[0][0]
        self.stem = nn.Sequential(nn.Conv2d(3, c0, 3, padding=1, bias=False), nn.BatchNorm2d(c0))
        cells, prev = [], c0
        for c, red in layers:
            cells.append(ResNetBasicblock(prev, c) if red else InferCell(ops, prev, c))
            prev = c
        self.cells = nn.ModuleList(cells)
        self.lastact = nn.Sequential(nn.BatchNorm2d(prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, num_classes)

    def forward_pre_gap(self, x):
        h = self.stem(x)
        for c in self.cells:
            h = c(h)
        return self.lastact(h)

    def forward(self, x):
        out = self.global_pooling(self.forward_pre_gap(x)).view(x.size(0), -1)
        return out, self.classifier(out)


def load(net, tensors):
    sd = net.state_dict()
    for k in sd:
        if k.endswith(("running_mean", "running_var", "num_batches_tracked")):
            continue
        sd[k] = tensors[k].clone()
    net.load_state_dict(sd)
    return net
