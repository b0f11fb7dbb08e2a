"""Single-thread batch-1 latency of Table 7's row 8 against mmseg's and torchvision's LR-ASPP.

    .venv/bin/python benchmarks/latency_segmentation.py [--runs 10] [--warmup 3] [--rounds 3]
                                                        [--size 512 1024]

The paper's protocol (Section 6.1.2, "CPU (h)" of Tables 7 and 8): one thread, batch 1, a
half-resolution 512x1024 input, warm-up, median. Each model returns full-resolution logits
(bilinear upsampling of its output included), 19 classes.

- ours: ``configs/segmentation/lraspp_v3large_os16_cityscapes.py`` (V3-Large with RF2, output
  stride 16, LR-ASPP with 128 filters) in deploy mode (``mnv3_plugin.apis.switch_to_deploy``):
  every BN folded into the conv before it (mmcv's ``fuse_conv_bn``, as the paper's TFLite
  graphs are) and the backbone in channels-last memory format, which oneDNN's depthwise
  convolutions prefer; the head's weights stay NCHW, so the logits come out NCHW, which the
  final bilinear upsampling runs faster on.
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
import torch
import torch.nn.functional as F
from mmengine.hub import get_config

from mnv3_plugin.analysis import count_params, interleaved_latency
from mnv3_plugin.apis import build_model, switch_to_deploy
from _common import latency_parser

OURS = 'configs/segmentation/lraspp_v3large_os16_cityscapes.py'
MMSEG = 'mmseg::mobilenet_v3/mobilenet-v3-d8_lraspp_4xb4-320k_cityscapes-512x1024.py'


def mmseg():
    cfg = get_config(MMSEG)  # resolves mmseg:: in the installed package
    cfg.model.pretrained = None  # its config points at a download
    cfg.model.backbone.init_cfg = None
    return build_model(cfg)


def torchvision():
    from torchvision.models.segmentation import lraspp_mobilenet_v3_large
    return lraspp_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=19).eval()


def full_resolution(model, kind):
    """A callable giving full-resolution logits, as the task needs them."""
    if kind.startswith('torchvision'):
        return lambda x: model(x)['out']  # upsamples to the input itself
    return lambda x: F.interpolate(model(x, mode='tensor'), size=x.shape[2:], mode='bilinear',
                                   align_corners=False)


def main():
    parser = latency_parser(__doc__, runs=10, warmup=3)
    parser.add_argument('--size', type=int, nargs=2, default=(512, 1024))
    args = parser.parse_args()
    x = torch.randn(1, 3, *args.size)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    models = {'ours': build_model(OURS), 'mmseg': mmseg(), 'torchvision': torchvision()}
    params = {name: count_params(m) for name, m in models.items()}  # before folding
    switch_to_deploy(models['ours'])
    models['torchvision deployed'] = switch_to_deploy(torchvision())
    inputs = dict(ours=x, mmseg=x, torchvision=x, **{'torchvision deployed': x_nhwc})
    fns = {name: (lambda f, inp: (lambda: f(inp)))(full_resolution(m, name), inputs[name])
           for name, m in models.items()}
    best = interleaved_latency(fns, args.rounds, args.warmup, args.runs, args.threads)

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
