_base_ = [
    './_base_/models/v3large.py', './_base_/imagenet_inception.py',
    './_base_/schedule_paper.py', 'mmpretrain::_base_/default_runtime.py'
]
# Table 5, h-swish @16, "no-opt" column: h-swish and h-sigmoid computed as separate ops
# (x * relu6(x + 3) / 6) instead of the fused kernel; same function, slower
model = dict(
    backbone=dict(
        nl_layout='hswish@16',
        act_cfg=dict(HS=dict(type='mnv3_plugin.HSwish', fused=False)),
        se_gate_cfg=dict(type='mnv3_plugin.HSigmoid', fused=False)),
    head=dict(act_cfg=dict(type='mnv3_plugin.HSwish', fused=False)))
