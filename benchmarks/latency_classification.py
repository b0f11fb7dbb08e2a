"""Single-thread batch-1 latency of the V3 classifiers against torchvision's, in one run.

    .venv/bin/python benchmarks/latency_classification.py [--runs 50] [--size 224]

The paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median. Both models have
the same architecture and parameter count (tests/test_backbones.py checks equal outputs after
conversion); ours runs in deploy mode: BN folded into the convs (``switch_to_deploy``), which
removes one op per conv (the paper's TFLite numbers are also measured on BN-folded graphs).
Target: ratio (ours / torchvision) at most 0.9. Prints a table with the ratios.
"""
import argparse

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
    print(f'{"model":<8} {"torchvision ms":>15} {"mnv3_plugin ms":>15} {"ratio":>7}')
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

        # interleave to share any drift of the machine between the two
        t_ref, t_ours = [], []
        for _ in range(3):
            t_ref.append(measure_latency(run_ref, args.warmup, args.runs))
            t_ours.append(measure_latency(run_ours, args.warmup, args.runs))
        a, b = min(t_ref), min(t_ours)
        print(f'V3-{arch:<5} {a:>15.2f} {b:>15.2f} {b / a:>7.2f}')


if __name__ == '__main__':
    main()
