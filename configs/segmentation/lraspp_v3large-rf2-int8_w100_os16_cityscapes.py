# Beyond the paper: Table 7 row 8 (lraspp_v3large_os16_cityscapes, the headline config) in int8,
# by NNCF post-training quantization (PTQ) calibrated on 300 crops of the row's own
# train_dataloader. The paper gives no quantized segmentation result; the network, data and
# evaluation are the row's. Run:
#   tools/test.py THIS [FP32_CKPT]                       # PTQ, then Cityscapes val mIoU
#   tools/deployment/quantize.py THIS FP32_CKPT --shape 1024 2048   # int8 OpenVINO IR
# QAT instead (no public recipe for this network: choose a short fine-tune, e.g.):
#   tools/train.py THIS --cfg-options quantization.method=qat quantization.freeze_bn_after=0 \
#       train_cfg.max_iters=9000 param_scheduler.0.end=9000 optim_wrapper.optimizer.lr=0.001
# (counts in iterations: this row trains with mmengine's IterBasedTrainLoop).
_base_ = './lraspp_v3large_os16_cityscapes.py'
custom_imports = dict(imports=['mnv3_plugin', 'mnv3_plugin.deploy'], allow_failed_imports=False)
runner_type = 'mnv3_plugin.QuantizationRunner'
quantization = dict(
    method='ptq',
    # the row's fp32 weights where tools/train.py leaves them (90k iterations); an fp32
    # checkpoint given to tools/test.py wins
    checkpoint='work_dirs/lraspp_v3large_os16_cityscapes/iter_90000.pth',
    calib_dataloader='train_dataloader',
    subset_size=300)
