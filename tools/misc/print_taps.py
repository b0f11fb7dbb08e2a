"""Print a backbone's rows, named taps, output widths (channels) and output strides.

    python tools/misc/print_taps.py CONFIG [--cfg-options model.backbone.output_stride=16 ...]
    python tools/misc/print_taps.py --arch large [--type MobileNetV3] [--widen-factor 0.75]
        [--width-rule timm] [--depth-multiplier 1.2] [--in-channels 4]
        [--reduced-tail detection] [--output-stride 16] [--out-indices C4 C5]
        [--options last_stage=original stem.channels=32 ...]

With a config, its model's backbone (``model.backbone``) is built as configured; with --arch,
the backbone of that arch (``--type`` picks the class when two have the arch, e.g. ``small``:
MobileNetV3 by default, or MnasNet). Rows are the table's (row 0 the stem); ``out_indices``
take row indices and the named taps; the widths scale with --widen-factor as
make_divisible(channels x factor, 8). The choices of --width-rule, --reduced-tail,
--dilation-rule and --output-stride are the backbone's own; --options passes any other backbone
argument (KEY=VALUE, as --cfg-options).
"""
import argparse

from mmengine.config import DictAction

from mnv3_plugin.models.backbones import mobilenet
from mnv3_plugin.runner_utils import run_cli

# the flags of backbone arguments: (flag, type, choices) with the backbone's own choices
BACKBONE_FLAGS = (('--widen-factor', float, None), ('--depth-multiplier', float, None),
                  ('--in-channels', int, None), ('--width-rule', str, mobilenet.WIDTH_RULES),
                  ('--reduced-tail', str, mobilenet.RF2_RULES),
                  ('--output-stride', int, mobilenet.OUTPUT_STRIDES),
                  ('--dilation-rule', str, mobilenet.DILATION_RULES))


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
    for flag, kind, choices in BACKBONE_FLAGS:
        parser.add_argument(flag, type=kind, choices=choices,
                            help=f'the backbone\'s {flag[2:].replace("-", "_")}')
    parser.add_argument('--out-indices', nargs='+',
                        help='row indices or named taps (C4, C5, os8_dw)')
    parser.add_argument('--options', nargs='+', action=DictAction, default={},
                        help='any other backbone argument, KEY=VALUE (e.g. last_stage=original)')
    args = parser.parse_args()
    if (args.config is None) == (args.arch is None):
        parser.error('give a CONFIG or --arch (one of them)')
    return args


def backbone_kwargs(args) -> dict:
    kwargs = dict(args.options)
    for flag, _, _ in BACKBONE_FLAGS:
        key = flag[2:].replace('-', '_')
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
