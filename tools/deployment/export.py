"""Export a config's model to ONNX or .pt2, checked against PyTorch before it is written.

    python tools/deployment/export.py CONFIG [CHECKPOINT] --format onnx|pt2 --shape H W \
        [--dynamic] [--out FILE] [--opset N] [--check-images PATH ...] \
        [--check-shape H W ...] [--cfg-options key=value ...]

The graph is the network forward (normalised RGB image in; logits, or the detector's raw head
maps, out); BN is folded into the convs. Detector decoding and NMS run outside the graph
(``mnv3_plugin.deploy.runtime.postprocess``). Before the file is written, the runtime's outputs
(ONNX Runtime for .onnx, ``torch.export.load`` for .pt2) are compared with the PyTorch eval
model's on real-format images (fixture images of the task's dataset format, or
--check-images): logits within 1e-4, detections the same boxes after NMS (IoU >= 0.99, scores
within 1e-4). A failed export or check writes nothing. With --dynamic, height and width are
symbolic and the check also runs at every --check-shape (default: half and 1.5x the export
size). Outputs that barely vary across the check images (random or untrained weights: no
CHECKPOINT) cannot show an export error: a ``check WARN`` line says so.
"""
import argparse
import os.path as osp
import sys
import time
import warnings

# mmengine imports pkg_resources at import time: not the user's concern here
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (.pth); random weights if '
                        'left out')
    parser.add_argument('--format', default='onnx', help='onnx (default) or pt2')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input height and width (default: the config\'s test size)')
    parser.add_argument('--dynamic', action='store_true',
                        help='export height and width as dynamic dimensions')
    parser.add_argument('--out', help='output file (default: work_dirs/deploy/'
                        '<config>_<H>x<W>[_dynamic].<format>)')
    parser.add_argument('--opset', type=int, help='ONNX opset (>= 18; default: the '
                        'exporter\'s)')
    parser.add_argument('--check-images', nargs='+', metavar='PATH',
                        help='images or folders to check on (default: fixture images of the '
                        'task\'s dataset format)')
    parser.add_argument('--num-images', type=int, default=2, help='images per checked size')
    parser.add_argument('--atol', type=float, default=1e-4,
                        help='bound on the outputs\' max abs difference from PyTorch (default '
                        '1e-4; large logits may need more: BN folding rounds in float32)')
    parser.add_argument('--check-shape', type=int, nargs=2, action='append', metavar=('H', 'W'),
                        help='with --dynamic: another size to check at (repeatable)')
    from mmengine.config import DictAction
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, e.g. '
                        'model.bbox_head.anchor_generator.input_size="(256, 256)"')
    return parser.parse_args()


def main():
    args = parse_args()
    from mnv3_plugin.deploy import DeployError
    from mnv3_plugin.deploy.export import FORMATS
    from mnv3_plugin.runner_utils import user_errors
    try:
        if args.format not in FORMATS:
            raise DeployError(f'unsupported format {args.format!r}; choose one of '
                              f'{", ".join(FORMATS)}')
        if args.check_shape and not args.dynamic:
            raise DeployError('--check-shape needs --dynamic (a static export runs at one size)')
        if args.format == 'onnx':
            from mnv3_plugin.deploy.errors import require
            for module in ('onnx', 'onnxscript', 'onnxruntime'):
                require(module, '--format onnx')
        run(args)
    except user_errors() as e:  # DeployError, ConfigError...
        sys.exit(f'error: {e}')


def run(args):
    import torch

    import mnv3_plugin  # noqa: F401
    from mnv3_plugin.apis import load_config
    from mnv3_plugin.deploy import DeployError
    from mnv3_plugin.deploy.export import export_checked
    from mnv3_plugin.deploy.images import check_inputs
    from mnv3_plugin.deploy.model import check_shape, default_input_shape, load_model, task_of

    cfg = load_config(args.config, args.cfg_options)  # ConfigError: a one-line user error
    shape = tuple(args.shape) if args.shape else default_input_shape(cfg)
    start = time.monotonic()
    model = load_model(cfg, args.checkpoint)
    task = task_of(model)
    check_shape(model, shape, args.dynamic)
    if args.num_images < 1:
        raise DeployError('--num-images must be at least 1')
    sizes = [shape]
    if args.dynamic:
        h, w = shape
        from mnv3_plugin.deploy.export import DYNAMIC_MAX, DYNAMIC_MIN
        sizes += ([tuple(s) for s in args.check_shape] if args.check_shape else
                  [(max(DYNAMIC_MIN, h // 2), max(DYNAMIC_MIN, w // 2)),
                   (min(DYNAMIC_MAX, h * 3 // 2), min(DYNAMIC_MAX, w * 3 // 2))])
        for s in sizes[1:]:
            check_shape(model, s, False)
    inputs = [x for s in sizes
              for x in check_inputs(model, task, s, args.num_images, args.check_images)]
    stem = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('work_dirs', 'deploy', f'{stem}_{shape[0]}x{shape[1]}'
                               f'{"_dynamic" if args.dynamic else ""}.{args.format}')
    if not out.endswith('.' + args.format):
        raise DeployError(f'--out {out!r} must end in .{args.format} for --format '
                          f'{args.format}')
    weights = args.checkpoint or 'no checkpoint: random weights'
    print(f'exporting {stem} ({task}, {weights}) to {args.format} at {shape[0]}x{shape[1]}'
          f'{" (dynamic H, W)" if args.dynamic else ""}')
    torch.manual_seed(0)
    report = export_checked(model, args.format, out, inputs, args.dynamic, args.opset,
                            atol=args.atol)
    size_mb = osp.getsize(report.path) / 2**20
    passed = len(report.checks) - len(report.warnings)
    warned = ' (1 warning: the check images cannot show an export error; see above)' \
        if report.warnings else ''
    print(f'wrote {report.path} ({size_mb:.1f} MiB) in {time.monotonic() - start:.1f} s: '
          f'{passed} checks passed{warned}')


if __name__ == '__main__':
    main()
