# Table 6, V3: MobileNetV3-Large; C4 = the 672-wide expansion of the 13th bneck (20x20 at 320),
# C5 = the 960 conv before pooling. The base is this row.
_base_ = './_base_/ssdlite_r320_coco.py'
