"""Print a backbone's rows, named taps, output widths (channels) and output strides.

    python tools/misc/print_taps.py CONFIG [--cfg-options model.backbone.output_stride=16 ...]
    python tools/misc/print_taps.py --arch large [--type MobileNetV3] [--widen-factor 0.75]
        [--reduced-tail detection] [--output-stride 16] [--out-indices C4 C5]

With a config, its model's backbone (``model.backbone``) is built as configured; with --arch,
the backbone of that arch (``--type`` picks the class when two have the arch, e.g. ``small``:
MobileNetV3 by default, or MnasNet). Rows are the table's (row 0 the stem); ``out_indices``
take row indices and the named taps; the widths scale with --widen-factor as
make_divisible(channels x factor, 8).
"""
import argparse

from mmengine.config import DictAction

from mnv3_plugin.runner_utils import run_cli


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', nargs='?', help='a config whose model has a plugin backbone')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config')
    parser.add_argument('--arch', help='an arch of a plugin backbone, e.g. large, small, '
                        'large_minimal, v2, a1, v1 (an unknown one lists them all)')
    parser.add_argument('--type', help='the backbone class (default: the one with --arch, '
                        'MobileNetV3 for large/small)')
    parser.add_argument('--widen-factor', type=float)
    parser.add_argument('--reduced-tail', choices=['detection', 'segmentation'])
    parser.add_argument('--output-stride', type=int, choices=[8, 16, 32])
    parser.add_argument('--width-rule', choices=['tf', 'torchvision'])
    parser.add_argument('--out-indices', nargs='+',
                        help='row indices or named taps (C4, C5, os8_dw)')
    args = parser.parse_args()
    if (args.config is None) == (args.arch is None):
        parser.error('give a CONFIG or --arch (one of them)')
    return args


def backbone_kwargs(args) -> dict:
    kwargs = {}
    for key in ('widen_factor', 'reduced_tail', 'output_stride', 'width_rule'):
        if getattr(args, key) is not None:
            kwargs[key] = getattr(args, key)
    if args.out_indices:
        kwargs['out_indices'] = tuple(int(i) if i.lstrip('-').isdigit() else i
                                      for i in args.out_indices)
    return kwargs


def main():
    args = parse_args()
    from mnv3_plugin.apis import ConfigError, load_config
    from mnv3_plugin.taps import BACKBONES, build_backbone, outputs_summary, text_rows
    if args.config:
        cfg = load_config(args.config, args.cfg_options)
        backbone_cfg = dict(cfg.get('model', {}).get('backbone') or {})
        if not backbone_cfg:
            raise ConfigError(f'{args.config} has no model.backbone')
        backbone_cfg.update(backbone_kwargs(args))
        type_name = backbone_cfg.pop('type')
        backbone_cfg.pop('_scope_', None)
        title = f'{args.config}: {type_name}'
    else:
        types = [t for t, a in BACKBONES if a == args.arch]
        if not types:
            raise ConfigError(f'unknown arch {args.arch!r}; valid: '
                              f'{sorted({a for _, a in BACKBONES})}')
        type_name = args.type or ('MobileNetV3' if 'MobileNetV3' in types else types[0])
        backbone_cfg = dict(arch=args.arch, **backbone_kwargs(args))
        title = type_name
    backbone_cfg['init_cfg'] = None
    try:
        backbone = build_backbone(type_name, **backbone_cfg)
    except (TypeError, ValueError) as e:
        raise ConfigError(str(e)) from e
    options = ', '.join(f'{k}={v!r}' for k, v in backbone_cfg.items() if k != 'init_cfg')
    print(f'{title}({options})')
    print('\n'.join(text_rows(backbone)))
    print('\n'.join(outputs_summary(backbone)))


if __name__ == '__main__':
    run_cli(main)
