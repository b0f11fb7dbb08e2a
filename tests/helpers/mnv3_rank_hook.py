"""A hook for the launcher tests: each rank writes what it holds, so ranks can be compared.

Loaded with ``custom_imports=dict(imports=['mnv3_rank_hook'])`` (tests/helpers on PYTHONPATH;
a unique name because an installed package ships a top-level ``tests`` package). At
``before_train`` (after a resume has loaded) and ``after_train`` it writes
``<work_dir>/rank<r>_<stage>.json``: the iteration, the epoch, the sum of every parameter, of
every state-dict tensor (BN statistics included) and of every optimizer state tensor.
"""
import json
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


def tensor_sums(state) -> list:
    return [float(t.double().sum()) for t in state if torch.is_tensor(t)]


def optimizer_sums(optimizer) -> list:
    sums = []
    for param_state in optimizer.state_dict()['state'].values():
        sums.extend(tensor_sums(param_state[k] for k in sorted(param_state)))
    return sums


@HOOKS.register_module()
class DumpRankStateHook(Hook):
    priority = 'LOWEST'

    def _dump(self, runner, stage):
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        state = dict(rank=get_rank(), iter=runner.iter, epoch=runner.epoch,
                     params=tensor_sums(model.parameters()),
                     state_dict=tensor_sums(model.state_dict().values()),
                     optimizer=optimizer_sums(runner.optim_wrapper.optimizer))
        with open(osp.join(runner.work_dir, f'rank{get_rank()}_{stage}.json'), 'w') as f:
            json.dump(state, f)

    def before_train(self, runner):
        self._dump(runner, 'before_train')

    def after_train(self, runner):
        self._dump(runner, 'after_train')
