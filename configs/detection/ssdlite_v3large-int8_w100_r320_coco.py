# Beyond the paper: Table 6's V3 row (ssdlite_v3large_w100_r320_coco) in int8, by NNCF
# post-training quantization (PTQ) calibrated on 300 images of the row's own train_dataloader.
# The paper gives no quantized detection result; the network, data and evaluation are the
# row's. Run:
#   tools/test.py THIS [FP32_CKPT]                       # PTQ, then COCO mAP
#   tools/deployment/quantize.py THIS FP32_CKPT --shape 320 320    # int8 OpenVINO IR
# QAT instead (no public recipe for this network: choose a short fine-tune, e.g.):
#   tools/train.py THIS --cfg-options quantization.method=qat quantization.by_epoch=True \
#       quantization.freeze_bn_after=4 quantization.freeze_quantizers_after=5 \
#       train_cfg.max_epochs=10 optim_wrapper.optimizer.lr=0.0015
_base_ = './ssdlite_v3large_w100_r320_coco.py'
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], allow_failed_imports=False)
runner_type = 'mnv3_plugin.QuantizationRunner'
quantization = dict(
    method='ptq',
    # the row's fp32 weights where tools/train.py leaves them (120 epochs); an fp32
    # checkpoint given to tools/test.py wins
    checkpoint='work_dirs/ssdlite_v3large_w100_r320_coco/epoch_120.pth',
    calib_dataloader='train_dataloader',
    subset_size=300)
