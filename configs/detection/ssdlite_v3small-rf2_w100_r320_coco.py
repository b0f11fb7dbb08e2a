_base_ = './_base_/ssdlite_r320_coco.py'
# Table 6, V3-Small dagger: RF2, detection rule (C4 stays 288; last stage 48 out, expansions 288,
# C5 288).
model = dict(backbone=dict(arch='small', reduced_tail='detection'))
