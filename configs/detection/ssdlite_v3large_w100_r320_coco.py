# Table 6, V3: MobileNetV3-Large; C4 = the 672-wide expansion of the 13th bneck (20x20 at 320),
# C5 = the 960 conv before pooling. Every other detection config states its difference from it.
_base_ = [
    './_base_/models/ssdlite_v3large.py', './_base_/datasets/coco_ssd320.py',
    './_base_/schedules/ssdlite_600e.py'
]
