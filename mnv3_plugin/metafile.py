"""The model index: ``configs/metafile.yml`` and the per-task metafiles it imports.

``configs/metafile.yml`` lists the task metafiles (mmpretrain's ``model-index.yml`` shape)::

    Import:
      - classification/metafile.yml
      - classification/metafile-section5.yml
      - segmentation/metafile.yml
      - detection/metafile.yml

Each task metafile has ``Collections`` (optional) and ``Models``; one model per config::

    Models:
      - Name: lraspp_v3large_os16_cityscapes          # the config's file stem
        Config: configs/segmentation/lraspp_v3large_os16_cityscapes.py
        Task: Semantic Segmentation                   # or Image Classification / Object Detection
        Paper:
          Table: '7'                                  # the paper's table ('Figure 7', 'Section 5')
          Row: '8'                                    # the row label as printed
          Results: {mIoU: 72.36, Params (M): 1.51, MAdds f (B): 9.74,   # as printed
                    MAdds h (B): 2.48}
          Also In: [...]                              # other tables the row appears in
        Ours:                                         # what the code computes, one item per
          - Input: [1025, 2049]                       # input size (H, W) and class count
            Num Classes: 19
            Params (M): 1.507
            MAdds (B): 9.538
            Paper Columns: {Params (M): Params (M), MAdds (B): MAdds f (B)}
        Known Gaps:                                   # paper columns no released definition
          MAdds h (B): why                            # reproduces, with the reason
        Notes: anything else a reader should know

A recipe sibling (a config that trains a row's network with a public reproduction's schedule,
e.g. ``v3large-timmrecipe_w100_r224_imagenet``) states only, besides Name, Config and Task::

        Variant Of: v3large_w100_r224_imagenet        # the row's config name
        Reproduced:                                   # what the public recipe reached
          Results: {Top-1: 75.77}                     # as published (their metric names)
          Source: huggingface/pytorch-image-models/docs/training_hparam_examples.md
                                                      # repository/path, or a list of them
          Recipe: RMSProp lr 0.064 at batch 1024, x0.973 every 2.4 epochs, ...   # one line

and the loader gives it its row's ``Paper`` block (no ``Also In``: it is not a row of its own),
``Ours`` and ``Known Gaps``. A row has one config (entries without ``Variant Of``); recipe
siblings are listed beside it.

An int8 config (the row's network quantized to 8 bits, ``-int8`` in its name) names its fp32
row with ``Int8 Of`` instead::

        Int8 Of: v3large_w100_r224_imagenet          # the fp32 row's config name
        Paper:                                       # only where the paper prints the
          Table: '4'                                 # quantized network (Table 4): a row of
          Row: V3-Large 1.0                          # that table
          Results: {Top-1: 73.8, P-1 (ms): 44, P-2 (ms): 42.5, P-3 (ms): 31.7}
        Reproduced: {...}                            # optional, as above: a public int8
                                                     # result of the same recipe

It takes its row's ``Ours`` (the int8 network has the fp32 network's params and MAdds). With a
``Paper`` block of its own it is a row of that table, and its ``Ours`` items keep no ``Paper
Columns`` (Table 4 prints no counts: nothing to compare) and it takes no ``Known Gaps``.
Without one (an int8 config beyond the paper, e.g. of Table 7 row 8) it takes the row's
``Paper`` block (no ``Also In``), ``Ours`` and ``Known Gaps`` like a recipe sibling, is listed
beside its row, and the loader marks it ``Beyond Paper: true``. :func:`is_row` tells the paper's
rows from the entries listed beside them.
``Ours`` is kept equal to :func:`mnv3_plugin.analysis.config_complexity` by
tests/test_metafile.py, which also compares each number with the paper column its
``Paper Columns`` names (within the task's tolerance) unless that column is a Known Gap.
"""
from pathlib import Path
from typing import Dict, List, Optional, Union

import yaml

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / 'configs' / 'metafile.yml'
TASKS = ('Image Classification', 'Semantic Segmentation', 'Object Detection')
REQUIRED = ('Name', 'Config', 'Task', 'Paper', 'Ours')
COUNT_KEYS = ('Params (M)', 'MAdds (M)', 'MAdds (B)')
# keys naming the row an entry is listed beside (a recipe sibling; an int8 config)
OF_KEYS = ('Variant Of', 'Int8 Of')
UNITS = {'Params (M)': 1e6, 'MAdds (M)': 1e6, 'MAdds (B)': 1e9}


class MetafileError(ValueError):
    """A metafile entry is missing a field, breaks the schema or points at a missing config."""


def load_models(index: Union[str, Path] = INDEX) -> List[dict]:
    """All model entries of the index, validated, in file order.

    Raises:
        MetafileError: an imported file is missing or an entry breaks the schema.
    """
    index = Path(index)
    data = yaml.safe_load(index.read_text()) or {}
    models, sources = [], []
    for rel in data.get('Import', []):
        path = index.parent / rel
        if not path.is_file():
            raise MetafileError(f'{index} imports {rel}, which does not exist')
        for entry in (yaml.safe_load(path.read_text()) or {}).get('Models', []):
            models.append(entry)
            sources.append(path)
    rows = {e.get('Name'): e for e in models if not set(e) & set(OF_KEYS)}
    _inherit_rows(models, rows)
    for entry, path in zip(models, sources):
        _validate(entry, path)
        keys = [k for k in OF_KEYS if k in entry]
        if len(keys) > 1:
            raise MetafileError(f'{path}: {entry["Name"]}: give one of {keys}')
        if keys and entry[keys[0]] not in rows:
            raise MetafileError(f'{path}: {entry["Name"]}: {keys[0]} {entry[keys[0]]!r} is not '
                                'a row entry')
    return models


def is_row(entry: dict) -> bool:
    """Whether an entry is a row of its paper table (not a recipe sibling, nor an int8 config
    beyond the paper)."""
    return 'Variant Of' not in entry and not entry.get('Beyond Paper')


def _inherit_rows(models: List[dict], rows: Dict[str, dict]) -> None:
    """A recipe sibling (``Variant Of``) or an int8 config beyond the paper (``Int8 Of``
    without a Paper block) takes its row's Paper block (without ``Also In``), Ours and Known
    Gaps; an int8 row of a paper table (``Int8 Of`` with its own Paper block) takes the row's Ours
    only, without Paper Columns. The network and the printed row are stated once, on the row."""
    for e in models:
        row = rows.get(e.get('Variant Of') or e.get('Int8 Of'))
        if row is None:
            continue
        if 'Int8 Of' in e and 'Paper' in e:
            e.setdefault('Ours', [{k: v for k, v in item.items() if k != 'Paper Columns'}
                                  for item in row['Ours']])
            continue
        if 'Int8 Of' in e:
            e['Beyond Paper'] = True
        e.setdefault('Paper', {k: v for k, v in row['Paper'].items() if k != 'Also In'})
        e.setdefault('Ours', row['Ours'])
        if row.get('Known Gaps'):
            e.setdefault('Known Gaps', row['Known Gaps'])


def _validate_reproduced(entry: dict, source: Path) -> None:
    name, rep = entry.get('Name'), entry.get('Reproduced')
    if ('Variant Of' in entry) != (rep is not None) and 'Int8 Of' not in entry:
        raise MetafileError(f'{source}: {name}: a recipe sibling needs both Variant Of and '
                            'Reproduced')
    if rep is None:
        return
    if not isinstance(rep, dict) or set(rep) != {'Results', 'Source', 'Recipe'}:
        raise MetafileError(f'{source}: {name}: Reproduced must have exactly Results, Source '
                            f'and Recipe, got {rep}')
    results = rep['Results']
    if not (isinstance(results, dict) and results
            and all(isinstance(v, (int, float)) for v in results.values())):
        raise MetafileError(f'{source}: {name}: Reproduced Results must map metric names to '
                            f'published numbers, got {results}')
    sources = rep['Source'] if isinstance(rep['Source'], list) else [rep['Source']]
    if not sources or not all(isinstance(s, str) and s.count('/') >= 2 for s in sources):
        raise MetafileError(f'{source}: {name}: Reproduced Source must be '
                            f"'owner/repository/path' (or a list of them), got {rep['Source']}")
    if not (isinstance(rep['Recipe'], str) and rep['Recipe'].strip()):
        raise MetafileError(f'{source}: {name}: Reproduced Recipe must be a one-line summary')
    if 'Also In' in entry['Paper'] and 'Variant Of' in entry:
        raise MetafileError(f'{source}: {name}: a recipe sibling has no Also In (its row has)')


def _validate(entry: dict, source: Path) -> None:
    name = entry.get('Name')
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise MetafileError(f'{source}: model {name!r} lacks {missing}')
    if entry['Task'] not in TASKS:
        raise MetafileError(f'{source}: {name}: Task must be one of {TASKS}')
    if not (ROOT / entry['Config']).is_file():
        raise MetafileError(f'{source}: {name}: config {entry["Config"]} not found')
    if Path(entry['Config']).stem != name:
        raise MetafileError(f'{source}: Name {name!r} must be the config file stem')
    for key in ('Table', 'Row'):
        if key not in entry['Paper']:
            raise MetafileError(f'{source}: {name}: Paper lacks {key}')
    results = entry['Paper'].get('Results') or {}
    if not isinstance(entry['Ours'], list) or not entry['Ours']:
        raise MetafileError(f'{source}: {name}: Ours must be a list of measurements')
    for item in entry['Ours']:
        if not (isinstance(item.get('Input'), list) and len(item['Input']) == 2
                and isinstance(item.get('Num Classes'), int)):
            raise MetafileError(f'{source}: {name}: each Ours item needs Input: [H, W] and '
                                f'Num Classes: N, got {item}')
        for ours, paper in (item.get('Paper Columns') or {}).items():
            if ours not in item or paper not in results:
                raise MetafileError(f'{source}: {name}: Paper Columns maps {ours!r} to '
                                    f'{paper!r}, but one of them is missing')
    for column, reason in (entry.get('Known Gaps') or {}).items():
        if column not in results or not str(reason).strip():
            raise MetafileError(f'{source}: {name}: Known Gap {column!r} needs a printed '
                                'column and a reason')
    _validate_reproduced(entry, source)


def comparisons(entry: dict) -> List[tuple]:
    """(ours key, our value, paper column, paper value, measurement) for each comparison an
    entry declares."""
    results = entry['Paper'].get('Results') or {}
    return [(ours, item[ours], paper, results[paper], item)
            for item in entry['Ours']
            for ours, paper in (item.get('Paper Columns') or {}).items()]


def find(name_or_config: str, models: Optional[List[dict]] = None) -> Optional[dict]:
    """The entry of a config (by path or name), or None."""
    stem = Path(name_or_config).stem
    for entry in models if models is not None else load_models():
        if entry['Name'] == stem:
            return entry
    return None


def by_table(table: str, models: Optional[List[dict]] = None,
             recipes: bool = False) -> List[dict]:
    """Entries of one paper table (e.g. '3', '7', 'Figure 7'), in file order: one per row, and
    with ``recipes`` also the entries listed beside a row (recipe siblings, int8 configs beyond
    the paper; :func:`is_row`)."""
    return [e for e in (models if models is not None else load_models())
            if str(table) in (str(e['Paper']['Table']), *map(str, e['Paper'].get('Also In', [])))
            and (recipes or is_row(e))]


def group_by_table(models: Optional[List[dict]] = None) -> Dict[str, List[dict]]:
    """Entries grouped by their primary table, in file order, recipe siblings included."""
    groups: Dict[str, List[dict]] = {}
    for entry in models if models is not None else load_models():
        groups.setdefault(str(entry['Paper']['Table']), []).append(entry)
    return groups
