# Table 7, row 8 (the MobileNetV3-Large segmentation candidate): V3-Large with RF2, LR-ASPP with
# F = 128 filters, output stride 16; 72.36 mIoU on Cityscapes val, 1.51M params, 9.74B MAdds.
# The card's headline config (its name predates the scheme: it is
# lraspp_v3large-rf2_w100_os16_cityscapes). Every other segmentation config states its
# difference from this one.
_base_ = [
    './_base_/models/lraspp_v3large.py', './_base_/datasets/cityscapes_769.py',
    './_base_/schedules/poly_90k.py', 'mmseg::_base_/default_runtime.py'
]
