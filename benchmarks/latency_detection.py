"""Single-thread batch-1 latency of SSDLite (Table 6) against torchvision's, in one run.

    .venv/bin/python benchmarks/latency_detection.py [--runs 50] [--warmup 10]

Protocol (Section 6.1.2): one thread, batch 1, warm-up runs, then the median; the three
models are measured interleaved, three rounds, best round kept, so drift of the machine is
shared. Input 320x320.

Stage compared: the network forward up to the raw head outputs (class scores and box deltas of
all six maps), for both: ours ``model(x, mode='tensor')``, torchvision's
``model.head(list(model.backbone(x).values()))``. Pre-processing and post-processing (box
decoding, NMS) are left out: with untrained weights every score sits near 1 / (classes + 1), so
how many boxes reach NMS (and so its cost) depends on each library's score threshold rather
than on the model.

Models: torchvision's ``ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None)``
(which turns on the reduced tail, RF2, when no backbone weights are given; 6 anchors on every
map; 91 outputs), our Table 6 "V3" row (no RF2: a larger model, 0.61B MAdds vs 0.58B) and "V3
dagger" row, both built with 90 classes (91 outputs) as the released models and torchvision.
Ours run in deploy mode (``mnv3_plugin.apis.switch_to_deploy``: BN folded into every
conv of backbone, neck and head, the backbone in channels-last memory format); torchvision's
model is used as it comes.
Target: V3 / torchvision at most 1.0. The "eager" columns time our models as built (eval mode,
BN unfolded, NCHW), and the last line torchvision's model converted to channels-last, so the part
of the gain that is the memory format alone can be told apart.
"""
import copy

import torch
import torchvision

from mnv3_plugin.analysis import count_madds, count_params, interleaved_latency, tensor_forward
from mnv3_plugin.apis import build_model, load_config, switch_to_deploy
from _common import latency_parser

CONFIGS = {
    'V3': 'configs/detection/ssdlite_v3large_w100_r320_coco.py',
    'V3 dagger': 'configs/detection/ssdlite_v3large-rf2_w100_r320_coco.py',
}


def build_ours(path: str, num_classes: int = 90):
    cfg = load_config(path)
    cfg.model.bbox_head.num_classes = num_classes
    return build_model(cfg, init_weights=True)


def main():
    args = latency_parser(__doc__).parse_args()
    torch.manual_seed(0)
    x = torch.randn(1, 3, 320, 320)
    x_nhwc = x.contiguous(memory_format=torch.channels_last)
    ref = torchvision.models.detection.ssdlite320_mobilenet_v3_large(
        weights=None, weights_backbone=None).eval()
    ref_nhwc = copy.deepcopy(ref).to(memory_format=torch.channels_last)
    fns = {'torchvision': lambda: ref.head(list(ref.backbone(x).values())),
           'torchvision NHWC': lambda: ref_nhwc.head(list(ref_nhwc.backbone(x_nhwc).values()))}
    info = {}
    for name, path in CONFIGS.items():
        model = build_ours(path)
        info[name] = (count_params(model),
                      count_madds(model, (1, 3, 320, 320), tensor_forward))
        eager = copy.deepcopy(model)  # eval mode as built, for the "no deploy" column
        switch_to_deploy(model)
        fns[name] = (lambda m: (lambda: m(x, mode='tensor')))(model)
        fns[name + ' eager'] = (lambda m: (lambda: m(x, mode='tensor')))(eager)
    best = interleaved_latency(fns, args.rounds, args.warmup, args.runs, args.threads)
    print(f'single-thread batch-1 latency at 320x320, network forward to raw head outputs '
          f'(median of {args.runs} runs after {args.warmup} warm-up, best of {args.rounds} '
          f'rounds); torch {torch.__version__}, torchvision {torchvision.__version__}')
    tv = best['torchvision']
    print(f'{"model":<12} {"params":>10} {"MAdds":>7} {"deploy ms":>10} {"ratio":>6} '
          f'{"eager ms":>9} {"ratio":>6}')
    ref_madds = count_madds(ref, (1, 3, 320, 320),
                            forward=lambda m, t: m.head(list(m.backbone(t).values())))
    print(f'{"torchvision":<12} {count_params(ref):>10,} {ref_madds / 1e9:>6.3f}B {"":>10} '
          f'{"":>6} {tv:>9.2f} {1.0:>6.2f}')
    for name in CONFIGS:
        params, madds = info[name]
        dep, eag = best[name], best[name + ' eager']
        print(f'{name:<12} {params:>10,} {madds / 1e9:>6.3f}B {dep:>10.2f} {dep / tv:>6.2f} '
              f'{eag:>9.2f} {eag / tv:>6.2f}')
    print(f'torchvision in channels-last (unfused BN): {best["torchvision NHWC"]:.2f} ms; '
          f'V3 (deploy) / that = {best["V3"] / best["torchvision NHWC"]:.2f}')
    print(f'target: V3 (deploy) / torchvision <= 1.0 -> {best["V3"] / tv:.2f}')


if __name__ == '__main__':
    main()
