"""Single-thread batch-1 latency of the V3 classifiers against torchvision's, in one run.

    .venv/bin/python benchmarks/latency_classification.py [--runs 50] [--size 224]

The paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median. Both models have
the same architecture and parameter count (tests/test_backbones.py checks equal outputs after
conversion); ours runs in deploy mode (:func:`mnv3_plugin.apis.switch_to_deploy`): BN folded
into the convs, which removes one op per conv (the paper's TFLite numbers are also measured on
BN-folded graphs), and the backbone in channels-last (NHWC), which oneDNN's depthwise and 1x1
kernels run faster on CPU. Target: ratio (ours / torchvision) at most 0.9. For transparency the
last column is the ratio to torchvision converted to channels-last as well (the memory format
alone, not the model, is then the difference left).
"""
import copy

import torch
import torchvision
from mmpretrain.registry import MODELS

from mnv3_plugin.analysis import interleaved_latency
from mnv3_plugin.apis import switch_to_deploy
from mnv3_plugin.models.classifier import classifier_cfg
from _common import latency_parser


def main():
    parser = latency_parser(__doc__)
    parser.add_argument('--size', type=int, default=224)
    args = parser.parse_args()
    x = torch.randn(1, 3, args.size, args.size)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    print(f'single-thread batch-1 latency at {args.size}x{args.size} (median of {args.runs} '
          f'runs, {args.warmup} warm-up, best of {args.rounds} interleaved rounds)')
    print(f'{"model":<8} {"torchvision ms":>15} {"mnv3_plugin ms":>15} {"ratio":>7} '
          f'{"tv NHWC ms":>11} {"ratio vs NHWC":>14}')
    for arch in ('large', 'small'):
        ref = getattr(torchvision.models, f'mobilenet_v3_{arch}')(weights=None).eval()
        ref_nhwc = copy.deepcopy(ref).to(memory_format=torch.channels_last)
        ours = switch_to_deploy(MODELS.build(
            classifier_cfg(dict(type='mnv3_plugin.MobileNetV3', arch=arch))))
        best = interleaved_latency(
            dict(ref=lambda: ref(x), ours=lambda: ours(x, mode='tensor'),
                 ref_nhwc=lambda: ref_nhwc(x_nhwc)),
            args.rounds, args.warmup, args.runs, args.threads)
        a, b, c = best['ref'], best['ours'], best['ref_nhwc']
        print(f'V3-{arch:<5} {a:>15.2f} {b:>15.2f} {b / a:>7.2f} {c:>11.2f} {b / c:>14.2f}')


if __name__ == '__main__':
    main()
