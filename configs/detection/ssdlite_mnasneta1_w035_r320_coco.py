# Table 6, MnasNet 0.35: MnasNet-A1 at width 0.35, with the V2 rows' depth-multiplier rule.
_base_ = './ssdlite_mnasneta1_w100_r320_coco.py'
model = dict(backbone=dict(widen_factor=0.35))
