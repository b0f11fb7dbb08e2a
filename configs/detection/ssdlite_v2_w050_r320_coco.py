# Table 6, V2 0.5: as V2 0.35 at multiplier 0.5.
_base_ = './ssdlite_v2_w100_r320_coco.py'
model = dict(backbone=dict(widen_factor=0.5))
