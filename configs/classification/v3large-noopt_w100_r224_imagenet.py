# Table 5, V3-Large 1.0, "no-opt" column: h-swish and h-sigmoid computed as separate ops
# (x * relu6(x + 3) / 6) instead of the fused kernel; same function, slower.
_base_ = './v3large_w100_r224_imagenet.py'
model = dict(
    backbone=dict(
        act_cfg=dict(HS=dict(type='mnv3_plugin.HSwish', fused=False)),
        se_gate_cfg=dict(type='mnv3_plugin.HSigmoid', fused=False)),
    head=dict(act_cfg=dict(type='mnv3_plugin.HSwish', fused=False)))
