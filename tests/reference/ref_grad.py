"""Reference implementations (PyTorch/numpy) of the gradient- and Jacobian-based proxies, written
from their published definitions for the golden tests (see README.md). Each takes the `ctx` of
make_golden.py and returns a float (NaN where the definition gives no value).

The definitions follow NASLib `zerocost` (`naslib/predictors/utils/pruners/measures/*.py`,
`predictive.py` `find_measures`: per-layer arrays summed over every element), which the engine
documents proxy by proxy in `src/proxy/*.rs`.
"""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

K = 1e-5


def _layers(net):
    """Conv2d and Linear modules in module order (NASLib `get_layer_metric_array`)."""
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def _sum_arr(arr):
    """`find_measures`' sum_arr: Σ over layers of Σ over elements."""
    total = 0.0
    for a in arr:
        total += float(torch.sum(a).item())
    return total


def _labelled(ctx):
    """One CE forward+backward (BN train mode) with the conv/linear outputs retained — the
    pass of grad_norm, snip, plain and fisher (cached on ctx: they would each recompute the same
    thing on a fresh copy)."""
    cached = getattr(ctx, "_labelled", None)
    if cached is not None:
        return cached
    net = ctx.make_net(bn=True)
    net.train()
    net.zero_grad()
    outs = {}

    def hook(m, inp, out):
        out.retain_grad()
        outs[m] = out

    for m in _layers(net):
        m.register_forward_hook(hook)
    loss = F.cross_entropy(net(ctx.x), ctx.y)
    loss.backward()
    ctx._labelled = (net, outs)
    return ctx._labelled


def _ce_backward(ctx):
    return _labelled(ctx)[0]


def params(ctx):
    net = ctx.make_net(bn=True)
    return sum(p.numel() for p in net.parameters()) / 1e6


def flops(ctx):
    """NATS-Bench's counter: conv k·k·Cin·Cout·Hout·Wout (/groups), linear in·out + out; pooling,
    BN, ReLU and additions not counted. One image."""
    net = ctx.make_net(bn=True)
    total = [0]

    def conv_hook(m, inp, out):
        k = m.kernel_size[0] * m.kernel_size[1]
        total[0] += k * m.in_channels * m.out_channels // m.groups * out.shape[2] * out.shape[3]
        if m.bias is not None:
            total[0] += out.shape[1] * out.shape[2] * out.shape[3]

    def lin_hook(m, inp, out):
        total[0] += m.in_features * m.out_features + (m.out_features if m.bias is not None else 0)

    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            m.register_forward_hook(conv_hook)
        elif isinstance(m, nn.Linear):
            m.register_forward_hook(lin_hook)
    with torch.no_grad():
        net.eval()
        net(ctx.x[:1])
    return total[0] / 1e6


def grad_norm(ctx):
    net = _ce_backward(ctx)
    return _sum_arr([m.weight.grad.norm() for m in _layers(net)])


def snip(ctx):
    # |∂L/∂mask| at mask = 1 for W·mask equals |W ⊙ ∂L/∂W|.
    net = _ce_backward(ctx)
    return _sum_arr([(m.weight * m.weight.grad).abs() for m in _layers(net)])


def plain(ctx):
    net = _ce_backward(ctx)
    return _sum_arr([m.weight.grad * m.weight for m in _layers(net)])


def fisher(ctx):
    """Per conv/linear output a (pre-BN) with g = ∂L/∂a: Δ_c = ½ mean_n (Σ_hw a·g)²; each channel
    value broadcast over weight.shape[1:] and every element summed (NASLib mode='channel')."""
    net, outs = _labelled(ctx)
    layers = _layers(net)
    arr = []
    for m in layers:
        a, g = outs[m].detach(), outs[m].grad
        if g is None:
            fish = torch.zeros(m.weight.shape[0])
        else:
            prod = a * g
            g_nk = prod.sum(dim=list(range(2, prod.dim()))) if prod.dim() > 2 else prod
            fish = (0.5 * g_nk.pow(2).mean(0)).abs()
        shape = m.weight.shape[1:]
        arr.append(torch.stack([torch.full(shape, float(v)) for v in fish], dim=0))
    return _sum_arr(arr)


def grasp(ctx):
    """−θ ⊙ Hg over conv/linear weights, g = ∂L/∂θ (constant), Hg = ∂(g·∂L/∂θ)/∂θ; T = 1,
    one iteration, BN train mode."""
    net = ctx.make_net(bn=True)
    net.train()
    weights = [m.weight for m in _layers(net)]
    loss = F.cross_entropy(net(ctx.x) / 1.0, ctx.y)
    g = torch.autograd.grad(loss, weights, allow_unused=True)
    loss = F.cross_entropy(net(ctx.x) / 1.0, ctx.y)
    gf = torch.autograd.grad(loss, weights, create_graph=True, allow_unused=True)
    z = 0
    for a, b in zip(g, gf):
        if a is not None and b is not None:
            z = z + (a.detach() * b).sum()
    net.zero_grad()
    z.backward()
    arr = []
    for w in weights:
        arr.append(-w.detach() * w.grad if w.grad is not None else torch.zeros_like(w))
    return _sum_arr(arr)


def synflow(ctx):
    """|θ| everywhere, float64, no BN, all-ones [1,3,H,W] input, R = Σ output,
    Σ |θ ⊙ ∂R/∂θ| over conv/linear weights."""
    net = ctx.make_net(bn=False).double()
    with torch.no_grad():
        for p in net.parameters():
            p.abs_()
    net.zero_grad()
    x = torch.ones([1] + list(ctx.x.shape[1:]), dtype=torch.float64)
    net(x).sum().backward()
    return _sum_arr([(m.weight * m.weight.grad).abs() for m in _layers(net)])


def _jacobian(ctx):
    """∂(Σ logits)/∂x (BN train mode), rows per image, float32 numpy; cached on ctx."""
    cached = getattr(ctx, "_jac", None)
    if cached is not None:
        return cached
    net = ctx.make_net(bn=True)
    net.train()
    x = ctx.x.clone().requires_grad_(True)
    y = net(x)
    y.backward(torch.ones_like(y))
    ctx._jac = (x.grad.detach().reshape(x.shape[0], -1).numpy(), y.shape[-1])
    return ctx._jac


def jacov(ctx):
    """−Σ(ln(λ+k) + 1/(λ+k)), λ the eigenvalues of the N×N correlation matrix of the per-image
    input Jacobians; NaN when numpy fails (zero-variance rows, one image)."""
    j, _ = _jacobian(ctx)
    try:
        with np.errstate(all="ignore"):
            c = np.corrcoef(j)
            v, _ = np.linalg.eig(c)
            return float(-np.sum(np.log(v + K) + 1.0 / (v + K)))
    except Exception:
        return float("nan")


def epe_nas(ctx):
    """Per class c: s_c = Σ ln(|corrcoef(J_c)| + k) (÷|c| when the net has > 100 outputs);
    ≤ 100 outputs: Σ_c |s_c|; else Σ_c Σ_c' |s_c − s_c'| / classes kept."""
    j, n_out = _jacobian(ctx)
    labels = ctx.y.numpy()
    groups = {}
    for i, l in enumerate(labels):
        groups.setdefault(int(l), []).append(i)
    s = {}
    with np.errstate(all="ignore"):
        for c, idx in groups.items():
            if len(idx) == 1:
                corr = np.corrcoef(j[idx[0]])  # a scalar: var/var
                if n_out > 100:
                    continue  # the published code's len() of a scalar raises: class dropped
                s[c] = float(np.sum(np.log(np.abs(corr) + K)))
            else:
                corr = np.corrcoef(j[idx])
                v = float(np.sum(np.log(np.abs(corr) + K)))
                if n_out > 100:
                    v /= len(idx)
                s[c] = v
    if n_out <= 100:
        return float(sum(abs(v) for v in s.values()))
    score = 0.0
    for a in s.values():
        for b in s.values():
            score += abs(a - b)
    return score / len(s) if s else 0.0


def l2_norm(ctx):
    net = ctx.make_net(bn=True)
    return _sum_arr([m.weight.detach().norm() for m in _layers(net)])


PROXIES = {
    "params": params,
    "flops": flops,
    "grad_norm": grad_norm,
    "snip": snip,
    "plain": plain,
    "fisher": fisher,
    "grasp": grasp,
    "synflow": synflow,
    "jacov": jacov,
    "epe_nas": epe_nas,
    "l2_norm": l2_norm,
}
