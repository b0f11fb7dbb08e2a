# Table 6, V3-Small dagger: RF2, detection rule (C4 stays 288; last stage 48 out, expansions 288,
# C5 288).
_base_ = './ssdlite_v3small_w100_r320_coco.py'
model = dict(backbone=dict(reduced_tail='detection'))
