"""Generate docs/model_zoo.md from configs/metafile.yml.

    python tools/misc/gen_model_zoo.py [--out docs/model_zoo.md] [--check]

--check exits non-zero when the file on disk differs from what would be generated.
"""
import argparse
import sys
from pathlib import Path

from mnv3_plugin import metafile
from mnv3_plugin.runner_utils import run_cli

HEADER = """# Model zoo

Generated from `configs/metafile.yml` by `tools/misc/gen_model_zoo.py`: do not edit by hand.

Every config maps to one row of a table of "Searching for MobileNetV3" (Howard et al., ICCV
2019). "Paper" columns are as printed; "ours" columns are this plugin's counts, params / MAdds
at the input size (H x W) and class count given, kept equal to the code by the tests
(tests/test_metafile.py). Accuracies cannot be re-measured here (no ImageNet, COCO or Cityscapes
on these machines); "Known gaps" say where a printed number is not reproduced by any released
definition, and why.

## Config names

`{head}[-{head variant}]_{network}[-{variant}]_w{width x 100}_{r{input}|os{stride}}_{dataset}`
(`-{split}` may follow the dataset) in every task: `ssdlite_v3large-rf2_w100_r320_coco` is
SSDLite on V3-Large with RF2 at width 1.0 and input 320;
`lraspp-f256_v2-rf2_w050_os16_cityscapes` is LR-ASPP with 256 filters on V2 with RF2 at width
0.5 and output stride 16; the ImageNet classifier has no head part
(`v3large-relu_w100_r224_imagenet`). RF2 is the variant `-rf2`, Table 5's nonlinearities are
variants (`-relu`, `-hswish16`, `-noopt`). A public reproduction's recipe on a row's network is
a variant naming its source: `-tvrecipe` (torchvision's references), `-timmrecipe` (timm's
documented hparams), `-mmsegrecipe` (mmsegmentation's config); their entries list the row they
train ("recipe of") and the published result, with its source, under "Public recipes". `-int8`
is the row's network quantized to 8 bits (NNCF, `runner_type='mnv3_plugin.QuantizationRunner'`):
Table 4's rows (`v3large-int8_w100_r224_imagenet`, "int8 of" their Table 3 row) and, beyond the
paper, int8 configs listed beside their fp32 row. The
headline config
`lraspp_v3large_os16_cityscapes` keeps the name it was published under (in the scheme:
`lraspp_v3large-rf2_w100_os16_cityscapes`).

Renamed configs (old name: new name):

"""

# Names of earlier releases, for the mapping above; the scheme is the only source of new names.
RENAMED = {
    'v3large_w100_r224_relu_imagenet': 'v3large-relu_w100_r224_imagenet',
    'v3large_w100_r224_hswish16_imagenet': 'v3large-hswish16_w100_r224_imagenet',
    'v3large_w100_r224_hswish112_imagenet': 'v3large-hswish112_w100_r224_imagenet',
    'v3large_w100_r224_noopt_imagenet': 'v3large-noopt_w100_r224_imagenet',
    'v3large_w100_r224_hswish16-noopt_imagenet': 'v3large-hswish16-noopt_w100_r224_imagenet',
    'v3large_w100_r224_hswish112-noopt_imagenet': 'v3large-hswish112-noopt_w100_r224_imagenet',
    'raspp_v2_norf2_f256_os16_cityscapes': 'raspp-f256_v2_w100_os16_cityscapes',
    'raspp_v2_f256_os16_cityscapes': 'raspp-f256_v2-rf2_w100_os16_cityscapes',
    'lraspp_v2_f256_os16_cityscapes': 'lraspp-f256_v2-rf2_w100_os16_cityscapes',
    'lraspp_v2_os16_cityscapes': 'lraspp_v2-rf2_w100_os16_cityscapes',
    'raspp_v3large_norf2_f256_os16_cityscapes': 'raspp-f256_v3large_w100_os16_cityscapes',
    'raspp_v3large_f256_os16_cityscapes': 'raspp-f256_v3large-rf2_w100_os16_cityscapes',
    'lraspp_v3large_f256_os16_cityscapes': 'lraspp-f256_v3large-rf2_w100_os16_cityscapes',
    'lraspp_v2-050_os16_cityscapes': 'lraspp_v2-rf2_w050_os16_cityscapes',
    'lraspp_v2-035_os16_cityscapes': 'lraspp_v2-rf2_w035_os16_cityscapes',
    'lraspp_v3small_os16_cityscapes': 'lraspp_v3small-rf2_w100_os16_cityscapes',
    'lraspp_v3large_os16_cityscapes-test': 'lraspp_v3large-rf2_w100_os16_cityscapes-test',
    'lraspp_v3large_os32_cityscapes-test': 'lraspp_v3large-rf2_w100_os32_cityscapes-test',
    'lraspp_v3small_os16_cityscapes-test': 'lraspp_v3small-rf2_w100_os16_cityscapes-test',
    'lraspp_v3small_os32_cityscapes-test': 'lraspp_v3small-rf2_w100_os32_cityscapes-test',
    'configs/demo/lraspp_v3large_os16_demo': 'configs/demo/lraspp_v3large-rf2_w100_os16_demo',
}


def fmt(value):
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (list, tuple)):
        return 'x'.join(str(v) for v in value)
    return str(value)


def table_key(name):
    try:
        return (0, int(name), '')
    except ValueError:
        return (1, 0, name)


def measurement_label(item, several_class_counts):
    h, w = item['Input']
    return f'{h}x{w}' + (f', {item["Num Classes"]} cls' if several_class_counts else '')


def ours_cells(entry):
    """{column label: 'params / MAdds'} of an entry's measurements."""
    several = len({m['Num Classes'] for m in entry['Ours']}) > 1
    cells = {}
    for m in entry['Ours']:
        madds_key = next(k for k in m if k.startswith('MAdds'))
        unit = madds_key[-2]
        cells[f'ours {measurement_label(m, several)}'] = \
            f'{fmt(m["Params (M)"])}M / {fmt(m[madds_key])}{unit}'
    return cells


def reproduced_line(entry):
    """One line: a recipe sibling's published result beside the paper's, its source and recipe."""
    rep, paper = entry['Reproduced'], entry['Paper'].get('Results') or {}
    published = ', '.join(f'{k} {fmt(v)}' for k, v in rep['Results'].items())
    printed = ', '.join(f'{k} {fmt(paper[k])}' for k in rep['Results'] if k in paper)
    sources = rep['Source'] if isinstance(rep['Source'], list) else [rep['Source']]
    return (f'- `{entry["Name"]}`: **{published}**' + (f' (paper: {printed})' if printed else '')
            + '; source: ' + ', '.join(f'`{s}`' for s in sources)
            + f'; recipe: {" ".join(str(rep["Recipe"]).split())}')


def render(models):
    lines = [HEADER]
    lines += [f'- `{old}`: `{new}`' for old, new in RENAMED.items()]
    groups = metafile.group_by_table(models)
    for table in sorted(groups, key=table_key):
        entries = groups[table]
        title = table if not table[0].isdigit() else f'Table {table}'
        lines.append(f'\n## {title} ({entries[0]["Task"]})\n')
        paper_cols, ours_cols = [], []
        for e in entries:
            for k in (e['Paper'].get('Results') or {}):
                if k not in paper_cols:
                    paper_cols.append(k)
            for k in ours_cells(e):
                if k not in ours_cols:
                    ours_cols.append(k)
        head = ['config', 'row'] + [f'paper {c}' for c in paper_cols] + ours_cols
        lines.append('| ' + ' | '.join(head) + ' |')
        lines.append('|' + '---|' * len(head))
        notes, recipes = [], []
        for e in entries:
            results = e['Paper'].get('Results') or {}
            row = fmt(e['Paper']['Row'])
            if 'Variant Of' in e:
                row += f' (recipe of `{e["Variant Of"]}`)'
            if 'Int8 Of' in e:
                row += (f' (int8 of `{e["Int8 Of"]}`'
                        + (', beyond the paper)' if e.get('Beyond Paper') else ')'))
            cells = [f'[{e["Name"]}](../{e["Config"]})', row]
            # an int8 config beyond the paper has no printed numbers (its row's are fp32)
            shown = {} if e.get('Beyond Paper') else results
            cells += [fmt(shown[c]) if c in shown else '' for c in paper_cols]
            ours = ours_cells(e)
            cells += [ours.get(c, '') for c in ours_cols]
            lines.append('| ' + ' | '.join(cells) + ' |')
            for column, reason in (e.get('Known Gaps') or {}).items():
                reason = ' '.join(str(reason).split())
                notes.append(f'- `{e["Name"]}`, known gap in {column}: {reason}')
            if e.get('Notes'):
                notes.append(f'- `{e["Name"]}`: {" ".join(str(e["Notes"]).split())}')
            if e.get('Reproduced'):
                recipes.append(reproduced_line(e))
        if recipes:
            lines.append('\nPublic recipes (published result, source, recipe):\n')
            lines.extend(recipes)
        if notes:
            lines.append('\nKnown gaps and notes:\n')
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
    run_cli(main)
