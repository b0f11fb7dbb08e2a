"""Training throughput of the V3-Large 1.0 config against mmpretrain's own MobileNetV3-Large.

    .venv/bin/python benchmarks/throughput_classification.py [--steps 10] [--batch 32]
        [--device cpu|cuda] [--no-channels-last]

Images per second of full training steps (data preprocessor, forward, loss, backward, RMSProp
update) at batch 32, 224x224, all cores, for both models built from their configs
(configs/classification/v3large_w100_r224_imagenet.py and
mmpretrain::mobilenet_v3/mobilenet-v3-large_8xb128_in1k.py, same optimizer), measured in the
same run, interleaved. Target: ratio (ours / mmpretrain) at least 1.1.

Where the gain comes from: h-swish and the SE gate's h-sigmoid are torch's fused kernels here
(mmcv's HSigmoid computes (x + 3) / 6 and clamp as separate ops, each with its own backward), and
the training step runs in channels-last memory format (``--no-channels-last`` to see that part).
"""
import argparse
import time

import torch
from mmengine.config import Config

from mnv3_plugin.apis import build_model

OURS = 'configs/classification/v3large_w100_r224_imagenet.py'
THEIRS = 'mmpretrain::mobilenet_v3/mobilenet-v3-large_8xb128_in1k.py'


def make_step(cfg_path, device, batch, channels_last):
    from mmengine.optim import build_optim_wrapper
    from mmpretrain.structures import DataSample
    cfg = (Config.fromstring(f"_base_ = '{cfg_path}'", '.py') if '::' in cfg_path
           else Config.fromfile(cfg_path))
    model = build_model(cfg).to(device).train()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    # the same optimizer for both: the paper's RMSProp
    optim = build_optim_wrapper(model, dict(optimizer=dict(
        type='RMSprop', lr=1e-3, alpha=0.9, momentum=0.9, eps=0.0316, weight_decay=1e-5)))
    inputs = [torch.randint(0, 256, (3, 224, 224), dtype=torch.uint8) for _ in range(batch)]
    samples = [DataSample().set_gt_label(i % 1000) for i in range(batch)]

    def step():
        data = model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True)
        if channels_last:
            data['inputs'] = data['inputs'].contiguous(memory_format=torch.channels_last)
        losses = model(**data, mode='loss')
        optim.update_params(losses['loss'])
        if device.startswith('cuda'):
            torch.cuda.synchronize()
    return step


def images_per_second(step, steps, batch):
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--batch', type=int, default=32)
    parser.add_argument('--rounds', type=int, default=3)
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--no-channels-last', action='store_true')
    args = parser.parse_args()
    ours = make_step(OURS, args.device, args.batch, not args.no_channels_last)
    theirs = make_step(THEIRS, args.device, args.batch, False)
    best = {'ours': 0.0, 'mmpretrain': 0.0}
    for _ in range(args.rounds):  # interleaved, best of rounds for each
        best['mmpretrain'] = max(best['mmpretrain'],
                                 images_per_second(theirs, args.steps, args.batch))
        best['ours'] = max(best['ours'], images_per_second(ours, args.steps, args.batch))
    print(f'training throughput, batch {args.batch}, 224x224, {args.device}, '
          f'{torch.get_num_threads()} threads')
    print(f'{"mmpretrain MobileNetV3-Large":<32} {best["mmpretrain"]:8.1f} img/s')
    print(f'{"mnv3_plugin V3-Large 1.0":<32} {best["ours"]:8.1f} img/s')
    print(f'ratio (ours / mmpretrain): {best["ours"] / best["mmpretrain"]:.2f}')


if __name__ == '__main__':
    main()
