"""Fail fast, with the expected layout, when a config's dataset is not on disk.

tools/train.py and tools/test.py call :func:`check_data` before building the runner, so a missing
ImageNet / COCO / Cityscapes root gives one clear message instead of a traceback from inside a
dataset class (or a silent empty dataset) minutes later. The tools print it with
:func:`mnv3_plugin.runner_utils.run_cli`.
"""
import os.path as osp
from typing import Iterable, List, Optional

LAYOUTS = {
    'ImageNet': """{root}
  train/<class>/<image>.JPEG ...
  val/<class or flat>/<image>.JPEG ...
  meta/train.txt, meta/val.txt   ("<relative path> <label>" per line)""",
    'CocoDataset': """{root}
  annotations/instances_train2017.json, annotations/instances_val2017.json
  train2017/<image>.jpg ...
  val2017/<image>.jpg ...""",
    'CityscapesDataset': """{root}
  leftImg8bit/{{train,val,test}}/<city>/<name>_leftImg8bit.png
  gtFine/{{train,val,test}}/<city>/<name>_gtFine_labelTrainIds.png
  (make the labelTrainIds files with mmseg's tools/dataset_converters/cityscapes.py)""",
}


class DataRootError(FileNotFoundError):
    """A dataset of the config is not on disk; the message names it and the expected layout."""


def _datasets(cfg) -> Iterable[tuple]:
    for loader_key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_key)
        if not loader:
            continue
        dataset = loader.get('dataset')
        # unwrap RepeatDataset / ClassBalancedDataset / ConcatDataset wrappers
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset = dataset['dataset']
        datasets = dataset.get('datasets', [dataset]) if isinstance(dataset, dict) else []
        for ds in datasets:
            if isinstance(ds, dict):
                yield loader_key, ds


def _required_paths(ds: dict) -> List[str]:
    root = ds.get('data_root') or ''
    kind = str(ds.get('type', '')).split('.')[-1]
    prefix = ds.get('data_prefix') or {}
    if isinstance(prefix, str):
        prefix = dict(img_path=prefix)
    paths = []
    ann = ds.get('ann_file')
    if ann:
        paths.append(osp.join(root, ann))
    for key in ('img_path', 'img', 'seg_map_path', 'root'):
        if prefix.get(key):
            paths.append(osp.join(root, prefix[key]))
    if kind == 'ImageNet' and not ann and not prefix:
        split = ds.get('split')
        if split:  # mmpretrain reads meta/<split>.txt when present, else scans the folder
            paths.append(osp.join(root, split))
    if not paths:
        paths.append(root)
    return [p for p in paths if p]


def check_data(cfg, loaders: Optional[Iterable[str]] = None) -> None:
    """Raises :class:`DataRootError` naming the first missing path and the expected layout.

    Args:
        cfg: an mmengine Config.
        loaders: which dataloaders to check (default: all present).
    """
    for loader_key, ds in _datasets(cfg):
        if loaders is not None and loader_key not in loaders:
            continue
        missing = [p for p in _required_paths(ds) if not osp.exists(p)]
        if not missing:
            continue
        kind = str(ds.get('type', 'dataset')).split('.')[-1]
        root = ds.get('data_root') or '(none)'
        layout = LAYOUTS.get(kind, '{root}').format(root=root)
        raise DataRootError(
            f'the {loader_key} dataset ({kind}) is not where the config says: '
            f'{missing[0]!r} does not exist (data_root={root!r}, relative to the current '
            f'directory {osp.abspath(".")!r}).\n'
            f'Expected layout:\n{layout}\n'
            f'Put (or link) the data there, or point the config at it, e.g. '
            f'--cfg-options {loader_key}.dataset.data_root=/path/to/data')
