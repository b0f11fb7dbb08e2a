# Table 6, V2 0.35: the multiplier scales the 1280 conv and the extra layers too
# (max(int(depth x 0.35), 16)), the TF object detection API's rule; Table 6's params need it.
_base_ = './ssdlite_v2_w100_r320_coco.py'
model = dict(backbone=dict(widen_factor=0.35))
