"""Fail fast, with the expected layout, when a config's datasets are not on disk.

tools/train.py and tools/test.py call :func:`check_data` before building the runner, so a missing
ImageNet / COCO / Cityscapes root gives one clear message instead of a traceback from inside a
dataset class (or a silent empty dataset) minutes later. The tools print it with
:func:`mnv3_plugin.runner_utils.run_cli`.
"""
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

# What lies under each data prefix of a dataset type; the file suffixes come from the config.
CONTENTS = {
    'ImageNet': '<class>/<image>.JPEG ...',
    'CustomDataset': '<class>/<image> ... (one folder per class)',
    'CocoDataset': '<image>.jpg ...',
}
NOTES = {
    'CityscapesDataset': "(make the labelTrainIds files with mmseg's "
                         'tools/dataset_converters/cityscapes.py)',
}
# mmseg's CityscapesDataset defaults, used when the config does not set the suffixes
SUFFIXES = {'CityscapesDataset': dict(img_suffix='_leftImg8bit.png',
                                      seg_map_suffix='_gtFine_labelTrainIds.png')}


class DataRootError(FileNotFoundError):
    """Datasets of the config are not on disk; the message names every missing path of the
    train, val and test loaders and the layout the config expects, with its file names."""


def _datasets(cfg) -> Iterable[tuple]:
    for loader_key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg.get(loader_key)
        if not loader:
            continue
        dataset, key = loader.get('dataset'), f'{loader_key}.dataset'
        # unwrap RepeatDataset / ClassBalancedDataset / ConcatDataset wrappers
        while isinstance(dataset, dict) and 'dataset' in dataset:
            dataset, key = dataset['dataset'], f'{key}.dataset'
        if isinstance(dataset, dict) and 'datasets' in dataset:
            for i, ds in enumerate(dataset['datasets']):
                if isinstance(ds, dict):
                    yield loader_key, ds, f'{key}.datasets.{i}'
        elif isinstance(dataset, dict):
            yield loader_key, dataset, key


def _kind(ds: dict) -> str:
    return str(ds.get('type', 'dataset')).split('.')[-1]


def _prefixes(ds: dict) -> Dict[str, str]:
    prefix = ds.get('data_prefix') or {}
    if isinstance(prefix, str):
        prefix = dict(img_path=prefix)
    return {k: prefix[k] for k in ('img_path', 'img', 'seg_map_path', 'root') if prefix.get(k)}


def _required_paths(ds: dict) -> List[str]:
    root = ds.get('data_root') or ''
    paths = []
    ann = ds.get('ann_file')
    if ann:
        paths.append(osp.join(root, ann))
    prefixes = _prefixes(ds)
    paths += [osp.join(root, p) for p in prefixes.values()]
    if _kind(ds) == 'ImageNet' and not ann and not prefixes:
        split = ds.get('split')
        if split:  # mmpretrain reads meta/<split>.txt when present, else scans the folder
            paths.append(osp.join(root, split))
    if not paths:
        paths.append(root)
    return [p for p in paths if p]


def expected_layout(ds: dict) -> List[str]:
    """The files a dataset config reads, with the config's own names and suffixes.

    Args:
        ds: a dataset config (``type``, ``data_root``, ``ann_file``, ``data_prefix``...).

    Returns:
        Lines such as ``data/coco/annotations/instances_val2017.json`` or
        ``data/cityscapes/gtFine/val/<city>/<name>_gtFine_labelTrainIds.png``.
    """
    kind, root = _kind(ds), ds.get('data_root') or ''
    suffixes = dict(SUFFIXES.get(kind, {}))
    suffixes.update({k: ds[k] for k in ('img_suffix', 'seg_map_suffix') if ds.get(k)})
    lines = []
    ann = ds.get('ann_file')
    if ann:
        what = ('("<relative path> <label>" per line)' if kind in ('ImageNet', 'CustomDataset')
                else '')
        lines.append(f'{osp.join(root, ann)} {what}'.rstrip())
    for key, prefix in _prefixes(ds).items():
        path = osp.join(root, prefix)
        if suffixes:
            suffix = suffixes['seg_map_suffix' if key == 'seg_map_path' else 'img_suffix']
            lines.append(f'{osp.join(path, "<city>", "<name>" + suffix)} ...')
        else:
            lines.append(f'{osp.join(path, CONTENTS.get(kind, "..."))}')
    split = ds.get('split')
    if kind == 'ImageNet' and split and not ann and not _prefixes(ds):
        lines.append(osp.join(root, split, CONTENTS['ImageNet']))
        lines.append(f'{osp.join(root, "meta", split + ".txt")} ("<relative path> <label>" per '
                     'line; optional, else the folder is scanned)')
    if not lines:
        lines.append(root or '(no data_root)')
    if kind in NOTES:
        lines.append(NOTES[kind])
    return lines


def missing_data(cfg, loaders: Optional[Iterable[str]] = None) -> List[Tuple[str, dict, str,
                                                                             List[str]]]:
    """The datasets of the config with a path that does not exist.

    Args:
        cfg: an mmengine Config.
        loaders: which dataloaders to look at (default: all present).

    Returns:
        One ``(loader key, dataset config, its key in the config, missing paths)`` per dataset
        (the key as ``--cfg-options`` takes it, e.g. ``train_dataloader.dataset``).
    """
    loaders = None if loaders is None else set(loaders)
    found = []
    for loader_key, ds, key_path in _datasets(cfg):
        if loaders is not None and loader_key not in loaders:
            continue
        missing = [p for p in _required_paths(ds) if not osp.exists(p)]
        if missing:
            found.append((loader_key, ds, key_path, missing))
    return found


def check_data(cfg, loaders: Optional[Iterable[str]] = None) -> None:
    """Raises :class:`DataRootError` naming every missing path of the config's datasets.

    One message covers all checked loaders (train, val and test), each dataset with its type,
    ``data_root``, the paths that do not exist and the files it expects (the config's own
    annotation files, folders and suffixes: :func:`expected_layout`).

    Args:
        cfg: an mmengine Config.
        loaders: which dataloaders to check (default: all present).

    Raises:
        DataRootError: some path of a checked dataset does not exist.
    """
    reports, seen, options = [], set(), []
    for loader_key, ds, key_path, missing in missing_data(cfg, loaders):
        root = ds.get('data_root') or '(none)'
        options.append(f'{key_path}.data_root=/path/to/data')
        key = (tuple(missing), _kind(ds))
        if key in seen:
            reports.append(f'- {loader_key} ({_kind(ds)}, data_root={root!r}): the same '
                           'missing paths as above')
            continue
        seen.add(key)
        layout = '\n'.join(f'      {line}' for line in expected_layout(ds))
        reports.append(
            f'- {loader_key} ({_kind(ds)}, data_root={root!r}): '
            + ', '.join(f'{p!r} does not exist' for p in missing)
            + f'\n    Expected layout:\n{layout}')
    if reports:
        raise DataRootError(
            'the datasets of the config are not where it says (paths relative to the current '
            f'directory {osp.abspath(".")!r}):\n' + '\n'.join(reports) + '\n'
            'Put (or link) the data there, or point the config at it, e.g. --cfg-options '
            + ' '.join(options))
