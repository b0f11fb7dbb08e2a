"""A tiny mmengine training job used by the compatibility and launcher tests.

    python tests/helpers/toy_train.py WORK_DIR [--epochs N] [--resume] [--launcher pytorch]

It trains a conv + SyncBN + FC model on random data with the runtime settings the OpenMMLab
default runtimes use (nccl backend, checkpoint every epoch), then prints one JSON line per rank
(and writes it to ``WORK_DIR/result_rank<r>.json``):
``{"rank", "world_size", "epoch", "iter", "weights": [sum of each parameter]}``.
"""
import argparse
import json
import os

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

import mnv3_plugin  # noqa: F401  (applies the compatibility fixes)


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.SyncBatchNorm(8)  # as mmseg configs use; must work on CPU DDP
        self.fc = nn.Linear(8, 2)

    def forward(self, inputs, labels, mode='tensor'):
        logits = self.fc(F.relu(self.bn(self.conv(inputs))).mean((2, 3)))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(logits, labels))
        return logits


class ToyData(torch.utils.data.Dataset):

    def __init__(self, n=32):
        g = torch.Generator().manual_seed(0)
        self.x = torch.randn(n, 3, 8, 8, generator=g)
        self.y = (self.x[:, 0].mean((1, 2)) > 0).long()

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return dict(inputs=self.x[i], labels=self.y[i])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('work_dir')
    parser.add_argument('--epochs', type=int, default=2)
    parser.add_argument('--resume', action='store_true')
    parser.add_argument('--launcher', default='none')
    args = parser.parse_args()
    runner = Runner(
        model=ToyModel(),
        work_dir=args.work_dir,
        train_dataloader=dict(dataset=ToyData(), sampler=dict(type='DefaultSampler', shuffle=True),
                              collate_fn=dict(type='default_collate'), batch_size=4,
                              num_workers=0),
        train_cfg=dict(by_epoch=True, max_epochs=args.epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1),
                           logger=dict(type='LoggerHook', interval=1)),
        env_cfg=dict(dist_cfg=dict(backend='nccl')),  # as every OpenMMLab default_runtime.py
        launcher=args.launcher,
        resume=args.resume,
        randomness=dict(seed=0),
    )
    runner.train()
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    from mmengine.dist import get_rank, get_world_size
    result = json.dumps(dict(rank=get_rank(), world_size=get_world_size(), epoch=runner.epoch,
                             iter=runner.iter,
                             weights=[float(p.detach().double().sum())
                                      for p in model.parameters()]))
    print(result, flush=True)
    # ranks share stdout, where their lines can interleave: each also writes its own file
    with open(os.path.join(args.work_dir, f'result_rank{get_rank()}.json'), 'w') as f:
        f.write(result)


if __name__ == '__main__':
    main()
