"""Draw a config's training samples after its pipeline, with the host's visualizer.

    python tools/misc/browse_dataset.py CONFIG --output-dir DIR [--show-number 10]
        [--phase train|val|test] [--cfg-options k=v ...]

Like mmpretrain's, mmdet's and mmseg's browse_dataset: the image as the model gets it (after the
transforms) with its ground truth (class, boxes or mask).
"""
import argparse
import os
import os.path as osp

from mmengine.config import DictAction

from mnv3_plugin.runner_utils import load_config, run_cli, task_of


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--output-dir', required=True, help='where to write the images')
    parser.add_argument('--show-number', type=int, default=10)
    parser.add_argument('--phase', choices=['train', 'val', 'test'], default='train')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    cfg = load_config(args.config, args.cfg_options)
    task = task_of(cfg)
    from mnv3_plugin.data_check import check_data
    check_data(cfg, loaders=[f'{args.phase}_dataloader'])

    import importlib

    import mmcv
    from mmengine.registry import init_default_scope
    init_default_scope(task)
    registry = importlib.import_module(f'{task}.registry')
    dataset = registry.DATASETS.build(cfg[f'{args.phase}_dataloader'].dataset)
    visualizer = registry.VISUALIZERS.build(dict(cfg.visualizer, name='browse_dataset'))
    visualizer.dataset_meta = dataset.metainfo
    os.makedirs(args.output_dir, exist_ok=True)
    for i in range(min(args.show_number, len(dataset))):
        item = dataset[i]
        image = item['inputs'].permute(1, 2, 0).numpy()
        sample = item['data_samples']
        name = osp.basename(sample.get('img_path', f'{i}.png'))
        out = osp.join(args.output_dir, f'{i:04d}_{osp.splitext(name)[0]}.png')
        if task == 'mmpretrain':
            drawn = visualizer.visualize_cls(image[..., ::-1], sample, draw_pred=False)
        else:
            rgb = mmcv.bgr2rgb(image) if cfg.get('data_preprocessor', {}).get(
                'bgr_to_rgb', True) else image
            visualizer.add_datasample(name, rgb, sample, draw_pred=False, show=False)
            drawn = visualizer.get_image()
        mmcv.imwrite(mmcv.rgb2bgr(drawn), out)
    print(f'wrote {min(args.show_number, len(dataset))} images to {args.output_dir}')


if __name__ == '__main__':
    run_cli(main)
