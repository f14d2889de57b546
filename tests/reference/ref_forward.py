"""proxy2's reference implementations (PyTorch, from the published definitions; own code).

Each PROXIES entry is fn(ctx) -> float with the ctx contract of tests/reference/README.md:
ctx.make_net(bn=True) -> fresh float32 CPU nn.Module with our weights (xautodl module tree,
forward returns (features, logits)), ctx.x, ctx.y, ctx.arch, ctx.space, ctx.num_classes, ctx.extra.
Random draws come from ctx.extra (exported by the Rust side, src/proxy/golden.rs).
"""
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def logits_of(out):
    return out[1] if isinstance(out, tuple) else out


def nwot(ctx):
    # NASLib zerocost measures/nwot.py: hook every nn.ReLU, K += c c^T + (1-c)(1-c)^T, slogdet.
    net = ctx.make_net(bn=True).train()
    n = ctx.x.shape[0]
    K = np.zeros((n, n))

    def hook(mod, inp, out):
        nonlocal K
        c = (inp[0].reshape(n, -1) > 0).float()
        K = K + (c @ c.t()).numpy() + ((1 - c) @ (1 - c).t()).numpy()

    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.register_forward_hook(hook)
    with torch.no_grad():
        net(ctx.x.clone())
    return float(np.linalg.slogdet(K)[1])


def zen(ctx):
    # NASLib zerocost measures/zen.py: Gaussian re-init, mixup 0.01, pre-GAP |diff|, BN running_var.
    net = ctx.make_net(bn=True).train()
    sd = net.state_dict()
    for k in sd:
        if ("zen.w." + k) in ctx.extra:
            sd[k] = ctx.extra["zen.w." + k].clone()
    net.load_state_dict(sd)
    for m in net.modules():  # fresh running stats (mean 0, var 1) as a new network has
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = 0.1
    x, eps = ctx.extra["zen.x"], ctx.extra["zen.eps"]
    with torch.no_grad():
        o1 = net.forward_pre_gap(x)
        o2 = net.forward_pre_gap(x + 0.01 * eps)
        s = torch.mean(torch.sum(torch.abs(o1 - o2), dim=[1, 2, 3]))
        bn = 0.0
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                bn += torch.log(torch.sqrt(torch.mean(m.running_var)))
        return float(torch.log(s) + bn)


def _meco_generic(ctx, opt):
    # MeCo correlation/NAS_Bench_201.py get_score: hook every module, first image, corrcoef of
    # channels, NaN/inf -> 0, min eigenvalue; meco_opt: 8 sampled channels, * C / 8.
    net = ctx.make_net(bn=True).train()
    idx = ctx.extra.get("meco_opt.idx")
    res = []

    def hook(mod, inp, out):
        fea = out[0].clone().detach() if not isinstance(out, tuple) else out[0][0].clone().detach()
        n = fea.shape[0]
        fea = fea.reshape(n, -1)
        if opt:
            fea = fea[idx[len(res)]]
        corr = torch.corrcoef(fea)
        corr[torch.isnan(corr)] = 0
        corr[torch.isinf(corr)] = 0
        v = torch.min(torch.real(torch.linalg.eig(corr.double())[0])).item()
        res.append(v * n / 8 if opt else v)

    for m in net.modules():
        m.register_forward_hook(hook)
    if ctx.space == "tss":
        # foresight NAS201Model: `stem` wraps stem.net, cells sit in 3 nn.Sequential stacks of 5:
        # one more hook call with the same output right after the stem and after cells 4, 10, 16.
        net.stem.register_forward_hook(hook)
        for i in (4, 10, 16):
            net.cells[i].register_forward_hook(hook)
    with torch.no_grad():
        net(ctx.x[:1].clone())
    if opt:
        assert len(res) == idx.shape[0], (len(res), idx.shape)
    r = torch.tensor(res, dtype=torch.float64)
    r = r[torch.isfinite(r)]
    return float(r.sum())


def meco(ctx):
    return _meco_generic(ctx, False)


def meco_opt(ctx):
    return _meco_generic(ctx, True)


def zico(ctx):
    # SLDGroup/ZiCo compute_zico.py: grads of CE over 2 batches (the two halves), zero_grad between,
    # per conv/linear layer log(sum over nonzero-std elements of mean|g| / std(g)).
    net = ctx.make_net(bn=True).train()
    n = ctx.x.shape[0]
    grads = {}
    for lo, hi in ((0, n // 2), (n // 2, n)):
        net.zero_grad()
        loss = F.cross_entropy(logits_of(net(ctx.x[lo:hi])), ctx.y[lo:hi])
        loss.backward()
        for name, m in net.named_modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                grads.setdefault(name, []).append(m.weight.grad.detach().reshape(-1).double().numpy())
    total = 0.0
    for g in grads.values():
        g = np.array(g)
        std = np.std(g, axis=0)
        nz = np.nonzero(std)[0]
        s = np.sum(np.mean(np.abs(g), axis=0)[nz] / std[nz])
        if s != 0:
            total += np.log(s)
    return float(total)


NTK_BATCH = 16


def ntk(ctx):
    # VITA-Group/TENAS lib/procedures/ntk.py get_ntk_n(train_mode=True): per-image grads of the
    # summed logits w.r.t. every 'weight' parameter, NTK = G G^T, cond = max/min eigenvalue.
    net = ctx.make_net(bn=True).train()
    x = ctx.x[:NTK_BATCH].clone()
    logit = logits_of(net(x))
    rows = []
    for i in range(len(x)):
        net.zero_grad()
        logit[i:i + 1].backward(torch.ones_like(logit[i:i + 1]), retain_graph=True)
        rows.append(torch.cat([W.grad.reshape(-1).detach() for name, W in net.named_parameters()
                               if "weight" in name and W.grad is not None]))
    G = torch.stack(rows).double()
    e = torch.linalg.eigvalsh(G @ G.t())
    return float(np.nan_to_num((e[-1] / e[0]).item(), nan=100000.0))


PROXIES = {"nwot": nwot, "zen": zen, "meco": meco, "meco_opt": meco_opt, "zico": zico, "ntk": ntk}
