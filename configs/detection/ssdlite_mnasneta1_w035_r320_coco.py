_base_ = './_base_/ssdlite_r320_coco.py'
# Table 6, MnasNet 0.35: MnasNet-A1 at width 0.35, with the same depth-multiplier rule as the V2
# rows (the 1280 conv and the extra layers scale too; Table 6's params need it).
model = dict(
    backbone=dict(type='mnv3_plugin.MnasNet', arch='a1', widen_factor=0.35,
                  fix_last_conv=False),
    neck=dict(widen_factor=0.35))
