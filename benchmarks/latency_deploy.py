"""Latency of the headline networks on the runtimes users deploy with, in one run.

    .venv/bin/python benchmarks/latency_deploy.py [--runs 30] [--rounds 3] [--rows NAME ...]

The paper's protocol (Section 6.1.2): one thread, batch 1, warm-up, median; the network forward
only (logits, or the detector's raw head maps; no post-processing). For each row:

- torchvision eager fp32 (torchvision's model of the same task, random weights): the reference;
- ours in torch deploy mode (BN folded, channels-last, eager);
- ours exported to ONNX (BN folded) on ONNX Runtime's CPU execution provider, fp32;
- the same ONNX file on OpenVINO's CPU plug-in, fp32;
- ours quantized by NNCF post-training quantization, as OpenVINO IR, int8.

Every variant's median is taken ``--rounds`` times, the rounds interleaved so that drift of the
machine is shared, and the smallest median is reported, with its ratio to torchvision eager.
Issue 11's targets (on an AVX-512 VNNI Xeon): V3-Large fp32 on the best runtime <= 0.45x
torchvision eager; int8 <= 0.25x torchvision and <= 0.6x our best fp32; segmentation and
detection faster in int8 than in fp32 on OpenVINO. Absolute times vary between machines;
compare the ratios within one run.
"""
import argparse
import sys
import warnings

import torch
import torchvision
from mmengine.config import Config

import mnv3_plugin  # noqa: F401
from mnv3_plugin.analysis import measure_latency
from mnv3_plugin.deploy.images import check_inputs
from mnv3_plugin.deploy.latency import prepare
from mnv3_plugin.deploy.model import load_model, task_of

warnings.filterwarnings('ignore')


def tv_classifier(arch):
    model = getattr(torchvision.models, f'mobilenet_v3_{arch}')(weights=None).eval()
    return lambda x: model(x)


def tv_lraspp():
    model = torchvision.models.segmentation.lraspp_mobilenet_v3_large(
        weights=None, weights_backbone=None).eval()
    # the head's logits at 1/8, as ours (torchvision's final upsample to the input left out)
    return lambda x: model.classifier(model.backbone(x))


def tv_ssdlite():
    model = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None).eval()
    # the raw head maps, as ours (anchor decoding and NMS left out)
    return lambda x: model.head(list(model.backbone(x).values()))


# name: (config, (H, W), torchvision reference)
ROWS = {
    'V3-Large 224': ('configs/classification/v3large_w100_r224_imagenet.py', (224, 224),
                     lambda: tv_classifier('large')),
    'V3-Small 224': ('configs/classification/v3small_w100_r224_imagenet.py', (224, 224),
                     lambda: tv_classifier('small')),
    'LR-ASPP T7r8 512x1024': ('configs/segmentation/lraspp_v3large_os16_cityscapes.py',
                              (512, 1024), tv_lraspp),
    'SSDLite T6 V3 320': ('configs/detection/ssdlite_v3large_w100_r320_coco.py', (320, 320),
                          tv_ssdlite),
}
VARIANTS = ('torch', 'onnxruntime', 'openvino', 'openvino int8')


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--runs', type=int, default=30)
    parser.add_argument('--warmup', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--rows', nargs='+', choices=list(ROWS), default=list(ROWS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'one thread, batch 1, median of {args.runs} runs ({args.warmup} warm-up), best of '
          f'{args.rounds} interleaved rounds; ms (ratio to torchvision eager)')
    header = f'{"network":<22} {"torchvision":>12}' + ''.join(
        f' {v:>18}' for v in ('ours torch deploy', 'ORT fp32', 'OpenVINO fp32',
                              'OpenVINO int8'))
    print(header)
    results = {}
    for name in args.rows:
        config, shape, tv = ROWS[name]
        model = load_model(Config.fromfile(config))
        calib = check_inputs(model, task_of(model), shape, 4)
        ref = tv()
        x = torch.randn(1, 3, *shape)

        def run_tv():
            with torch.inference_mode():
                ref(x)

        fns = {'torchvision': run_tv}
        for variant in VARIANTS:
            backend, _, int8 = variant.partition(' ')
            fns[variant] = prepare(model, backend, shape, bool(int8), calib)
        times = {k: [] for k in fns}
        for _ in range(args.rounds):
            for k, fn in fns.items():
                times[k].append(measure_latency(fn, args.warmup, args.runs))
        for k, fn in fns.items():
            if hasattr(fn, 'close'):
                fn.close()
        best = {k: min(v) for k, v in times.items()}
        results[name] = best
        base = best['torchvision']
        print(f'{name:<22} {base:>12.2f}' + ''.join(
            f' {best[v]:>10.2f} ({best[v] / base:.2f}x)' for v in VARIANTS), flush=True)
    if 'V3-Large 224' in results:
        r = results['V3-Large 224']
        base = r['torchvision']
        fp32 = min(r['torch'], r['onnxruntime'], r['openvino'])
        print(f'targets, V3-Large: best fp32 {fp32 / base:.2f}x torchvision (<= 0.45); int8 '
              f'{r["openvino int8"] / base:.2f}x torchvision (<= 0.25) and '
              f'{r["openvino int8"] / fp32:.2f}x our best fp32 (<= 0.6)')
    for name in ('LR-ASPP T7r8 512x1024', 'SSDLite T6 V3 320'):
        if name in results:
            r = results[name]
            print(f'targets, {name}: OpenVINO int8 / fp32 = '
                  f'{r["openvino int8"] / r["openvino"]:.2f} (< 1)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
