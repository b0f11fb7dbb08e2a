# Table 6, V3 dagger: channels between C4 and C5 halved (Section 6.3), the detection rule of the
# TF release: C4 stays the 672 expansion, the last stage outputs 80, its expansions 480, C5 480.
_base_ = './ssdlite_v3large_w100_r320_coco.py'
model = dict(backbone=dict(reduced_tail='detection'))
