"""The model index covers every config, and the model zoo page is generated from it."""
import subprocess
import sys
from pathlib import Path

from mnv3_plugin import metafile

ROOT = Path(__file__).resolve().parents[1]


def table_configs():
    """Every config that stands for a paper row (not bases, not the demo)."""
    return sorted(p for task in ('classification', 'detection', 'segmentation')
                  for p in (ROOT / 'configs' / task).glob('*.py'))


def test_every_config_has_exactly_one_entry():
    names = [e['Name'] for e in metafile.load_models()]
    assert len(names) == len(set(names))
    assert {p.stem for p in table_configs()} == set(names)


def test_every_entry_has_paper_numbers_or_says_why():
    for e in metafile.load_models():
        assert e['Paper'].get('Results') or e.get('Notes'), e['Name']


def test_model_zoo_is_up_to_date():
    proc = subprocess.run([sys.executable, 'tools/misc/gen_model_zoo.py', '--check'],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
