"""Print the whole config after inheritance and --cfg-options (as mmengine's print_config).

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save-path out.py]
"""
import argparse
import sys

from mmengine.config import DictAction

from mnv3_plugin.runner_utils import load_config, run_cli


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    parser.add_argument('--save-path', help='also write the resolved config here (.py/.json/.yml)')
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    if args.save_path:
        if not args.save_path.endswith(('.py', '.json', '.yaml', '.yml')):
            sys.exit('error: --save-path must end with .py, .json, .yaml or .yml')
        cfg.dump(args.save_path)
        print(f'saved to {args.save_path}', file=sys.stderr)


if __name__ == '__main__':
    run_cli(main)
