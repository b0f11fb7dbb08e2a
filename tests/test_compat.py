"""Each fix of mnv3_plugin.compat works, and the bug it fixes is real (fails with it disabled)."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import mnv3_plugin
from mnv3_plugin import compat

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / 'tests' / 'helpers' / 'toy_train.py')


def run(args, disable='', timeout=300, **kwargs):
    env = dict(os.environ, MNV3_PLUGIN_DISABLE_FIXES=disable, CUDA_VISIBLE_DEVICES='',
               OMP_NUM_THREADS='1')
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, **kwargs)


def results(proc):
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{')]


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


IMPORT_ONLY = """
import sys, mnv3_plugin
from mnv3_plugin import compat
print('hosts', [h for h in ('mmpretrain', 'mmdet', 'mmseg') if h in sys.modules])
print('applied', sorted(compat.APPLIED))
import mmdet.models
print('after mmdet', sorted(compat.APPLIED))
"""


def test_each_fix_is_applied_when_its_host_is_used():
    """Importing the plugin applies the mmengine fixes and imports no host; mmdet's fix follows
    mmdet's import (README: what importing the plugin changes)."""
    proc = run([sys.executable, '-c', IMPORT_ONLY])
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = dict(line.split(' ', 1) if not line.startswith('after') else ('after', line[12:])
                 for line in proc.stdout.splitlines())
    engine = sorted(n for n, host in compat.HOST_OF.items() if host == 'mmengine')
    assert lines['hosts'] == '[]'
    assert lines['applied'] == str(engine)
    assert lines['after'] == str(sorted(compat.FIXES))
    assert mnv3_plugin.compat is compat


def test_unknown_fix_name_is_an_error():
    proc = run([sys.executable, '-c', 'import mnv3_plugin'], disable='no_such_fix')
    assert proc.returncode != 0
    assert 'unknown fixes' in proc.stderr and 'checkpoint_weights_only' in proc.stderr


def test_mmcv_ops_nms_on_cpu():
    from mmcv.ops import nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.], [20., 20., 30., 30.]])
    scores = torch.tensor([0.9, 0.8, 0.7])
    dets, keep = nms(boxes, scores, iou_threshold=0.5)
    # boxes 0 and 1 overlap with IoU 81/119 = 0.68 > 0.5: the lower-scored one is suppressed
    assert keep.tolist() == [0, 2]
    torch.testing.assert_close(dets[:, 4], torch.tensor([0.9, 0.7]))
    _, keep = nms(boxes, scores, iou_threshold=0.7)
    assert keep.tolist() == [0, 1, 2]


@pytest.mark.parametrize('disable', ['', 'checkpoint_weights_only'])
def test_resume_under_torch_2_6_plus(tmp_path, disable):
    first = run([sys.executable, TOY, str(tmp_path), '--epochs', '1'])
    assert results(first)[0]['iter'] == 8
    assert (tmp_path / 'epoch_1.pth').is_file()
    resumed = run([sys.executable, TOY, str(tmp_path), '--epochs', '2', '--resume'],
                  disable=disable)
    if disable:
        assert resumed.returncode != 0
        assert 'weights_only' in resumed.stderr and 'HistoryBuffer' in resumed.stderr
    else:
        out = results(resumed)[0]
        assert 'resumed epoch: 1, iter: 8' in resumed.stdout + resumed.stderr
        assert (out['epoch'], out['iter']) == (2, 16)


def test_load_from_local_checkpoint(tmp_path):
    from mmengine.logging import HistoryBuffer
    from mmengine.runner import load_checkpoint
    path = tmp_path / 'ckpt.pth'
    model = torch.nn.Linear(2, 2)
    torch.save(dict(state_dict=model.state_dict(), message_hub=HistoryBuffer()), path)
    other = torch.nn.Linear(2, 2)
    load_checkpoint(other, str(path))
    torch.testing.assert_close(other.weight, model.weight)


def torchrun(tmp_path, disable=''):
    return run([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node', '2',
                '--master_port', str(free_port()), TOY, str(tmp_path), '--epochs', '1',
                '--launcher', 'pytorch'], disable=disable)


@pytest.mark.slow
def test_torchrun_two_cpu_processes(tmp_path):
    proc = torchrun(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # read each rank's own file: the two processes' stdout lines can interleave
    outs = [json.loads((tmp_path / f'result_rank{r}.json').read_text()) for r in (0, 1)]
    assert [(r['rank'], r['world_size']) for r in outs] == [(0, 2), (1, 2)]
    # 32 samples / 2 ranks / batch 4 = 4 iterations; DDP keeps the replicas identical
    assert all(r['iter'] == 4 for r in outs)
    assert outs[0]['weights'] == pytest.approx(outs[1]['weights'], rel=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('fix,message', [
    ('dist_cpu_init', 'NVIDIA driver'),
    ('ddp_cpu_module', 'device_ids'),
])
def test_torchrun_fails_without_fix(tmp_path, fix, message):
    proc = torchrun(tmp_path, disable=fix)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr


STRICT_LOAD = """
import sys, torch, mnv3_plugin
from mmengine.runner.checkpoint import load_checkpoint
from mnv3_plugin.models.backbones import MobileNetV3
model = MobileNetV3('small', widen_factor=0.35)
state = model.state_dict()
state['head.fc.weight'] = torch.zeros(2, 2)  # another model's key
torch.save(dict(state_dict=state), sys.argv[1])
try:
    load_checkpoint(model, sys.argv[1])
    print('loaded')
except Exception as e:
    print(type(e).__name__, e)
"""


@pytest.mark.parametrize('disable', ['', 'strict_checkpoint'])
def test_mismatched_checkpoint_is_an_error(tmp_path, disable):
    """mmengine logs the unexpected key and goes on; with the fix the load fails (one line)."""
    proc = run([sys.executable, '-c', STRICT_LOAD, str(tmp_path / 'c.pth')], disable=disable)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    if disable:
        assert last == 'loaded' and 'unexpected key in source state_dict' in proc.stdout
    else:
        assert last.startswith('CheckpointMismatchError')
        assert '1 unexpected keys (head.fc.weight)' in last


SSD_HEAD = dict(
    type='SSDHead', in_channels=(8, 8, 8), num_classes=3, stacked_convs=0,
    anchor_generator=dict(type='SSDAnchorGenerator', scale_major=False, input_size=64,
                          min_sizes=[8, 16, 32], max_sizes=[16, 32, 64], strides=[8, 16, 32],
                          ratios=[[2], [2], [2]]),
    bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0., 0., 0., 0.],
                    target_stds=[0.1, 0.1, 0.2, 0.2]),
    test_cfg=dict(nms_pre=100, nms=dict(type='nms', iou_threshold=0.45), min_bbox_size=0,
                  score_thr=0.0, max_per_img=10))

SSD_PREDICT = f"""
import torch, mnv3_plugin
from mmdet.registry import MODELS
from mmdet.utils import register_all_modules
register_all_modules()
from mmengine.config import ConfigDict
head = MODELS.build(ConfigDict({SSD_HEAD!r})).eval()
feats = (torch.randn(1, 8, 8, 8), torch.randn(1, 8, 4, 4), torch.randn(1, 8, 2, 2))
cls_scores, bbox_preds = head(feats)
out = head.predict_by_feat(cls_scores, bbox_preds, rescale=False, batch_img_metas=[
    dict(img_shape=(64, 64), ori_shape=(64, 64), scale_factor=(1., 1.))])
print('boxes', len(out[0].bboxes), 'labels_ok', bool((out[0].labels < 3).all()))
"""


@pytest.mark.parametrize('disable', ['', 'ssd_head_loss_cls'])
def test_ssd_head_predicts(disable):
    proc = run([sys.executable, '-c', SSD_PREDICT], disable=disable)
    if disable:
        assert proc.returncode != 0
        assert "'SSDHead' object has no attribute 'loss_cls'" in proc.stderr
    else:
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert 'boxes 10 labels_ok True' in proc.stdout


@pytest.mark.parametrize('disable', ['', 'torchao_enum_pytree'])
def test_torchao_import_logs_no_enum_deprecation(disable):
    """torchao registers its KernelPreference enum as a pytree constant, which torch 2.14 logs
    as deprecated on every import (the int8 tools import torchao first thing)."""
    proc = run([sys.executable, '-W', 'ignore', '-c',
                'import mnv3_plugin, nncf.torch, torchao, torch.utils._pytree as p, enum\n'
                'class Mine(enum.Enum):\n    A = 1\n'
                'p.log.warning("%s is an Enum subclass, not torchao\'s", Mine)'],
               disable=disable)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert ("<enum 'KernelPreference'> is an Enum subclass" in proc.stderr) == bool(disable)
    # the filter drops torchao's record only: the same message about another enum still shows
    assert "<enum 'Mine'> is an Enum subclass, not torchao's" in proc.stderr
