"""Convolution and image layers: against a direct loop, the adjoint identity, gradchecks of every layer
(first and second order), shape errors, and the EMA helper."""
import numpy as np
import pytest

import minigen as mg
from minigen import functional as F
from minigen import nn

from helpers import host, t64

RNG = np.random.default_rng(0)


def _naive_conv(x, w, stride, padding, dilation, groups):
    N, C, H, W = x.shape
    O, Cg, kh, kw = w.shape
    xp_ = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (H + 2 * padding - dilation * (kh - 1) - 1) // stride + 1
    Wo = (W + 2 * padding - dilation * (kw - 1) - 1) // stride + 1
    y = np.zeros((N, O, Ho, Wo))
    og = O // groups
    for n in range(N):
        for o in range(O):
            g = o // og
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp_[n, g * Cg:(g + 1) * Cg, i * stride: i * stride + dilation * (kh - 1) + 1: dilation,
                                j * stride: j * stride + dilation * (kw - 1) + 1: dilation]
                    y[n, o, i, j] = (patch * w[o]).sum()
    return y


@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 1), (1, 2, 2, 1), (1, 1, 1, 2)])
def test_conv2d_matches_a_direct_loop(stride, padding, dilation, groups):
    x = RNG.normal(size=(2, 4, 7, 6))
    w = RNG.normal(size=(6, 4 // groups, 3, 3))
    y = F.conv2d(t64(x, False), t64(w, False), stride=stride, padding=padding, dilation=dilation, groups=groups)
    np.testing.assert_allclose(host(y), _naive_conv(x, w, stride, padding, dilation, groups), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,groups", [
    ((2, 4, 5, 5), (3, 4, 5, 5), 1, 0, 1),      # the kernel covers the input: a plain product
    ((2, 4, 3, 3), (6, 2, 3, 3), 2, 0, 2),      # ... with groups
    ((2, 4, 6, 4), (3, 4, 2, 2), 2, 0, 1),      # stride = kernel: the taps tile the input
    ((2, 4, 5, 5), (3, 4, 2, 2), 2, 1, 1),      # ... once padded, the last row and column unused
    ((2, 4, 7, 7), (3, 4, 2, 2), 3, 0, 1),      # stride > kernel: disjoint taps with gaps
    ((2, 4, 3, 5), (6, 4, 1, 1), 1, 0, 1),      # 1x1 kernel
    ((5, 4, 4, 4), (3, 4, 3, 3), 2, 1, 1),      # batch >= output width: the batch innermost in the columns
    ((3, 4, 3, 4), (4, 2, 2, 2), 1, 0, 2),      # ... with groups
])
def test_geometries_with_own_paths_match_a_direct_loop_and_their_adjoint(x_shape, w_shape, stride, padding, groups):
    x, w = RNG.normal(size=x_shape), RNG.normal(size=w_shape)
    y = F.conv2d(t64(x, False), t64(w, False), stride=stride, padding=padding, groups=groups)
    np.testing.assert_allclose(host(y), _naive_conv(x, w, stride, padding, 1, groups), rtol=1e-10, atol=1e-12)
    g = RNG.normal(size=y.shape)
    H, W = x_shape[2:]
    op = ((H + 2 * padding - w_shape[2]) % stride, (W + 2 * padding - w_shape[3]) % stride)
    t = F.conv_transpose2d(t64(g, False), t64(w, False), stride=stride, padding=padding, output_padding=op,
                           groups=groups)
    assert t.shape == x_shape and t.dtype == np.float64
    assert float((host(y) * g).sum()) == pytest.approx(float((x * host(t)).sum()), rel=1e-10)


def test_conv_ops_keep_float32():
    x = mg.tensor(RNG.normal(size=(2, 3, 5, 5)).astype(np.float32), requires_grad=True)
    for w_shape, kw in [((4, 3, 3, 3), {"stride": 2, "padding": 1}), ((4, 3, 5, 5), {}), ((4, 3, 1, 1), {})]:
        w = mg.tensor(RNG.normal(size=w_shape).astype(np.float32), requires_grad=True)
        y = F.conv2d(x, w, **kw)
        (gx, gw) = mg.grad((y * y).sum(), [x, w], create_graph=True)
        (ggw,) = mg.grad((gx * gx).sum(), [w])
        assert {t.dtype for t in (y, gx, gw, ggw)} == {np.dtype(np.float32)}
        t = F.conv_transpose2d(y, w, **kw)
        assert t.dtype == np.float32

@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (2, 1, 2)])
def test_conv_transpose_is_the_adjoint_of_conv(stride, padding, groups):
    """<conv2d(x, w), y> = <x, conv_transpose2d(y, w)> for every x, y."""
    x = t64(RNG.normal(size=(2, 4, 7, 7)), False)
    w = t64(RNG.normal(size=(6, 4 // groups, 3, 3)), False)
    cx = F.conv2d(x, w, stride=stride, padding=padding, groups=groups)
    y = t64(RNG.normal(size=cx.shape), False)
    op = (7 + 2 * padding - 3) % stride          # output_padding that restores the input size
    ty = F.conv_transpose2d(y, w, stride=stride, padding=padding, output_padding=op, groups=groups)
    assert ty.shape == x.shape
    assert float((host(cx) * host(y)).sum()) == pytest.approx(float((host(x) * host(ty)).sum()), rel=1e-10)


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Conv2d(2, 3, 3, padding=1), (2, 2, 4, 4)),
    (lambda: nn.Conv2d(2, 4, 2, stride=2, groups=2, bias=False), (1, 2, 4, 4)),
    (lambda: nn.ConvTranspose2d(2, 3, 4, stride=2, padding=1), (1, 2, 3, 3)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 3, 3)),
    (lambda: nn.Sequential(nn.Upsample(2, "bilinear"), nn.Conv2d(1, 1, 3)), (1, 1, 2, 2)),
], ids=["conv", "conv-grouped-strided", "conv-transpose", "batchnorm2d-train", "instancenorm", "upsample-conv"])
def test_layer_gradchecks(make, shape):
    layer = make().double()
    x = t64(RNG.normal(size=shape))
    params = list(layer.parameters())
    assert mg.gradcheck(lambda x, *ps: layer(x), [x, *params])
    assert mg.gradgradcheck(lambda x, *ps: layer(x), [x, *params])


def test_batchnorm2d_eval_uses_running_statistics():
    bn = nn.BatchNorm2d(2)
    x = mg.tensor(RNG.normal(2.0, 3.0, size=(8, 2, 4, 4)).astype(np.float32))
    bn(x)
    xh = host(x)
    np.testing.assert_allclose(host(bn.running_mean), 0.1 * xh.mean((0, 2, 3)), rtol=1e-5)
    np.testing.assert_allclose(host(bn.running_var), 0.9 + 0.1 * xh.var((0, 2, 3), ddof=1), rtol=1e-5)
    bn.eval()
    y = host(bn(x))
    expect = (xh - host(bn.running_mean)[None, :, None, None]) / np.sqrt(host(bn.running_var)[None, :, None, None] + 1e-5)
    np.testing.assert_allclose(y, expect, rtol=1e-4)


def test_gradient_penalty_through_a_conv_critic_is_exact():
    """WGAN-GP on images differentiates a conv net twice: gradcheck the penalty w.r.t. the weights."""
    critic = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(),
                                   nn.Linear(8, 1)).double()
    x = t64(RNG.normal(size=(3, 1, 4, 4)))

    def penalty(*ps):
        (g,) = mg.grad(critic(x).sum(), [x], create_graph=True)
        return ((F.sqrt((g * g).sum(axis=(1, 2, 3))) - 1.0) ** 2).mean()
    assert mg.gradcheck(penalty, list(critic.parameters()))



def test_conv_keeps_its_columns_only_for_the_weight_gradient_and_frees_them_with_the_graph():
    x = t64(RNG.normal(size=(2, 3, 5, 5)))
    w_frozen, w = t64(RNG.normal(size=(4, 3, 3, 3)), False), t64(RNG.normal(size=(4, 3, 3, 3)))
    assert F.conv2d(x, w_frozen, padding=1).creator.saved is None        # no weight gradient: nothing kept
    y = F.conv2d(x, w, padding=1)
    node = y.creator
    assert node.saved is not None
    y.sum().backward(retain_graph=True)
    gw = host(w.grad).copy()
    assert node.saved is not None                                      # retained: a second backward reuses them
    w.grad = None
    y.sum().backward()
    np.testing.assert_allclose(host(w.grad), gw, rtol=1e-12)
    assert node.saved is None                                          # released with the graph
    with mg.no_grad():
        assert F.conv2d(x, w).creator is None

def test_pooling_values():
    x = mg.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(host(F.max_pool2d(x, 2))[0, 0], [[5, 7], [13, 15]])
    np.testing.assert_array_equal(host(F.avg_pool2d(x, 2))[0, 0], [[2.5, 4.5], [10.5, 12.5]])
    up = host(F.upsample(mg.tensor(np.array([[[[1.0, 2.0]]]], np.float32)), 2, "bilinear"))[0, 0, 0]
    np.testing.assert_allclose(up, [1.0, 1.25, 1.75, 2.0])      # PyTorch's align_corners=False values
    ps = host(F.pixel_shuffle(mg.tensor(np.arange(8, dtype=np.float32).reshape(1, 4, 1, 2)), 2))
    np.testing.assert_array_equal(ps[0, 0], [[0, 2, 1, 3], [4, 6, 5, 7]])


def test_layer_shape_errors_name_the_layer_and_shapes():
    with pytest.raises(ValueError, match=r"Conv2d\(3, 8.*expected input \(N, 3, H, W\), got \(2, 4, 8, 8\)"):
        nn.Conv2d(3, 8, 3)(mg.tensor(np.zeros((2, 4, 8, 8), np.float32)))
    with pytest.raises(ValueError, match=r"BatchNorm2d\(4\): expected input \(N, 4, H, W\), got \(2, 3, 5, 5\)"):
        nn.BatchNorm2d(4)(mg.tensor(np.zeros((2, 3, 5, 5), np.float32)))
    with pytest.raises(ValueError, match=r"Unflatten\(1, 8, 8\)"):
        nn.Unflatten((1, 8, 8))(mg.tensor(np.zeros((2, 60), np.float32)))
    with mg.detect_anomaly(), pytest.raises(ValueError, match=r"embedding: indices must be in \[0, 5\)"):
        nn.Embedding(5, 3)(mg.tensor(np.array([1, 7])))     # a device backend checks the range under anomaly mode


def test_embedding_rows_and_gradient_accumulates_repeats():
    emb = nn.Embedding(4, 2)
    idx = mg.tensor(np.array([[1, 1], [3, 0]]))
    out = emb(idx)
    assert out.shape == (2, 2, 2)
    out.sum().backward()
    np.testing.assert_array_equal(host(emb.weight.grad)[:, 0], [1, 2, 0, 1])


def test_ema_tracks_the_average():
    lin = nn.Linear(2, 2)
    ema = nn.EMA(lin, decay=0.5)
    w0 = host(lin.weight).copy()
    lin.weight.data = lin.weight.data + 1.0
    ema.update()
    np.testing.assert_allclose(host(ema.module.weight), w0 + 0.5, rtol=1e-6)
    assert not ema.module.weight.requires_grad
