_base_ = './v3large_w100_r224_imagenet.py'
# Section 5.1 ablation: the original (MobileNetV2 / MnasNet-A1 style) last stage of Figure 5
# instead of the efficient one. After the last bneck (160), one more bottleneck (1x1 160->960,
# 3x3 depthwise, 1x1 projection 960->320) and a 1x1 conv 320->1280 at 7x7, then the pool and a
# single FC to the classes. The paper: the efficient stage saves about 30M MAdds and 7 ms (11%).
model = dict(
    backbone=dict(last_stage='original'),
    # pool -> FC (MobileNetV2's classifier): no conv after the pool; its input width is the
    # backbone's 1280 conv, wired
    head=dict(_delete_=True, type='LinearClsHead', num_classes=1000, topk=(1, 5)))
