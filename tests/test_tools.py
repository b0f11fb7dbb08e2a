"""The tools, run as a user runs them: as subprocesses, checking what they print and write."""
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
HELPERS = ROOT / 'tests' / 'helpers'
sys.path.insert(0, str(HELPERS))
PY = sys.executable
CLS_CFG = ROOT / 'configs/classification/v3small_w035_r224_imagenet.py'


def run(args, timeout=600, **kwargs):
    env = dict(os.environ, PYTHONPATH=str(HELPERS), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, env=env, **kwargs)


def ok(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture(scope='module')
def small_cfg(tmp_path_factory):
    """A user's config on top of a real table row: the fixture data, a 64x64 pipeline, SGD-fast
    schedule, and the rank-state hook the launcher tests read."""
    from mnv3_plugin.testing import fixture_classifier_config, make_imagenet
    tmp = tmp_path_factory.mktemp('tools')
    data = make_imagenet(tmp / 'imagenet', num_train=32, num_val=8, size=(64, 64), seed=2)
    cfg = tmp / 'v3small_fixture.py'
    cfg.write_text(fixture_classifier_config(str(CLS_CFG), data, extra="""
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_rank_hook'],
                      allow_failed_imports=False)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(max_epochs=2, val_interval=1)
custom_hooks = [dict(type='DumpRankStateHook')]
default_hooks = dict(logger=dict(interval=1))
"""))
    return cfg


def test_train_then_test_with_out_and_show_dir(small_cfg, tmp_path):
    out = ok(run([PY, 'tools/train.py', small_cfg, '--work-dir', tmp_path]))
    assert (tmp_path / 'epoch_2.pth').is_file()
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'Epoch(train) [2][4/4]' in log and 'accuracy/top1' in log
    assert json.loads((tmp_path / 'rank0_after_train.json').read_text())['iter'] == 8
    out = ok(run([PY, 'tools/test.py', small_cfg, tmp_path / 'epoch_2.pth', '--work-dir',
                  tmp_path, '--out', tmp_path / 'preds.pkl', '--show-dir', 'vis']))
    assert 'metrics:' in out and 'accuracy/top1' in out
    with open(tmp_path / 'preds.pkl', 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 8 and preds[0]['pred_score'].shape == (4,)
    assert len(list((tmp_path / 'vis').glob('*.png'))) == 8


@pytest.mark.parametrize('config,root,missing,layout', [
    # a Table 3 row with its data root pointed elsewhere
    ('configs/classification/v3large_w100_r224_imagenet.py', '/nonexistent/imagenet',
     '/nonexistent/imagenet/train', 'meta/train.txt'),
    # the card's headline command, as written, on a machine without data/cityscapes
    ('configs/segmentation/lraspp_v3large_os16_cityscapes.py', None,
     'data/cityscapes/leftImg8bit/train', '_gtFine_labelTrainIds.png'),
])
def test_missing_data_root_fails_at_once_with_layout(tmp_path, config, root, missing, layout):
    start = time.monotonic()
    options = ['--cfg-options', f'train_dataloader.dataset.data_root={root}'] if root else []
    # run from an empty directory, where data/cityscapes cannot exist
    proc = subprocess.run(
        [PY, str(ROOT / 'tools/train.py'), str(ROOT / config), '--work-dir', str(tmp_path),
         *options], capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='1'))
    assert proc.returncode != 0
    assert f"'{missing}' does not exist" in proc.stderr
    assert layout in proc.stderr and 'Expected layout' in proc.stderr
    assert 'Traceback' not in proc.stderr
    assert time.monotonic() - start < 60


def test_missing_config_and_checkpoint_are_clear(tmp_path):
    proc = run([PY, 'tools/train.py', 'configs/nope.py'])
    assert proc.returncode != 0 and "config file 'configs/nope.py' not found" in proc.stderr
    proc = run([PY, 'tools/test.py', CLS_CFG, tmp_path / 'none.pth'])
    assert proc.returncode != 0 and 'none.pth' in proc.stderr and 'not found' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_amp_on_cpu_is_refused_clearly(small_cfg, tmp_path):
    proc = run([PY, 'tools/train.py', small_cfg, '--work-dir', tmp_path, '--amp'])
    if torch.cuda.is_available():
        pytest.skip('GPU present')
    assert proc.returncode != 0 and '--amp needs a GPU' in proc.stderr


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_dist_train_two_cpu_processes_identical_weights(small_cfg, tmp_path):
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(small_cfg), '2', '--work-dir', str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env=dict(os.environ, PYTHONPATH=str(HELPERS), OMP_NUM_THREADS='1', PORT=str(_free_port()),
                 PYTHON=PY, CUDA_VISIBLE_DEVICES=''))
    ok(proc)
    ranks = [json.loads((tmp_path / f'rank{r}_after_train.json').read_text()) for r in (0, 1)]
    # 32 images / 2 ranks / batch 8 = 2 iterations per epoch, 2 epochs
    assert [r['iter'] for r in ranks] == [4, 4]
    # DDP keeps the parameters identical (BN statistics stay per rank: broadcast_buffers=False)
    assert ranks[0]['params'] == pytest.approx(ranks[1]['params'], rel=1e-6, abs=1e-6)
    before = json.loads((tmp_path / 'rank0_before_train.json').read_text())
    assert before['params'] != pytest.approx(ranks[0]['params'])  # it trained


@pytest.mark.slow
def test_kill_and_resume_continues_from_last_checkpoint(small_cfg, tmp_path):
    env = dict(os.environ, PYTHONPATH=str(HELPERS), OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES='')
    args = [PY, 'tools/train.py', str(small_cfg), '--work-dir', str(tmp_path),
            '--cfg-options', 'train_cfg.max_epochs=40']
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (tmp_path / 'epoch_2.pth').exists():
            assert proc.poll() is None and time.monotonic() < deadline, 'no checkpoint written'
            time.sleep(0.5)
        time.sleep(1.0)  # let the checkpoint file be complete, then kill mid-training
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    last = Path((tmp_path / 'last_checkpoint').read_text().strip())
    ckpt = torch.load(last, map_location='cpu', weights_only=False)
    epochs_done = ckpt['meta']['epoch']
    assert epochs_done >= 2
    resumed = run(args[:-1] + ['train_cfg.max_epochs=' + str(epochs_done + 1), '--resume'])
    ok(resumed)
    state = json.loads((tmp_path / 'rank0_before_train.json').read_text())
    assert (state['epoch'], state['iter']) == (epochs_done, ckpt['meta']['iter'])
    expected = [float(t.double().sum()) for t in ckpt['state_dict'].values()]
    assert state['state_dict'] == pytest.approx(expected, rel=1e-6, abs=1e-6)
    from mnv3_rank_hook import tensor_sums
    opt_expected = []
    for param_state in ckpt['optimizer']['state'].values():
        opt_expected.extend(tensor_sums(param_state[k] for k in sorted(param_state)))
    assert opt_expected and state['optimizer'] == pytest.approx(opt_expected, rel=1e-6)
    after = json.loads((tmp_path / 'rank0_after_train.json').read_text())
    assert after['iter'] == ckpt['meta']['iter'] + 4  # one more epoch of 4 iterations


def test_complexity_prints_paper_columns():
    out = ok(run([PY, 'tools/analysis/complexity.py', '--table', '3']))
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert len(lines) == 8
    large = lines['v3large_w100_r224_imagenet']
    # ours 5.483M vs the printed 5.4M, 216.6M vs 219M
    assert '5.483' in large and '5.4' in large and '+1.5%' in large
    assert '216.59' in large and '219' in large and '-1.1%' in large
    proc = run([PY, 'tools/analysis/complexity.py', '--table', '42'])
    assert proc.returncode != 0 and 'no config for table' in proc.stderr


def test_latency_tool_measures():
    out = ok(run([PY, 'tools/analysis/latency.py', CLS_CFG, '--shape', '96', '96', '--runs',
                  '3', '--warmup', '1', '--deploy']))
    row = [line for line in out.splitlines() if line.startswith('v3small_w035')][0]
    assert '96x96' in row and float(row.split()[-1]) > 0
    # --cfg-options, which the runtime backends' detector-size error tells users to set
    det = ROOT / 'configs/detection/ssdlite_v3small_w100_r320_coco.py'
    args = [PY, 'tools/analysis/latency.py', det, '--backend', 'onnxruntime', '--shape', '128',
            '128', '--runs', '2', '--warmup', '1']
    proc = run(args)
    assert proc.returncode != 0 and '--cfg-options model.bbox_head.anchor_generator' in proc.stderr
    out = ok(run(args + ['--cfg-options',
                         'model.bbox_head.anchor_generator.input_size=(128, 128)']))
    assert '128x128' in out


def test_plot_frontier_writes_png(tmp_path):
    out = ok(run([PY, 'tools/analysis/plot_frontier.py', '--out', tmp_path / 'f.png']))
    assert 'wrote' in out and '8 configs' in out
    data = (tmp_path / 'f.png').read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 10_000


def test_print_config_resolves_inheritance_and_options(tmp_path):
    out = ok(run([PY, 'tools/misc/print_config.py', CLS_CFG, '--cfg-options',
                  'model.backbone.widen_factor=0.5', '--save-path', tmp_path / 'c.py']))
    assert "type='mnv3_plugin.MobileNetV3'" in out and 'widen_factor=0.5' in out
    assert "type='RMSprop'" in out and "type='EMAHook'" in out  # from the inherited bases
    assert (tmp_path / 'c.py').is_file()


def test_browse_dataset_draws_samples(small_cfg, tmp_path):
    out = ok(run([PY, 'tools/misc/browse_dataset.py', small_cfg, '--output-dir', tmp_path,
                  '--show-number', '3']))
    assert 'wrote 3 images' in out and len(list(tmp_path.glob('*.png'))) == 3


def test_model_converter_cli(tmp_path):
    import torchvision

    from mnv3_plugin.converters import convert_torchvision
    tv = torchvision.models.mobilenet_v3_small(weights=None)
    torch.save(tv.state_dict(), tmp_path / 'tv.pth')
    out = ok(run([PY, 'tools/model_converters/torchvision2mnv3.py', tmp_path / 'tv.pth',
                  tmp_path / 'ours.pth']))
    assert 'converted 244 tensors' in out
    # the options the weights need, as a backbone config would state them
    assert "build the backbone as MobileNetV3(arch='small', widen_factor=1.0" in out
    assert "width_rule='torchvision'" in out.split('build the backbone as')[1]
    converted = torch.load(tmp_path / 'ours.pth', weights_only=False)['state_dict']
    expected = convert_torchvision(tv.state_dict())
    assert converted.keys() == expected.keys()
    proc = run([PY, 'tools/model_converters/timm2mnv3.py', tmp_path / 'missing.pth',
                tmp_path / 'x.pth'])
    assert proc.returncode != 0 and 'not found' in proc.stderr
    # timm: what the weights cannot tell (TF SAME padding of the tf_ ports) is said too
    import timm
    torch.save(timm.create_model('tf_mobilenetv3_small_075', pretrained=False).state_dict(),
               tmp_path / 'tf.pth')
    out = ok(run([PY, 'tools/model_converters/timm2mnv3.py', tmp_path / 'tf.pth',
                  tmp_path / 'tf_ours.pth']))
    assert "MobileNetV3(arch='small', widen_factor=0.75" in out and "padding='same'" in out


@pytest.mark.slow
def test_headline_command_starts_training(cityscapes_root, tmp_path):
    """`python tools/train.py configs/segmentation/lraspp_v3large_os16_cityscapes.py`, with
    Cityscapes-format data under the config's data root (data/cityscapes/); shortened to one
    iteration of one crop with --cfg-options."""
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'cityscapes').symlink_to(cityscapes_root)
    (tmp_path / 'configs').symlink_to(ROOT / 'configs')
    proc = subprocess.run(
        [PY, str(ROOT / 'tools/train.py'), 'configs/segmentation/lraspp_v3large_os16_cityscapes.py',
         '--cfg-options', 'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'train_cfg.max_iters=1',
         'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
         'default_hooks.logger.interval=1'],
        capture_output=True, text=True, cwd=tmp_path, timeout=600,
        env=dict(os.environ, OMP_NUM_THREADS='2'))
    ok(proc)
    work_dir = tmp_path / 'work_dirs' / 'lraspp_v3large_os16_cityscapes'
    log = next(work_dir.glob('*/*.log')).read_text()
    assert 'Iter(train) [1/1]' in log and 'loss:' in log and 'mIoU' in log
    assert (work_dir / 'iter_1.pth').is_file()


@pytest.mark.slow
def test_demo_runs_end_to_end_shortened(tmp_path):
    """The main job's script (run for real by .ci/run), here with 2 iterations: it writes the
    demo data, evaluates before and after training, and saves prediction overlays."""
    out = ok(run([PY, 'tools/run_demo.py', '--iters', '2', '--work-dir', tmp_path / 'work',
                  '--data-root', tmp_path / 'data']))
    assert (tmp_path / 'data' / 'leftImg8bit' / 'train').is_dir()
    assert 'mIoU untrained:' in out and 'mIoU trained:' in out
    vis = Path(out.split('prediction overlays: ')[1].split()[0])
    # every one of the 20 val images drawn before training (step 0) and after it (step 2)
    drawn = {}
    for p in vis.glob('*.png'):
        image, step = p.stem.rsplit('_', 1)
        drawn.setdefault(image, set()).add(int(step))
    assert len(drawn) == 20
    assert all(steps == {0, 2} for steps in drawn.values())
