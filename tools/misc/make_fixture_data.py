#!/usr/bin/env python
"""Write the plugin's deterministic synthetic datasets to disk.

The sets come from ``mnv3_plugin.testing.fixtures`` and use the exact on-disk formats of the
host libraries, so configs can point their ``data_root`` at them:

  imagenet    mmpretrain ImageNet:  train/<class>/*.JPEG, val/<class>/*.JPEG, meta/{train,val}.txt
  coco        mmdet CocoDataset:    {train,val}/*.jpg, annotations/instances_{train,val}.json
  cityscapes  mmseg CityscapesDataset: leftImg8bit/<split>/<city>/*_leftImg8bit.png,
                                       gtFine/<split>/<city>/*_gtFine_labelTrainIds.png
"""
import argparse
import sys
import time
from pathlib import Path

try:
    import mnv3_plugin  # noqa: F401
except ImportError:  # run from a checkout without the package installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from mnv3_plugin.runner_utils import run_cli  # noqa: E402
from mnv3_plugin.testing import GENERATORS  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='examples:\n'
        '  python tools/misc/make_fixture_data.py cityscapes --out data/cityscapes_synth '
        '--num-train 300 --num-val 50 --size 256 512\n'
        '  python tools/misc/make_fixture_data.py all --out /tmp/fixtures')
    parser.add_argument('dataset', choices=[*GENERATORS, 'all'],
                        help="which set to write; 'all' writes each into DIR/<dataset>")
    parser.add_argument('--out', required=True, type=Path, metavar='DIR',
                        help='dataset root to write (the data_root of the config)')
    parser.add_argument('--num-train', type=int, metavar='N',
                        help='training images (default: imagenet 32, coco 16, cityscapes 8)')
    parser.add_argument('--num-val', type=int, metavar='N',
                        help='validation images (default: imagenet 16, coco 8, cityscapes 4)')
    parser.add_argument('--size', type=int, nargs=2, metavar=('H', 'W'),
                        help='image height and width (default: imagenet 64 64, coco 128 128, '
                        'cityscapes 128 256)')
    parser.add_argument('--seed', type=int, default=0,
                        help='random seed; the same seed writes byte-identical files '
                        '(default: %(default)s)')
    parser.add_argument('--overwrite', action='store_true',
                        help="replace the set's existing sub-folders under DIR instead of "
                        'refusing')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    names = list(GENERATORS) if args.dataset == 'all' else [args.dataset]
    # Only pass what was given, so each generator keeps its own defaults.
    kwargs = {k: v for k, v in dict(num_train=args.num_train, num_val=args.num_val,
                                    size=args.size and tuple(args.size)).items()
              if v is not None}
    for name in names:
        root = args.out / name if args.dataset == 'all' else args.out
        start = time.perf_counter()
        try:
            info = GENERATORS[name](root, seed=args.seed, overwrite=args.overwrite, **kwargs)
        except (FileExistsError, ValueError) as err:
            sys.exit(f'error: {err}')
        files = [p for p in info.root.rglob('*') if p.is_file()]
        splits = ', '.join(f'{n} {s}' for s, n in info.num_images.items())
        print(f'{name}: wrote {len(files)} files ({sum(p.stat().st_size for p in files) / 1e6:.1f}'
              f' MB) to {info.root} in {time.perf_counter() - start:.1f}s')
        print(f'  images: {splits}'
              + (f'; instances: {info.num_instances}' if info.num_instances else ''))
        labels = ', '.join(f'{i}={c}' for i, c in zip(info.label_ids, info.classes))
        print(f'  labels: {labels}')
        for sub in sorted({p.relative_to(info.root).parent for p in files}):
            n = sum(1 for p in files if p.parent == info.root / sub)
            print(f'  {sub}/: {n} files')


if __name__ == '__main__':
    run_cli(main)
