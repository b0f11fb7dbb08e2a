"""Single-thread batch-1 latency of the V3 classifiers against torchvision's, in one run.

    .venv/bin/python benchmarks/latency_classification.py [--runs 50] [--size 224]

The paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median. Both models have
the same architecture and parameter count (tests/test_backbones.py checks equal outputs after
conversion); ours runs in deploy mode (``switch_to_deploy``): BN folded into the convs, which
removes one op per conv (the paper's TFLite numbers are also measured on BN-folded graphs), and
channels-last (NHWC) memory format, which oneDNN's depthwise and 1x1 kernels run faster on CPU.
Target: ratio (ours / torchvision) at most 0.9. For transparency the last column is the ratio to
torchvision converted to channels-last as well (the memory format alone, not the model, is
then the difference left).
"""
import argparse
import copy

import torch
import torchvision

from mnv3_plugin.analysis import measure_latency
from mnv3_plugin.models.classifier import build_classifier


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--size', type=int, default=224)
    parser.add_argument('--device', default='cpu')
    args = parser.parse_args()
    x = torch.randn(1, 3, args.size, args.size, device=args.device)
    print(f'single-thread batch-1 latency at {args.size}x{args.size} on {args.device} '
          f'(median of {args.runs} runs, {args.warmup} warm-up)')
    print(f'{"model":<8} {"torchvision ms":>15} {"mnv3_plugin ms":>15} {"ratio":>7} '
          f'{"tv NHWC ms":>11} {"ratio vs NHWC":>14}')
    for arch, head in (('large', 1280), ('small', 1024)):
        ref = getattr(torchvision.models, f'mobilenet_v3_{arch}')(weights=None).eval()
        ours = build_classifier(dict(type='mnv3_plugin.MobileNetV3', arch=arch), head).eval()
        ours.backbone.switch_to_deploy()
        ref, ours = ref.to(args.device), ours.to(args.device)
        sync = torch.cuda.synchronize if args.device.startswith('cuda') else (lambda: None)

        def run_ref():
            ref(x)
            sync()

        def run_ours():
            ours(x, mode='tensor')
            sync()

        ref_nhwc = copy.deepcopy(ref).to(memory_format=torch.channels_last)
        x_nhwc = x.contiguous(memory_format=torch.channels_last)

        def run_ref_nhwc():
            ref_nhwc(x_nhwc)
            sync()

        # interleave to share any drift of the machine between the models
        times = {run_ref: [], run_ours: [], run_ref_nhwc: []}
        for _ in range(3):
            for fn, samples in times.items():
                samples.append(measure_latency(fn, args.warmup, args.runs))
        a, b, c = (min(v) for v in times.values())
        print(f'V3-{arch:<5} {a:>15.2f} {b:>15.2f} {b / a:>7.2f} {c:>11.2f} {b / c:>14.2f}')


if __name__ == '__main__':
    main()
