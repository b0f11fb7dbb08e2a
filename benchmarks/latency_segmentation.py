"""Single-thread batch-1 latency of Table 7's row 8 against mmseg's and torchvision's LR-ASPP.

    .venv/bin/python benchmarks/latency_segmentation.py [--runs 10] [--warmup 3] [--rounds 3]
                                                        [--size 512 1024]

The paper's protocol (Section 6.1.2, "CPU (h)" of Tables 7 and 8): one thread, batch 1, a
half-resolution 512x1024 input, warm-up, median. Each model returns full-resolution logits
(bilinear upsampling of its output included), 19 classes.

- ours: ``configs/segmentation/lraspp_v3large_os16_cityscapes.py`` (V3-Large with RF2, output
  stride 16, LR-ASPP with 128 filters) in deploy mode: every BN folded into the conv before it
  (mmcv's ``fuse_conv_bn``, as the paper's TFLite graphs are) and the backbone in channels-last
  memory format (its ``switch_to_deploy``), which oneDNN's depthwise convolutions prefer.
- mmseg: its own LR-ASPP, ``mmseg::mobilenet_v3/mobilenet-v3-d8_lraspp_4xb4-320k_cityscapes-
  512x1024.py`` (output stride 8, no RF2), built without its pretrained checkpoint.
- torchvision: ``lraspp_mobilenet_v3_large(weights=None, weights_backbone=None)`` (output
  stride 16, no RF2, global-pool gate).

Targets: ours / mmseg at most 0.3, ours / torchvision at most 0.75. The references run as their
libraries ship them (eval mode, NCHW); for transparency the last line is torchvision's model
given ours' deploy treatment (BN folded, backbone channels-last): the architecture alone is then
the difference (mmseg's output-stride-8 model only gets slower in channels-last). Rounds
interleave the models so that drift of the machine is shared; the best round's median is
reported.
"""
import argparse
import copy
from pathlib import Path

import torch
import torch.nn.functional as F
from mmcv.cnn import fuse_conv_bn
from mmengine.config import Config
from mmengine.hub import get_config
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope

import mnv3_plugin  # noqa: F401  (registers the plugin scope)
from mnv3_plugin.analysis import count_params, measure_latency

ROOT = Path(__file__).resolve().parents[1]
OURS = ROOT / 'configs' / 'segmentation' / 'lraspp_v3large_os16_cityscapes.py'
MMSEG = 'mmseg::mobilenet_v3/mobilenet-v3-d8_lraspp_4xb4-320k_cityscapes-512x1024.py'


def build_segmentor(cfg):
    init_default_scope('mmseg')
    from mmseg.registry import MODELS
    return revert_sync_batchnorm(MODELS.build(cfg.model)).eval()


def ours():
    model = build_segmentor(Config.fromfile(str(OURS)))
    model.backbone.switch_to_deploy()  # BN folded, channels-last
    # BN folded in the head too; its weights stay NCHW, so the logits come out NCHW, which
    # the final bilinear upsampling (19 x 512 x 1024 outputs) runs faster on
    fuse_conv_bn(model.decode_head)
    return model


def mmseg():
    cfg = get_config(MMSEG)  # resolves mmseg:: in the installed package
    cfg.model.pretrained = None  # its config points at a download
    cfg.model.backbone.init_cfg = None
    return build_segmentor(cfg)


def torchvision():
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large
    return lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=19).eval()


def full_resolution(model, kind):
    """A callable giving full-resolution logits, as the task needs them."""
    if kind == 'torchvision':
        return lambda x: model(x)['out']  # upsamples to the input itself
    return lambda x: F.interpolate(model(x, mode='tensor'), size=x.shape[2:], mode='bilinear',
                                   align_corners=False)


def deployed(model):
    """The deploy treatment ours gets: BN folded, the backbone channels-last."""
    model = fuse_conv_bn(copy.deepcopy(model))
    model.backbone.to(memory_format=torch.channels_last)
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--size', type=int, nargs=2, default=(512, 1024))
    args = parser.parse_args()
    x = torch.randn(1, 3, *args.size)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    models = {'ours': ours(), 'mmseg': mmseg(), 'torchvision': torchvision()}
    params = {name: count_params(m) for name, m in models.items()}
    params['ours'] = count_params(build_segmentor(Config.fromfile(str(OURS))))  # before folding
    fns = {name: (full_resolution(m, name), x) for name, m in models.items()}
    fns['torchvision deployed'] = (full_resolution(deployed(models['torchvision']),
                                                   'torchvision'), x_nhwc)

    times = {name: [] for name in fns}
    for _ in range(args.rounds):
        for name, (fn, inp) in fns.items():
            times[name].append(measure_latency(lambda: fn(inp), args.warmup, args.runs))
    best = {name: min(t) for name, t in times.items()}

    print(f'single-thread batch-1 latency at {args.size[0]}x{args.size[1]} (median of '
          f'{args.runs} runs after {args.warmup} warm-up, best of {args.rounds} rounds)')
    print(f'{"model":<24} {"params":>10} {"ms":>9} {"ours / it":>10}')
    for name, ms in best.items():
        ratio = '' if name == 'ours' else f'{best["ours"] / ms:>10.2f}'
        print(f'{name:<24} {params[name.split()[0]]:>10,} {ms:>9.1f} {ratio}')
    print(f'targets: ours / mmseg <= 0.30 (got {best["ours"] / best["mmseg"]:.2f}), '
          f'ours / torchvision <= 0.75 (got {best["ours"] / best["torchvision"]:.2f})')


if __name__ == '__main__':
    main()
