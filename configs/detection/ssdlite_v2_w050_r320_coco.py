_base_ = './_base_/ssdlite_r320_coco.py'
# Table 6, V2 0.5: the TF object detection API's rule for depth multipliers in SSDLite: the
# multiplier also scales the 1280 conv (fix_last_conv=False; the classification models keep it,
# Table 6's params need it scaled) and the extra layers (max(int(depth x 0.5), 16)).
model = dict(
    backbone=dict(type='mnv3_plugin.MobileNetV2', arch='v2', widen_factor=0.5,
                  fix_last_conv=False),
    neck=dict(widen_factor=0.5))
