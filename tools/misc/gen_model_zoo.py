"""Generate docs/model_zoo.md from configs/metafile.yml.

    python tools/misc/gen_model_zoo.py [--out docs/model_zoo.md] [--check]

--check exits non-zero when the file on disk differs from what would be generated.
"""
import argparse
import sys
from pathlib import Path

from mnv3_plugin import metafile

HEADER = """# Model zoo

Generated from `configs/metafile.yml` by `tools/misc/gen_model_zoo.py`: do not edit by hand.

Every config maps to one row of a table of "Searching for MobileNetV3" (Howard et al., ICCV
2019). "Paper" columns are as printed; "ours" columns are this plugin's counts (params, and
multiply-adds at the input size given), kept equal to the code by the tests. Accuracies cannot
be re-measured here (no ImageNet, COCO or Cityscapes on these machines); the notes say where a
printed number is not reproduced by any released definition, and why.
"""


def fmt(value):
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (list, tuple)):
        return 'x'.join(str(v) for v in value)
    if isinstance(value, dict):
        return ', '.join(f'{k}: {fmt(v)}' for k, v in value.items())
    return str(value)


def table_key(name):
    try:
        return (0, int(name), '')
    except ValueError:
        return (1, 0, name)


def render(models):
    lines = [HEADER]
    groups = metafile.group_by_table(models)
    for table in sorted(groups, key=table_key):
        entries = groups[table]
        title = table if table.startswith('Figure') else f'Table {table}'
        lines.append(f'\n## {title} ({entries[0]["Task"]})\n')
        paper_cols = []
        for e in entries:
            for k in (e['Paper'].get('Results') or {}):
                if k not in paper_cols:
                    paper_cols.append(k)
        ours_cols = []
        for e in entries:
            for k in e['Ours']:
                if k not in ours_cols:
                    ours_cols.append(k)
        head = ['config', 'row'] + [f'paper {c}' for c in paper_cols] + \
            [f'ours {c}' for c in ours_cols]
        lines.append('| ' + ' | '.join(head) + ' |')
        lines.append('|' + '---|' * len(head))
        notes = []
        for e in entries:
            results = e['Paper'].get('Results') or {}
            cells = [f'[{e["Name"]}](../{e["Config"]})', fmt(e['Paper']['Row'])]
            cells += [fmt(results[c]) if c in results else '' for c in paper_cols]
            cells += [fmt(e['Ours'][c]) if c in e['Ours'] else '' for c in ours_cols]
            lines.append('| ' + ' | '.join(cells) + ' |')
            if e.get('Notes'):
                notes.append(f'- `{e["Name"]}`: {" ".join(str(e["Notes"]).split())}')
        if notes:
            lines.append('\nNotes:\n')
            lines.extend(notes)
    return '\n'.join(lines) + '\n'


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', default=str(metafile.ROOT / 'docs' / 'model_zoo.md'))
    parser.add_argument('--check', action='store_true')
    args = parser.parse_args()
    text = render(metafile.load_models())
    out = Path(args.out)
    if args.check:
        if not out.is_file() or out.read_text() != text:
            sys.exit(f'error: {out} is out of date: run python tools/misc/gen_model_zoo.py')
        print(f'{out} is up to date')
        return
    out.write_text(text)
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
