# Table 3, V2 1.0 (Sandler et al.): the 1280 conv is the table's last row, then one FC. Trained
# with the same recipe as the V3 rows, as the paper compares them in Table 3.
_base_ = './v3large_w100_r224_imagenet.py'
model = dict(
    backbone=dict(type='mnv3_plugin.MobileNetV2', arch='v2'),
    head=dict(_delete_=True, type='LinearClsHead', num_classes=1000, topk=(1, 5)))
