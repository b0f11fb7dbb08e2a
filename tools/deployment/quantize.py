"""int8 with NNCF: quantize a config's model and write OpenVINO IR, checked before writing.

    python tools/deployment/quantize.py CONFIG CHECKPOINT [--shape H W] [--out FILE.xml] \
        [--subset-size N] [--calib-dataloader NAME] [--num-images N] [--cfg-options ...]

CHECKPOINT is either fp32 weights (post-training quantization: NNCF calibrates the quantizers on
batches of the config's own dataloader, ``train_dataloader`` unless the config's
``quantization.calib_dataloader`` or --calib-dataloader says otherwise) or an int8 checkpoint
written by QAT (``tools/train.py`` with an int8 config), whose quantizers are restored as
trained. The int8 model is exported to OpenVINO IR (the .xml and its .bin) at --shape, and
OpenVINO's outputs are compared with the PyTorch fake-quant model's on fixture images of the
task's dataset format before anything is written; the int8 model's agreement with fp32 is
printed beside it.
"""
import argparse
import os.path as osp
import sys
import time
import warnings

warnings.filterwarnings('ignore', message='pkg_resources is deprecated')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file (fp32 or int8)')
    parser.add_argument('checkpoint', help='fp32 checkpoint (PTQ) or int8 QAT checkpoint')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input height and width of the IR (default: the config\'s test size)')
    parser.add_argument('--out', help='output .xml (default: work_dirs/deploy/'
                        '<config>_<H>x<W>_int8.xml)')
    parser.add_argument('--subset-size', type=int, help='calibration images (default: the '
                        'config\'s quantization.subset_size, else 300)')
    parser.add_argument('--calib-dataloader', help='the config\'s dataloader to calibrate on')
    parser.add_argument('--num-images', type=int, default=2, help='images for the check')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    return parser.parse_args()


def main():
    args = parse_args()
    from mnv3_plugin.runner_utils import user_errors
    try:
        from mnv3_plugin.deploy.errors import require
        for module in ('nncf', 'openvino', 'torchao'):
            require(module, 'int8 export')
        run(args)
    except user_errors() as e:  # DeployError, ConfigError...
        sys.exit(f'error: {e}')


def run(args):
    import torch

    from mnv3_plugin.apis import load_config
    from mnv3_plugin.deploy import DeployError
    from mnv3_plugin.deploy.images import check_inputs
    from mnv3_plugin.deploy.model import (NetworkForward, build_from_config, check_shape,
                                          default_input_shape, load_checkpoint, task_of)
    from mnv3_plugin.deploy.quantize import (NNCF_CONFIG_KEY, QuantizationSettings, calibrate,
                                             export_openvino_checked, quantizers,
                                             read_checkpoint_meta, restore_quantized)

    cfg = load_config(args.config, args.cfg_options)  # ConfigError: a one-line user error
    if not osp.isfile(args.checkpoint):
        raise DeployError(f'checkpoint {args.checkpoint!r} not found: give the fp32 weights '
                          'trained with this config (tools/train.py) or an int8 QAT checkpoint')
    settings = dict(cfg.get('quantization') or dict(method='ptq'))
    settings.pop('checkpoint', None)
    if args.subset_size:
        settings['subset_size'] = args.subset_size
    if args.calib_dataloader:
        settings['calib_dataloader'] = args.calib_dataloader
    settings = QuantizationSettings.from_cfg(settings)
    if args.shape:
        shape = tuple(args.shape)
    else:
        shape = default_input_shape(cfg)
    stem = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', 'deploy', f'{stem}_{shape[0]}x{shape[1]}_int8.xml')
    if not out.endswith('.xml'):
        raise DeployError(f'--out {out!r} must end in .xml (OpenVINO IR)')
    start = time.monotonic()
    model = build_from_config(cfg)
    task = task_of(model)
    check_shape(model, shape)
    meta = read_checkpoint_meta(args.checkpoint)
    fp32 = None
    if NNCF_CONFIG_KEY in meta:
        print(f'int8 checkpoint: restoring its NNCF quantizers from {args.checkpoint}')
        qmodel = restore_quantized(model, meta[NNCF_CONFIG_KEY])
        load_checkpoint(qmodel, args.checkpoint, repr(args.config))
        print(f'int8: {len(quantizers(qmodel))} quantizers restored')
    else:
        load_checkpoint(model, args.checkpoint, repr(args.config))
        import copy
        fp32 = copy.deepcopy(model).eval()
        qmodel = calibrate(model, cfg, settings)
    qmodel.eval()
    inputs = check_inputs(qmodel, task, shape, args.num_images)
    net = NetworkForward(qmodel).eval()
    export_openvino_checked(net, inputs, out, output_names=net.output_names())
    if fp32 is not None:
        ref_net = NetworkForward(fp32)
        with torch.no_grad():
            diffs = [max((a - b).abs().max().item() for a, b in zip(ref_net(x), net(x)))
                     for x in inputs]
        print(f'int8 (fake-quant) vs fp32 on the check images: outputs max |diff| '
              f'{max(diffs):.3g}')
    print(f'wrote {osp.abspath(out)} and its .bin in {time.monotonic() - start:.1f} s')


if __name__ == '__main__':
    main()
