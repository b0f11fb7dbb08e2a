"""The model index: ``configs/metafile.yml`` and the per-task metafiles it imports.

``configs/metafile.yml`` lists the task metafiles (mmpretrain's ``model-index.yml`` shape)::

    Import:
      - classification/metafile.yml
      - segmentation/metafile.yml
      - detection/metafile.yml

Each task metafile has ``Collections`` (optional) and ``Models``; one model per config::

    Models:
      - Name: lraspp_v3large_os16_cityscapes          # the config's file stem
        Config: configs/segmentation/lraspp_v3large_os16_cityscapes.py
        Task: Semantic Segmentation                   # or Image Classification / Object Detection
        Paper:
          Table: '7'                                  # the paper's table
          Row: '8'                                    # the row label as printed
          Results: {mIoU: 72.36, Params (M): 1.51, MAdds (B): 9.74, CPU f (s): 2.47}
        Ours:                                         # measured by tools/analysis/complexity.py
          Params (M): 1.507
          MAdds (B): 9.57
          Input: [1024, 2048]                         # where MAdds were counted
        Notes: why a number differs from the paper, where it does

``Paper.Results`` holds the paper's numbers for the row with the column names as printed;
``Ours`` holds this plugin's counts, kept equal to what the code computes by the tests.
"""
from pathlib import Path
from typing import Dict, List, Optional, Union

import yaml

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / 'configs' / 'metafile.yml'
TASKS = ('Image Classification', 'Semantic Segmentation', 'Object Detection')
REQUIRED = ('Name', 'Config', 'Task', 'Paper', 'Ours')

# Input sizes (H, W) of the MAdds columns whose size is fixed by the paper, for entries that do
# not give ``Ours.Input``: Tables 7-8 count at full (f) and half (h) Cityscapes resolution, and
# the metafile also records TF DeepLab's evaluation crops (k x 16 + 1), where the paper's counts
# come from (docs/segmentation.md).
MADDS_INPUTS = {'MAdds f (B)': (1024, 2048), 'MAdds h (B)': (512, 1024),
                'MAdds f TF crop (B)': (1025, 2049), 'MAdds h TF crop (B)': (513, 1025)}


class MetafileError(ValueError):
    """A metafile entry is missing a field or points at a missing config."""


def load_models(index: Union[str, Path] = INDEX) -> List[dict]:
    """All model entries of the index, validated, in file order."""
    index = Path(index)
    data = yaml.safe_load(index.read_text()) or {}
    models = []
    for rel in data.get('Import', []):
        path = index.parent / rel
        if not path.is_file():
            raise MetafileError(f'{index} imports {rel}, which does not exist')
        for entry in (yaml.safe_load(path.read_text()) or {}).get('Models', []):
            _validate(entry, path)
            models.append(entry)
    models.extend(_validate(e, index) or e for e in data.get('Models', []))
    return models


def _validate(entry: dict, source: Path) -> None:
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise MetafileError(f'{source}: model {entry.get("Name")!r} lacks {missing}')
    if entry['Task'] not in TASKS:
        raise MetafileError(f'{source}: {entry["Name"]}: Task must be one of {TASKS}')
    if not (ROOT / entry['Config']).is_file():
        raise MetafileError(f'{source}: {entry["Name"]}: config {entry["Config"]} not found')
    if Path(entry['Config']).stem != entry['Name']:
        raise MetafileError(f'{source}: Name {entry["Name"]!r} must be the config file stem')
    for key in ('Table', 'Row'):
        if key not in entry['Paper']:
            raise MetafileError(f'{source}: {entry["Name"]}: Paper lacks {key}')


def find(name_or_config: str, models: Optional[List[dict]] = None) -> Optional[dict]:
    """The entry of a config (by path or name), or None."""
    stem = Path(name_or_config).stem
    for entry in models if models is not None else load_models():
        if entry['Name'] == stem:
            return entry
    return None


def by_table(table: str, models: Optional[List[dict]] = None) -> List[dict]:
    """Entries of one paper table (e.g. '3', '7'), in file order."""
    return [e for e in (models if models is not None else load_models())
            if str(e['Paper']['Table']) == str(table)]


def group_by_table(models: Optional[List[dict]] = None) -> Dict[str, List[dict]]:
    groups: Dict[str, List[dict]] = {}
    for entry in models if models is not None else load_models():
        groups.setdefault(str(entry['Paper']['Table']), []).append(entry)
    return groups
